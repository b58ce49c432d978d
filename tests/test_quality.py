"""Issue 15, item 1: the report_quality view — lateness by reporter type, missing parts, near-copies
(MinHash/LSH after stripping the template), carry-over across years — on a store built through
the crawl's own storage and extraction (tests/workbench_store.py), SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl.extract import quality as q
from gxcrawl.store.quality import refresh_quality_scores

from .conftest import run_scrapy
from .workbench_store import EDU, GOV, HEALTH, build_store, prose, record_page, render

# --- pure measures ---------------------------------------------------------------------------

COMPLETE = """某局2021年政府信息公开工作年度报告
一、总体情况
（一）主动公开情况
二、主动公开政府信息情况
三、收到和处理政府信息公开申请情况
四、政府信息公开行政复议、行政诉讼情况
五、存在的主要问题及改进情况
六、其他需要报告的事项"""


def test_complete_report_misses_nothing() -> None:
    assert q.sections_missing(COMPLETE) == []


def test_missing_part_is_named_and_subheadings_do_not_stand_in() -> None:
    # Part 二 dropped; section 一 still has its "（一）主动公开情况" sub-heading.
    text_ = COMPLETE.replace("二、主动公开政府信息情况\n", "")
    assert q.sections_missing(text_) == ["二"]


def test_renumbered_and_reworded_parts_count() -> None:
    text_ = "\n".join(
        ["一、概述", "二、主动公开情况", "三、依申请公开情况", "四、行政复议和行政诉讼",
         "五、存在的问题及整改措施"]
    )  # fmt: skip
    assert q.sections_missing(text_) == ["六"]


def test_heading_run_into_its_paragraph_counts() -> None:
    text_ = COMPLETE.replace(
        "五、存在的主要问题及改进情况",
        "五、存在的主要问题及改进情况。一是公开内容不够全面，二是解读形式单一，今后将加强培训。",
    )
    assert q.sections_missing(text_) == []
    text_ = text_.replace("六、其他需要报告的事项", "六、其他需要报告的事项：无。")
    assert q.sections_missing(text_) == []


def test_parts_unknown_for_stubs_and_unread_files() -> None:
    full = COMPLETE.replace("五、存在的主要问题及改进情况\n", "") + "\n" + "\n".join(prose(3))
    assert q.sections_missing_if_known(full, []) == ["五"]
    assert q.sections_missing_if_known(full, ["needs_ocr"]) is None
    assert q.sections_missing_if_known("本报告详见附件。", []) is None  # a stub page


def test_prose_mentioning_a_part_is_not_its_heading() -> None:
    long_line = (
        "本机关认真做好政府信息公开行政复议、行政诉讼情况的统计和分析工作，确保数据准确无误。" * 2
    )
    assert "四" not in q.sections_present(long_line)


@pytest.mark.parametrize(
    ("agency", "kind"),
    [
        ("安溪县人民政府", q.GOVERNMENT),
        ("福建省人民政府", q.GOVERNMENT),
        ("建瓯市人民政府办公室", q.GOVERNMENT_OFFICE),
        ("国务院办公厅", q.DEPARTMENT),  # not a local government's office: a department
        ("泉州市教育局", q.DEPARTMENT),
        ("衢江区机关事务保障中心", q.DEPARTMENT),
        ("鲤城区人民政府临江街道办事处", q.TOWNSHIP),
        ("张村镇", q.TOWNSHIP),
        ("某某乡人民政府", q.TOWNSHIP),
        ("城关镇政府", q.TOWNSHIP),
        ("某某苏木", q.TOWNSHIP),
        ("某区政府", q.GOVERNMENT),
        ("某市政府办", q.GOVERNMENT_OFFICE),
        ("某市城乡建设局", q.DEPARTMENT),
        ("某市人民政府国有资产监督管理委员会", q.DEPARTMENT),
        (None, q.OTHER),
    ],
)
def test_reporter_type_from_the_agency_name(agency: str | None, kind: str) -> None:
    assert q.classify_reporter(agency) == kind


def test_deadlines_follow_the_regulation() -> None:
    assert q.deadline(2021, q.DEPARTMENT) == dt.date(2022, 1, 31)
    assert q.deadline(2021, q.GOVERNMENT_OFFICE) == dt.date(2022, 1, 31)
    assert q.deadline(2021, q.GOVERNMENT) == dt.date(2022, 3, 31)
    assert q.deadline(2018, q.DEPARTMENT) == dt.date(2019, 3, 31)  # 2007 regulation
    assert q.deadline(None, q.DEPARTMENT) is None


def test_days_late() -> None:
    due = dt.date(2022, 1, 31)
    assert q.days_late(dt.date(2022, 2, 10), due) == 10
    assert q.days_late(dt.date(2022, 1, 31), due) == 0
    assert q.days_late(None, due) is None


def test_carry_forward() -> None:
    assert q.carry_forward_ok({"total": 3.0, "person": 3.0}, {"total": 3.0, "person": 3.0})
    assert q.carry_forward_ok({"total": 3.0}, {"total": 4.0}) is False
    assert q.carry_forward_ok({}, {"total": 4.0}) is None
    assert q.carry_forward_ok({"total": None}, {"total": 4.0}) is None


def test_template_words_are_stripped_before_comparing() -> None:
    # Two reports that share only the template (headings, table rows, labels) are not similar.
    a = COMPLETE + "\n" + "\n".join(prose(1))
    b = COMPLETE + "\n一、本年新收政府信息公开申请数量 | 0 | 0\n" + "\n".join(prose(2))
    sa, sb = q.shingles(a), q.shingles(b)
    assert not any("总体情况" in g or "申请数量" in g for g in sa | sb)
    assert len(sa & sb) / len(sa | sb) < 0.2


def test_years_and_figures_do_not_hide_a_copy() -> None:
    a = "\n".join(prose(5))
    b = a.replace("2020年", "2021年").replace("共1", "共9")
    assert q.prose(a.replace("件", "件2020年")) == q.prose(b.replace("件", "件2021年"))


def test_nearest_reports_finds_the_copy_and_no_stranger() -> None:
    base = "\n".join(prose(11, 20))
    edited = base.replace(base[:30], "今年以来我局认真贯彻落实上级部署")
    sigs = {
        1: q.signature(q.shingles(base)),
        2: q.signature(q.shingles(edited)),
        3: q.signature(q.shingles("\n".join(prose(12, 20)))),
        4: None,  # too little prose
    }
    near = q.nearest_reports(sigs)
    assert near[1].other == 2 and near[2].other == 1
    assert near[1].similarity >= 0.9
    assert 3 not in near and 4 not in near


# --- the view on a store ---------------------------------------------------------------------


def _quality(db_url: str) -> dict[tuple[str, int], dict[str, Any]]:
    from gxcrawl.store.db import make_engine

    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text("SELECT * FROM report_quality")).mappings()]
    engine.dispose()
    return {(r["agency"], r["year"]): r for r in rows}


@pytest.fixture
def scored(any_db_url: str) -> tuple[str, dict[tuple[str, int], dict[str, Any]]]:
    db, _pages = build_store(any_db_url)
    with db.transaction() as session:
        summary = refresh_quality_scores(session)
    db.close()
    assert summary.reports == 6
    return any_db_url, _quality(any_db_url)


def _date(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def test_one_quality_row_per_report(scored: tuple[str, dict[tuple[str, int], Any]]) -> None:
    _url, rows = scored
    assert set(rows) == {
        (EDU, 2020), (EDU, 2021), (EDU, 2022), (EDU, 2023), (GOV, 2021), (HEALTH, 2018)
    }  # fmt: skip


def test_lateness_in_the_view(scored: tuple[str, dict[tuple[str, int], Any]]) -> None:
    _url, rows = scored
    late = rows[(EDU, 2021)]
    assert (_date(late["deadline"]), late["days_late"]) == ("2022-01-31", 10)
    assert rows[(EDU, 2020)]["days_late"] == -11  # 20 January: on time
    gov = rows[(GOV, 2021)]  # the 本级政府: due 31 March, published 15 March
    assert (gov["reporter_type"], _date(gov["deadline"]), gov["days_late"]) == (
        "government", "2022-03-31", -16
    )  # fmt: skip
    assert rows[(HEALTH, 2018)]["days_late"] == -11  # 2007 rule: 31 March 2019
    assert rows[(EDU, 2023)]["days_late"] is None  # no publish date


def test_missing_part_in_the_view(scored: tuple[str, dict[tuple[str, int], Any]]) -> None:
    _url, rows = scored
    assert rows[(EDU, 2022)]["sections_missing"] == "五"
    assert rows[(EDU, 2022)]["n_sections_missing"] == 1
    assert all(r["sections_missing"] == "" for k, r in rows.items() if k != (EDU, 2022))


def test_copy_of_last_year_found(scored: tuple[str, dict[tuple[str, int], Any]]) -> None:
    _url, rows = scored
    copy, original = rows[(EDU, 2021)], rows[(EDU, 2020)]
    assert copy["similar_url"] == original["url"]
    assert original["similar_url"] == copy["url"]
    assert 0.9 <= copy["similarity"] < 1.0  # one phrase rewritten
    for key in ((EDU, 2022), (GOV, 2021), (HEALTH, 2018)):
        assert rows[key]["similar_url"] is None, key  # own prose: no near-copy


def test_carry_forward_in_the_view(scored: tuple[str, dict[tuple[str, int], Any]]) -> None:
    _url, rows = scored
    assert rows[(EDU, 2020)]["carry_forward_ok"] is None  # no 2019 report
    assert bool(rows[(EDU, 2021)]["carry_forward_ok"]) is True  # 3 carried, 3 taken over
    assert rows[(EDU, 2022)]["carry_forward_ok"] in (False, 0)  # 2 carried, 5 taken over
    assert rows[(GOV, 2021)]["carry_forward_ok"] is None


def test_an_edit_is_rescored_and_unchanged_texts_reuse_signatures(sqlite_url: str) -> None:
    db, pages = build_store(sqlite_url)
    with db.transaction() as session:
        refresh_quality_scores(session)
    page = pages[2]  # 2022: restore part 五 in a new version of the page
    page.drop_part_five = False
    record_page(db, page.url, render(page), when=dt.datetime(2024, 6, 1))
    with db.transaction() as session:
        summary = refresh_quality_scores(session)
    db.close()
    assert summary.signatures_reused == 5  # only the edited text was shingled again
    assert _quality(sqlite_url)[(EDU, 2022)]["sections_missing"] == ""


def test_scrapy_quality_command(sqlite_url: str) -> None:
    build_store(sqlite_url)[0].close()
    done = run_scrapy(["quality"], sqlite_url, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "6 reports scored: 1 late, 1 missing a required part, 2 near-copies" in done.stdout
    assert _quality(sqlite_url)[(EDU, 2021)]["days_late"] == 10


def test_near_ties_prefer_the_same_agency_and_the_nearest_year() -> None:
    shared = q.signature(q.shingles("\n".join(prose(21, 20))))
    owners = {
        1: q.Owner("乙局", 2021),  # another agency, same words, lowest key
        2: q.Owner("甲局", 2019),
        3: q.Owner("甲局", 2020),
        4: q.Owner("甲局", 2021),
    }
    near = q.nearest_reports(dict.fromkeys(owners, shared), owners)
    assert near[4] == q.Nearest(3, 1.0)  # last year's report, not the stranger's
    assert near[3].other == 2  # equal distance: the earlier year
    assert near[1].other == 4  # no report of its own agency: the same year first
