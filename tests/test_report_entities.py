"""Issue 9 (store): agencies as entities, reports by entity × year, no stale versions, one key
scheme. Versions go in through the store's own functions (as the crawl writes them) on SQLite
and PostgreSQL, and the researcher views are read back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database, upgrade
from gxcrawl.store.models import Agency, ParsedReport

YICHUN, GUANGZHOU, CONGHUA = "360900", "440100", "440117"
PORTALS = [
    {"id": "jx-yc", "name": "宜春市人民政府", "region_code": YICHUN},
    {"id": "gd-gz", "name": "广州市人民政府", "region_code": GUANGZHOU},
    {"id": "gd-ch", "name": "广州市从化区人民政府", "region_code": CONGHUA},
]


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    database = Database(any_db_url)
    with database.transaction() as s:
        repo.upsert_portals(s, PORTALS)
    yield database
    database.close()


@dataclass(frozen=True)
class Version:
    snapshot_id: int
    document_id: int


def store_version(
    s: Session, url: str, body: bytes, portal: str, kind: str = "report", parent: str | None = None
) -> Version:
    """A fetched response stored as the crawl stores it (a new body = a new version)."""
    rec = repo.FetchRecord(
        url=url, kind=kind, status=200, headers={"Content-Type": "text/html"}, body=body,
        body_size=len(body), portal_id=portal, parent_url=parent,
    )  # fmt: skip
    stored = repo.record_fetch(s, rec, run_id=None, recheck_after=None)
    assert stored.snapshot_id is not None
    return Version(stored.snapshot_id, stored.document_id)


def save_report(
    s: Session,
    v: Version,
    url: str,
    portal: str,
    *,
    agency: str | None,
    year: int | None = 2022,
    facts: list[dict[str, Any]] | None = None,
    source_kind: str = "html",
    **fields: Any,
) -> int:
    values = {"title": f"{agency}{year}年政府信息公开工作年度报告", "agency": agency, "year": year}
    return repo.save_parsed_report(
        s, snapshot_id=v.snapshot_id, document_id=v.document_id, url=url, portal_id=portal,
        fields={**values, "text": f"{agency} {year} 正文", **fields}, facts=facts or [],
        findings=[], source_kind=source_kind, parser_version="test",
    )  # fmt: skip


def rows(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    with db.transaction() as s:
        return [dict(r) for r in s.execute(text(sql), params).mappings()]


def publish(db: Database, url: str, portal: str, body: bytes = b"v1", **kw: Any) -> Version:
    with db.transaction() as s:
        v = store_version(s, url, body, portal)
        save_report(s, v, url, portal, **kw)
    return v


def test_same_named_bureaus_of_two_cities_are_two_reports(db: Database) -> None:
    publish(db, "http://yc.example/czj.html", "jx-yc", agency="市财政局")
    publish(db, "http://gz.example/czj.html", "gd-gz", agency="市财政局")
    got = rows(db, "SELECT agency_name, agency_type, prefecture_name, n_copies FROM reports")
    assert sorted((r["agency_name"], r["agency_type"], r["prefecture_name"]) for r in got) == [
        ("宜春市财政局", "department", "宜春市"),
        ("广州市财政局", "department", "广州市"),
    ]
    assert {r["n_copies"] for r in got} == {1}


def test_printed_variants_of_one_agency_are_one_entity_and_copies_collapse(db: Database) -> None:
    page = publish(db, "http://ch.example/wq.html", "gd-ch", agency="从化区温泉镇")
    publish(db, "http://gz.example/wq.html", "gd-gz", agency="广州市从化区温泉镇人民政府")
    with db.transaction() as s:  # the page's PDF, a file copy of the same report
        pdf = store_version(s, "http://ch.example/wq.pdf", b"%PDF", "gd-ch", "attachment",
                            parent="http://ch.example/wq.html")  # fmt: skip
        save_report(s, pdf, "http://ch.example/wq.pdf", "gd-ch", agency="温泉镇人民政府",
                    source_kind="attachment")  # fmt: skip
    publish(db, "http://ch.example/wq21.html", "gd-ch", agency="温泉镇政府", year=2021)
    with db.transaction() as s:
        agencies = s.scalars(select(Agency)).all()
    assert [(a.name, a.type, a.region_code, a.county_name) for a in agencies] == [
        ("从化区温泉镇人民政府", "township", CONGHUA, "从化区")
    ]
    reports = rows(db, "SELECT url, year, n_copies FROM reports ORDER BY year")
    assert [(r["year"], r["n_copies"]) for r in reports] == [(2021, 1), (2022, 3)]
    assert reports[1]["url"].endswith(".html"), "a live HTML page before the file"
    assert page.document_id != pdf.document_id


def test_reports_without_agency_or_year_never_merge(db: Database) -> None:
    publish(db, "http://yc.example/a.html", "jx-yc", agency=None)
    publish(db, "http://yc.example/b.html", "jx-yc", agency=None)
    publish(db, "http://yc.example/c.html", "jx-yc", agency="市财政局", year=None)
    publish(db, "http://yc.example/d.html", "jx-yc", agency="市财政局", year=None)
    got = rows(db, "SELECT url, n_copies FROM reports")
    assert len(got) == 4 and {r["n_copies"] for r in got} == {1}


def test_an_agency_not_named_in_the_title_never_hides_another_report(db: Database) -> None:
    # A department's report filed under its government: no agency in the title, the
    # government's name taken from 发布单位. It must not collapse into the government's report.
    publish(db, "http://ch.example/zf.html", "gd-ch", agency="从化区人民政府")
    publish(db, "http://ch.example/sfj.html", "gd-ch", agency="广州市从化区人民政府",
            title="2022年政府信息公开工作年度报告")  # fmt: skip
    got = rows(db, "SELECT url, agency_name, agency_in_title, n_copies FROM reports ORDER BY url")
    assert [tuple(r.values()) for r in got] == [
        ("http://ch.example/sfj.html", "从化区人民政府", 0, 1),
        ("http://ch.example/zf.html", "从化区人民政府", 1, 1),
    ]


def test_a_report_revised_in_place_shows_the_revision(db: Database) -> None:
    url = "http://yc.example/r.html"
    old = publish(db, url, "jx-yc", agency="市财政局", body=b"v1", doc_no="旧")
    new = publish(db, url, "jx-yc", agency="市财政局", body=b"v2", doc_no="新")
    current = rows(db, "SELECT snapshot_id, doc_no, version, version_status FROM reports")
    assert current == [
        {"snapshot_id": new.snapshot_id, "doc_no": "新", "version": 2, "version_status": "current"}
    ]
    edits = rows(db, "SELECT old_snapshot_id, new_snapshot_id FROM report_edits")
    assert edits == [{"old_snapshot_id": old.snapshot_id, "new_snapshot_id": new.snapshot_id}]
    history = rows(
        db, "SELECT kind, from_version, to_version FROM report_changes ORDER BY change_id"
    )
    assert [(h["kind"], h["to_version"]) for h in history] == [("new", 1), ("edited", 2)]


@pytest.mark.parametrize("kind", [repo.NO_LONGER_REPORT, repo.PARSE_FAILED])
def test_a_new_version_that_is_no_report_is_a_recorded_change(db: Database, kind: str) -> None:
    url = "http://yc.example/r.html"
    first = publish(db, url, "jx-yc", agency="市财政局")
    with db.transaction() as s:
        second = store_version(s, url, b"v2", "jx-yc")
        assert repo.record_unparsed_version(s, snapshot_id=second.snapshot_id, kind=kind,
                                            reason="title: 关于征集意见的通知")  # fmt: skip
        # a reparse gives the same verdict again: still one change
        assert repo.record_unparsed_version(s, snapshot_id=second.snapshot_id, kind=kind,
                                            reason="title: 关于征集意见的通知")  # fmt: skip
    shown = rows(db, "SELECT snapshot_id, version_status FROM report_documents")
    assert shown == [{"snapshot_id": first.snapshot_id, "version_status": kind}]
    assert rows(db, "SELECT version_status FROM reports") == [{"version_status": kind}]
    changes = rows(
        db, "SELECT kind, detail, from_snapshot_id, to_snapshot_id FROM report_changes"
        " WHERE kind = :k", k=kind,
    )  # fmt: skip
    assert changes == [
        {"kind": kind, "detail": "title: 关于征集意见的通知",
         "from_snapshot_id": first.snapshot_id, "to_snapshot_id": second.snapshot_id}
    ]  # fmt: skip


def test_a_later_successful_parse_clears_the_verdict(db: Database) -> None:
    url = "http://yc.example/r.html"
    publish(db, url, "jx-yc", agency="市财政局")
    with db.transaction() as s:
        second = store_version(s, url, b"v2", "jx-yc")
        repo.record_unparsed_version(
            s, snapshot_id=second.snapshot_id, kind=repo.PARSE_FAILED, reason="ValueError: x"
        )
    with db.transaction() as s:  # `scrapy reparse` with a fixed parser
        save_report(s, second, url, "jx-yc", agency="市财政局", doc_no="修订")
    shown = rows(db, "SELECT snapshot_id, doc_no, version_status FROM report_documents")
    assert shown == [
        {"snapshot_id": second.snapshot_id, "doc_no": "修订", "version_status": "current"}
    ]
    assert not rows(db, "SELECT * FROM report_changes WHERE kind = 'parse_failed'")


def test_nothing_is_recorded_for_a_document_that_never_was_a_report(db: Database) -> None:
    with db.transaction() as s:
        v1 = store_version(s, "http://yc.example/n.html", b"v1", "jx-yc")
        v2 = store_version(s, "http://yc.example/n.html", b"v2", "jx-yc")
        for v in (v1, v2):
            assert not repo.record_unparsed_version(
                s, snapshot_id=v.snapshot_id, kind=repo.NO_LONGER_REPORT, reason="not a report"
            )
    assert not rows(db, "SELECT * FROM changes WHERE kind = 'no_longer_report'")


def test_an_unparsed_newest_version_is_not_shown_as_current(db: Database) -> None:
    url = "http://yc.example/r.html"
    publish(db, url, "jx-yc", agency="市财政局")
    with db.transaction() as s:
        store_version(s, url, b"v2", "jx-yc")  # stored, not extracted yet
    assert rows(db, "SELECT version_status FROM reports") == [{"version_status": "not_parsed"}]


def test_old_application_keys_are_stored_in_the_one_scheme(db: Database) -> None:
    facts = [
        {"table": "applications", "row_key": "new_received", "column_key": old, "value": n}
        for old, n in (("natural_person", 3), ("legal.public_interest", 1), ("total", 4))
    ]
    publish(db, "http://yc.example/r.html", "jx-yc", agency="市财政局", facts=facts)
    long = rows(db, "SELECT column_key, value FROM report_facts ORDER BY column_key")
    assert [(r["column_key"], r["value"]) for r in long] == [
        ("ngo", 1),
        ("person", 3),
        ("total", 4),
    ]
    wide = rows(
        db, "SELECT new_received__person, new_received__ngo, new_received__total,"
        " new_received__business FROM application_table",
    )  # fmt: skip
    assert [tuple(r.values()) for r in wide] == [(3, 1, 4, None)]


def test_appeals_table_is_wide_in_the_same_scheme(db: Database) -> None:
    facts = [{"table": "appeals", "row_key": "cases", "column_key": "review.upheld", "value": 2}]
    publish(db, "http://yc.example/r.html", "jx-yc", agency="市财政局", facts=facts)
    wide = rows(db, "SELECT cases__review_upheld, cases__review_total FROM appeals_table")
    assert [tuple(r.values()) for r in wide] == [(2, None)]


def test_source_and_file_html_are_kept(db: Database) -> None:
    publish(db, "http://yc.example/r.html", "jx-yc", agency="市财政局", source="宜春市财政局")
    with db.transaction() as s:
        f = store_version(s, "http://yc.example/r.docx", b"PK", "jx-yc", "attachment",
                          parent="http://yc.example/r.html")  # fmt: skip
        repo.save_attachment_text(
            s, snapshot_id=f.snapshot_id, file_kind="docx", text="正文", flags=[],
            parser_version="test", html="<table><tr><td>1</td></tr></table>",
        )  # fmt: skip
        page_doc = s.scalar(select(ParsedReport.document_id))
        assert page_doc is not None
        linked = repo.attachment_texts_of(s, page_doc)
    assert linked == [repo.LinkedFileText("正文", "<table><tr><td>1</td></tr></table>")]
    assert rows(db, "SELECT source FROM reports") == [{"source": "宜春市财政局"}]


def test_the_index_number_region_refines_the_portal_region(db: Database) -> None:
    # A 广州 portal listing a district's report: its 索引号 says 从化区, so 区财政局 is 从化's.
    publish(db, "http://gz.example/q.html", "gd-gz", agency="区财政局", region_code=CONGHUA)
    # A code outside the portal's region is not trusted for the relative name.
    publish(db, "http://gz.example/s.html", "gd-gz", agency="市财政局", region_code=YICHUN)
    got = rows(db, "SELECT agency_name, agency_region_code FROM reports ORDER BY agency_name")
    assert [(r["agency_name"], r["agency_region_code"]) for r in got] == [
        ("从化区财政局", CONGHUA),
        ("广州市财政局", GUANGZHOU),
    ]


def test_migration_links_stored_reports_and_renames_old_keys(sqlite_url: str) -> None:
    upgrade(sqlite_url, "0002")
    database = Database(sqlite_url, migrate=False)
    with database.transaction() as s:
        s.execute(
            text(
                "INSERT INTO portals (id, name, region_code, selectors, updated_at)"
                " VALUES ('jx-yc', '宜春市人民政府', '360900', '{}', '2026-01-01')"
            )
        )
        v = store_version(s, "http://yc.example/r.html", b"v1", "jx-yc")
        s.execute(
            text(
                "INSERT INTO parsed_reports (id, snapshot_id, document_id, url, portal_id, agency,"
                " year, text, flags, removed, source_kind, parser_version, parsed_at) VALUES"
                " (1, :s, :d, 'http://yc.example/r.html', 'jx-yc', '市财政局', 2022, '', '[]',"
                " '[]', 'html', 'old', '2026-01-01')"
            ),
            {"s": v.snapshot_id, "d": v.document_id},
        )
        s.execute(text("INSERT INTO facts (parsed_report_id, template, table_key, row_key,"
                       " column_key, value, status) VALUES (1, 'gb2021', 'applications',"
                       " 'new_received', 'natural_person', 5, 'ok')"))  # fmt: skip
    database.close()
    upgrade(sqlite_url)
    database = Database(sqlite_url)
    got = rows(database, "SELECT agency, agency_name, agency_type FROM reports")
    assert got == [
        {"agency": "市财政局", "agency_name": "宜春市财政局", "agency_type": "department"}
    ]
    wide = rows(database, "SELECT new_received__person FROM application_table")
    assert wide == [{"new_received__person": 5}]
    database.close()


def test_downgrade_and_upgrade_again_keep_the_facts(any_db_url: str) -> None:
    from alembic import command

    from gxcrawl.store.db import alembic_config

    database = Database(any_db_url)
    with database.transaction() as s:
        repo.upsert_portals(s, PORTALS)
    facts = [
        {"table": "applications", "row_key": "new_received", "column_key": "total", "value": 7}
    ]
    publish(database, "http://yc.example/r.html", "jx-yc", agency="市财政局", facts=facts)
    database.close()
    command.downgrade(alembic_config(any_db_url), "0002")
    upgrade(any_db_url)
    database = Database(any_db_url)
    got = rows(database, "SELECT agency_name, new_received__total FROM application_table")
    assert got == [{"agency_name": "宜春市财政局", "new_received__total": 7}]
    database.close()


# --- the same, end to end through the crawl's ingest path (real pages, real extraction) -------

REVISION_PAGE = """<html><head><title>{title}</title></head><body>
<div class="TRS_Editor"><p>{title}</p><p>一、总体情况</p>
<p>本年度宜春市财政局主动公开政府信息{n}条，{note}。</p><p>宜春市财政局</p><p>2023年1月20日</p>
</div></body></html>"""


def _crawl_version(db: Database, url: str, title: str, n: int, note: str) -> str:
    from gxcrawl.ingest import SnapshotInput, extract_and_save, stored_hints

    body = REVISION_PAGE.format(title=title, n=n, note=note).encode()
    with db.transaction() as s:
        v = store_version(s, url, body, "jx-yc")
        snap = SnapshotInput(v.snapshot_id, v.document_id, url, "report", "jx-yc", body,
                             {"Content-Type": "text/html; charset=utf-8"}, None, True)  # fmt: skip
        return str(extract_and_save(s, snap, stored_hints(s, "jx-yc")))


def test_revised_in_place_then_withdrawn_through_ingest(db: Database) -> None:
    url = "http://yc.example/czj/2022.html"
    title = "宜春市财政局2022年政府信息公开工作年度报告"
    assert _crawl_version(db, url, title, 85, "初版") == "report"
    assert _crawl_version(db, url, title + "（修订稿）", 86, "修订") == "report"
    current = rows(db, "SELECT title, version, version_status FROM reports")
    assert current == [{"title": title + "（修订稿）", "version": 2, "version_status": "current"}]
    edits = rows(db, "SELECT old_title, new_title FROM report_edits")
    assert edits == [{"old_title": title, "new_title": title + "（修订稿）"}]
    # The page is replaced by a notice: the views say so instead of showing v2 as current.
    notice = "关于宜春市财政局2022年政府信息公开工作年度报告的更正说明"
    assert _crawl_version(db, url, notice, 86, "更正") == "not_a_report"
    shown = rows(db, "SELECT version, version_status FROM reports")
    assert shown == [{"version": 2, "version_status": "no_longer_report"}]
    why = rows(db, "SELECT detail FROM report_changes WHERE kind = 'no_longer_report'")
    assert len(why) == 1 and notice in why[0]["detail"]
