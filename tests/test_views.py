"""Researcher views (issue 6, item 3) after a real crawl: the same rows on SQLite and PostgreSQL,
the wide application table equal to the long facts, findings exactly where identities break."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import serve

from .conftest import _PG_SKIP, FIXTURES, crawl_fixture, temporary_pg_schema

VIEWS = (
    "reports",
    "report_documents",
    "report_facts",
    "application_table",
    "appeals_table",
    "report_changes",
)
# Row ids and fetch times differ between two crawls of the same portal; nothing else may.
UNSTABLE = {
    "report_id",
    "document_id",
    "snapshot_id",
    "fetched_at",
    "agency_id",
    "change_id",
    "from_snapshot_id",
    "to_snapshot_id",
    "detected_at",
}


def _norm(column: str, value: Any) -> Any:
    if value is None:
        return None
    if column == "flags":
        return sorted(json.loads(value) if isinstance(value, str) else value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if column.endswith("_date"):
        return str(value)[:10]
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return float(value)  # PostgreSQL may answer Decimal or int where SQLite answers float
    return value


def _rows(db_url: str, view: str) -> list[dict[str, Any]]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(f"SELECT * FROM {view}")).mappings()]
    engine.dispose()
    return rows


def _stable(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    out = [
        tuple((c, _norm(c, v)) for c, v in sorted(row.items()) if c not in UNSTABLE) for row in rows
    ]
    return sorted(out, key=repr)


@pytest.fixture(scope="module")
def pg_module_url() -> Iterator[str | None]:
    """A fresh PostgreSQL schema for the whole module (None when PostgreSQL is unreachable)."""
    if _PG_SKIP:
        yield None
        return
    with temporary_pg_schema() as url:
        yield url


@dataclass
class Crawls:
    sqlite: str
    postgresql: str | None

    def url(self, backend: str) -> str:
        """The database of one backend (skips PostgreSQL when it is unreachable)."""
        if backend == "sqlite":
            return self.sqlite
        if self.postgresql is None:
            pytest.skip(str(_PG_SKIP))
        return self.postgresql


BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory, pg_module_url: str | None) -> Crawls:
    """The demo portal crawled from one server (same URLs) into SQLite and into PostgreSQL."""
    sqlite = f"sqlite:///{tmp_path_factory.mktemp('views') / 'crawl.db'}"
    with serve(FIXTURES / "portals" / "demo") as server:
        for db_url in filter(None, (sqlite, pg_module_url)):
            proc = crawl_fixture("demo", server.base_url, db_url)
            assert proc.returncode == 0, f"{db_url}: {proc.stderr[-3000:]}"
    return Crawls(sqlite, pg_module_url)


@pytest.mark.parametrize("view", VIEWS)
def test_views_equal_on_sqlite_and_postgresql(crawls: Crawls, view: str) -> None:
    lite, pg = _rows(crawls.url("sqlite"), view), _rows(crawls.url("postgresql"), view)
    assert lite, f"{view} is empty after the crawl"
    assert list(lite[0]) == list(pg[0]), "same columns in the same order"
    assert _stable(lite) == _stable(pg)


def test_reports_view_holds_one_latest_row_per_report(crawls: Crawls) -> None:
    rows = _rows(crawls.sqlite, "reports")
    expected = json.loads((FIXTURES / "portals" / "demo" / "expected.json").read_text("utf-8"))
    assert len(rows) == len({r["url"] for r in rows}) == len(expected["reports"])
    assert {r["version"] for r in rows} == {1}


def _application_facts(db_url: str) -> dict[int, dict[str, Any]]:
    """report_id -> expected wide column -> value, from the long report_facts view."""
    wide: dict[int, dict[str, Any]] = {}
    for f in _rows(db_url, "report_facts"):
        if f["table_key"] == "applications":
            column = f"{f['row_key'].replace('.', '_')}__{f['column_key']}"  # the one scheme
            wide.setdefault(f["report_id"], {})[column] = f["value"]
    return wide


@BACKENDS
def test_application_table_has_a_column_per_cell(crawls: Crawls, backend: str) -> None:
    db_url = crawls.url(backend)
    rows = _rows(db_url, "application_table")
    assert rows
    columns = set(rows[0])
    for cell in ("new_received__total", "new_received__person", "result_total__total"):
        assert cell in columns
    cells = [c for c in columns if "__" in c]
    assert len(cells) >= 26 * 7, "every row × applicant column of both templates"


@BACKENDS
def test_application_table_equals_report_facts(crawls: Crawls, backend: str) -> None:
    db_url = crawls.url(backend)
    expected = _application_facts(db_url)
    rows = {r["report_id"]: r for r in _rows(db_url, "application_table")}
    assert set(rows) == set(expected), "one wide row per report with an application table"
    for report_id, cells in expected.items():
        row = rows[report_id]
        missing = sorted(set(cells) - set(row))
        assert not missing, f"facts with no wide column: {missing}"
        wrong = {c: (row[c], v) for c, v in cells.items() if row[c] != v}
        assert not wrong, f"report {report_id}: (wide, long) {wrong}"
        # A cell with no fact behind it is missing, never zero-filled.
        extra = {c: v for c, v in row.items() if "__" in c and c not in cells and v is not None}
        assert not extra, f"report {report_id}: wide cells without a fact {extra}"


IV = "carry_forward"  # 四、结转下年度继续办理


def _imbalanced(db_url: str) -> set[int]:
    """Reports whose application table breaks 一 + 二 = 三（七）+ 四 in some applicant column,
    computed here from the facts (independently of the checks module)."""
    cells: dict[tuple[int, str], dict[str, float | None]] = {}
    for f in _rows(db_url, "report_facts"):
        if f["table_key"] == "applications":
            cells.setdefault((f["report_id"], f["column_key"]), {})[f["row_key"]] = f["value"]
    broken = set()
    for (report_id, _column), col in cells.items():
        parts = [col.get(k) for k in ("new_received", "carried_over", "result.total", IV)]
        if None in parts:
            continue
        a, b, c, d = (float(p) for p in parts if p is not None)
        if abs(a + b - (c + d)) > 1e-9:
            broken.add(report_id)
    return broken


@BACKENDS
def test_findings_where_an_identity_breaks_and_nowhere_else(crawls: Crawls, backend: str) -> None:
    db_url = crawls.url(backend)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        findings = list(
            conn.execute(
                text(
                    "SELECT r.report_id, r.url, f.rule, f.expected, f.actual FROM reports r"
                    " JOIN report_findings f ON f.parsed_report_id = r.report_id"
                )
            ).mappings()
        )
    engine.dispose()
    reports = _rows(db_url, "reports")
    with_tables = {r["report_id"] for r in reports if r["template"] in ("gb2019", "gb2021")}
    flagged = {f["report_id"] for f in findings}
    seed003 = {r["report_id"] for r in reports if r["url"].endswith("/t20230117_1004.html")}
    assert seed003 and seed003 <= flagged, "seed 003's application table does not add up"
    assert len(with_tables - flagged) >= 3, "the consistent reports have no findings"
    balance = {f["report_id"] for f in findings if f["rule"] == "balance"}
    assert balance == _imbalanced(db_url)
    assert all(f["expected"] != f["actual"] for f in findings), "a finding shows both sides"
    assert {r["report_id"]: r["n_findings"] for r in reports} == {
        r["report_id"]: sum(f["report_id"] == r["report_id"] for f in findings) for r in reports
    }
