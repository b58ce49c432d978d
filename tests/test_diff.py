"""Issue 15, item 5: `scrapy diff URL [--from N --to N]` — metadata, text and table cells changed
between two stored versions of a report (the versions recorded and parsed by the real store)."""

from __future__ import annotations

import datetime as dt

from gxcrawl.extract.versions import CellChange, cell_changes, field_changes, text_diff

from .conftest import run_scrapy
from .workbench_store import build_store, record_page, render


def test_text_diff_is_unified_and_empty_when_equal() -> None:
    diff = text_diff("a\nb\nc", "a\nB\nc", "v1", "v2")
    assert diff.splitlines()[:2] == ["--- v1", "+++ v2"]
    assert "-b" in diff.splitlines() and "+B" in diff.splitlines()
    assert text_diff("same", "same", "v1", "v2") == ""


def test_cell_and_field_changes() -> None:
    old = {("applications", "carried_over", "total"): 5.0, ("appeals", "cases", "x"): 1.0}
    new = {("applications", "carried_over", "total"): 2.0, ("appeals", "cases", "x"): 1.0,
           ("applications", "new_received", "total"): 4.0}  # fmt: skip
    assert cell_changes(old, new) == [
        CellChange("applications", "carried_over", "total", 5.0, 2.0),
        CellChange("applications", "new_received", "total", None, 4.0),
    ]
    assert field_changes({"year": 2021, "title": "a"}, {"year": 2021, "title": "b"}) == [
        ("title", "a", "b")
    ]


def _edited_store(db_url: str) -> str:
    db, pages = build_store(db_url)
    page = pages[2]  # 江城市教育局 2022: part 五 restored, carry-over corrected, re-dated
    page.drop_part_five = False
    page.carried_over = 2
    page.publish = dt.date(2023, 2, 3)
    record_page(db, page.url, render(page), when=dt.datetime(2024, 6, 1))
    db.close()
    return page.url


def test_scrapy_diff_shows_text_and_cells(sqlite_url: str) -> None:
    url = _edited_store(sqlite_url)
    done = run_scrapy(["diff", url], sqlite_url, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0].startswith(f"{url}: version 1 (2024-05-01 08:00) → version 2 (2024-06-01")
    assert "field publish_date: 2023-01-30 → 2023-02-03" in out
    assert "+五、存在的主要问题及改进情况" in out
    assert "-2023年1月30日" in out and "+2023年2月3日" in out
    assert "table cells changed: 2" in out
    assert "  applications carried_over × total: 5 → 2" in out


def test_scrapy_diff_explicit_versions_and_errors(sqlite_url: str) -> None:
    url = _edited_store(sqlite_url)
    same = run_scrapy(["diff", url, "--from", "2", "--to", "2"], sqlite_url, timeout=120)
    assert same.returncode == 0 and "no change in metadata, text or tables" in same.stdout
    missing = run_scrapy(["diff", url, "--from", "7"], sqlite_url, timeout=120)
    assert missing.returncode != 0
    assert "version 7" in missing.stderr and "parsed versions: 1, 2" in missing.stderr
    unknown = run_scrapy(["diff", "http://nowhere.example/x.html"], sqlite_url, timeout=120)
    assert unknown.returncode != 0 and "no parsed report stored" in unknown.stderr
