"""Issue 15, item 2: coverage — agencies × years present, late, undated or missing — for a
portal, a province or everything; `scrapy coverage` writes coverage.csv and a PNG heatmap."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from scrapy.exceptions import UsageError

from gxcrawl.commands.coverage import parse_years
from gxcrawl.coverage import LATE, MISSING, ON_TIME, UNDATED, coverage_grid
from gxcrawl.store.quality import refresh_quality_scores
from gxcrawl.store.workbench import CoverageReport

from .conftest import run_scrapy
from .workbench_store import EDU, GOV, HEALTH, build_store

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _report(agency: str, year: int, days_late: int | None) -> CoverageReport:
    return CoverageReport(agency, year, "p", "江南", f"http://x/{agency}{year}", None, days_late)


def test_grid_spans_the_years_and_names_each_status() -> None:
    cells = coverage_grid(
        [_report("甲局", 2019, -3), _report("甲局", 2021, 4), _report("乙局", 2020, None)]
    )
    got = {(c.agency, c.year): c.status for c in cells}
    assert got == {
        ("乙局", 2019): MISSING, ("乙局", 2020): UNDATED, ("乙局", 2021): MISSING,
        ("甲局", 2019): ON_TIME, ("甲局", 2020): MISSING, ("甲局", 2021): LATE,
    }  # fmt: skip


def test_grid_over_given_years() -> None:
    cells = coverage_grid([_report("甲局", 2019, 0)], years=[2019, 2020])
    assert [(c.year, c.status) for c in cells] == [(2019, ON_TIME), (2020, MISSING)]


def _store(db_url: str) -> None:
    db, _pages = build_store(db_url)
    with db.transaction() as session:
        refresh_quality_scores(session)
    db.close()


def _csv(path: Path) -> dict[tuple[str, int], dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return {(r["agency"], int(r["year"])): r for r in csv.DictReader(fh)}


def test_scrapy_coverage_writes_csv_and_png(sqlite_url: str, tmp_path: Path) -> None:
    _store(sqlite_url)
    out = tmp_path / "cov"
    done = run_scrapy(["coverage", "--out", str(out), "--province", "江南"], sqlite_url)
    assert done.returncode == 0, done.stderr
    rows = _csv(out / "coverage.csv")
    assert len(rows) == 3 * 6  # three agencies × 2018…2023
    assert rows[(EDU, 2021)]["status"] == LATE and rows[(EDU, 2021)]["days_late"] == "10"
    assert rows[(EDU, 2020)]["status"] == ON_TIME
    assert rows[(EDU, 2023)]["status"] == UNDATED
    assert rows[(EDU, 2019)]["status"] == MISSING and rows[(EDU, 2019)]["url"] == ""
    assert rows[(GOV, 2021)]["status"] == ON_TIME and rows[(HEALTH, 2018)]["status"] == ON_TIME
    assert "3 agencies, 18 agency-years: 4 on_time, 1 late, 1 undated, 12 missing" in done.stdout
    png = (out / "coverage.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 2000


def test_scrapy_coverage_filters(sqlite_url: str, tmp_path: Path) -> None:
    _store(sqlite_url)
    other = run_scrapy(["coverage", "--out", str(tmp_path / "a"), "--province", "塞北"], sqlite_url)
    assert other.returncode == 0, other.stderr
    assert _csv(tmp_path / "a" / "coverage.csv") == {}
    one = run_scrapy(
        ["coverage", "--out", str(tmp_path / "b"), "--portal", "jc-dept", "--years", "2021"],
        sqlite_url,
    )
    assert one.returncode == 0, one.stderr
    assert {k: r["status"] for k, r in _csv(tmp_path / "b" / "coverage.csv").items()} == {
        (EDU, 2021): LATE, (GOV, 2021): ON_TIME, (HEALTH, 2021): MISSING,
    }  # fmt: skip


def test_years_option() -> None:
    assert parse_years("2019-2021") == [2019, 2020, 2021]
    assert parse_years("2021") == [2021] and parse_years(None) is None
    for bad in ("2023-2020", "last year"):
        with pytest.raises(UsageError):
            parse_years(bad)
