"""Revalidation spread over the window: the pure budget and slice, a simulated month of daily
runs (no burst, every report checked within its window), and real crawls of the demo portal."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl.revalidation import Candidate, budget, choose, entry_changed
from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES, crawl_fixture

DAY = dt.timedelta(days=1)
WEEK = 7 * DAY
T0 = dt.datetime(2026, 1, 1, 3, 17)
DEMO = FIXTURES / "portals" / "demo"


@pytest.mark.parametrize(
    ("known", "elapsed", "window", "expected"),
    [
        (70, DAY, WEEK, 10),  # daily runs, weekly window: a seventh each day
        (70, None, WEEK, 0),  # no previous run: the lists find everything anyway
        (70, dt.timedelta(seconds=5), WEEK, 0),  # a run right after another
        (70, 10 * DAY, WEEK, 70),  # a run after a long pause: all of them (capped)
        (70, DAY, dt.timedelta(0), 70),  # GXCRAWL_RECHECK_AFTER_DAYS=0: every run
        (3, DAY, WEEK, 0),  # rounds down: overdue ones are added by choose()
        (0, DAY, WEEK, 0),
    ],
)
def test_budget(
    known: int, elapsed: dt.timedelta | None, window: dt.timedelta, expected: int
) -> None:
    assert budget(known, elapsed, window) == expected


def test_slice_takes_overdue_then_least_recently_checked() -> None:
    cands = [
        Candidate("fresh", T0 - DAY, T0 + 6 * DAY),
        Candidate("old", T0 - 5 * DAY, T0 + 2 * DAY),
        Candidate("never", None, None),
        Candidate("overdue", T0 - 8 * DAY, T0 - DAY),
        Candidate("older", T0 - 6 * DAY, T0 + DAY),
    ]
    chosen = choose(cands, now=T0, elapsed=3 * DAY, window=WEEK)
    assert chosen.budget == 2  # round(5 * 3/7)
    assert [c.url for c in chosen.chosen] == ["never", "overdue"]  # both overdue, budget spent
    assert (chosen.overdue, chosen.waiting) == (2, 3)
    wider = choose(cands, now=T0, elapsed=5 * DAY, window=WEEK)  # budget 4
    assert [c.url for c in wider.chosen] == ["never", "overdue", "older", "old"]
    forced = choose(cands, now=T0, elapsed=None, window=WEEK, force=True)
    assert len(forced.chosen) == 5 and forced.waiting == 0


def _simulate(
    n: int, days: int, window: dt.timedelta
) -> tuple[list[int], dict[str, list[dt.datetime]]]:
    """Daily runs over n reports all first fetched on day 0; next check = check + window."""
    checks = {f"r{i}": [T0] for i in range(n)}
    per_day = []
    for day in range(1, days + 1):
        now = T0 + day * DAY
        cands = [Candidate(u, c[-1], c[-1] + window) for u, c in checks.items()]
        chosen = choose(cands, now=now, elapsed=DAY, window=window)
        for c in chosen.chosen:
            checks[c.url].append(now)
        per_day.append(len(chosen.chosen))
    return per_day, checks


def test_daily_runs_spread_the_checks_and_keep_the_window() -> None:
    per_day, checks = _simulate(700, 35, WEEK)
    assert max(per_day) <= 100, per_day  # 700 / 7: no burst on day 7, 14, …
    assert min(per_day) >= 100
    for times in checks.values():  # every report revalidated at least once per window
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert gaps and max(gaps) <= WEEK


def test_a_small_portal_still_keeps_the_window() -> None:
    per_day, checks = _simulate(3, 21, WEEK)  # the budget rounds to 0: overdue ones carry it
    assert sum(per_day) >= 6
    for times in checks.values():
        assert max(b - a for a, b in itertools.pairwise(times)) <= WEEK


@pytest.mark.parametrize(
    ("stored", "listed", "changed"),
    [
        ("A县2022年报", "A县2022年报", False),
        ("A县2022年报", " A县2022年报 ", False),
        ("A县2022年报", "A县2022年报（更正）", True),
        (None, "A县2022年报", False),
        ("A县2022年报", "", False),
    ],
)
def test_entry_changed(stored: str | None, listed: str, changed: bool) -> None:
    assert entry_changed(stored, listed) is changed


# --- real crawls ---------------------------------------------------------------------------


def _sql(db_url: str, sql: str) -> list[Any]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        rows = list(conn.execute(text(sql))) if sql.lstrip().upper().startswith("SELECT") else []
        if not rows and not sql.lstrip().upper().startswith("SELECT"):
            conn.execute(text(sql))
    engine.dispose()
    return rows


def _stats(db_url: str, run_id: int) -> dict[str, Any]:
    raw = _sql(db_url, f"SELECT stats FROM crawl_runs WHERE id = {run_id}")[0][0]
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


def _age_one_day(db_url: str) -> None:
    """As if the previous run and every check happened a day earlier."""
    if db_url.startswith("sqlite"):
        shift = "datetime({col}, '-1 day')"
    else:
        shift = "{col} - interval '1 day'"
    _sql(db_url, f"UPDATE crawl_runs SET started_at = {shift.format(col='started_at')}")
    for col in ("last_fetched_at", "next_check_at"):
        _sql(
            db_url, f"UPDATE documents SET {col} = {shift.format(col=col)} WHERE {col} IS NOT NULL"
        )


KNOWN = (
    "SELECT url FROM documents WHERE kind IN ('report', 'attachment') "
    "AND content_sha256 IS NOT NULL AND state IN ('live', 'gone', 'redirected')"
)


def test_a_day_later_a_slice_is_revalidated_and_not_due_is_no_exception(
    any_db_url: str, tmp_path: Path
) -> None:
    window = ["-s", "GXCRAWL_RECHECK_AFTER_DAYS=2"]  # a day is half the window
    with serve(DEMO) as server:
        first = crawl_fixture("demo", server.base_url, any_db_url, *window)
        assert first.returncode == 0, first.stderr[-2000:]
        known = {u for (u,) in _sql(any_db_url, KNOWN)}
        _age_one_day(any_db_url)
        server.clear_log()
        second = crawl_fixture("demo", server.base_url, any_db_url, *window)
        assert second.returncode == 0, second.stderr[-2000:]
        asked = {r.path for r in server.requests}
    stats = _stats(any_db_url, 2)
    revalidated = {u for u in known if any(u.endswith(p) for p in asked)}
    assert stats["gxcrawl/revalidation/budget"] == round(len(known) / 2)
    assert len(revalidated) == stats["gxcrawl/revalidation/revalidated"] == round(len(known) / 2)
    assert stats["gxcrawl/revalidation/still_due"] == len(known) - len(revalidated)
    assert stats["gxcrawl/not_due"] >= 1  # list links of reports waiting their turn
    # the only exceptions: robots.txt refusals (the demo's /private/ link), never not-due skips
    assert stats.get("downloader/exception_count", 0) == stats["robotstxt/forbidden"]


def test_a_retitled_list_entry_is_due_at_once(sqlite_url: str, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay" / "xxgk" / "ndbg"
    overlay.mkdir(parents=True)
    page = (DEMO / "xxgk" / "ndbg" / "index.html").read_text("utf-8")
    old = "建瓯市人民政府办公室2022年度政府信息公开工作年度报告"
    assert page.count(old) == 2
    (overlay / "index.html").write_text(page.replace(old, old + "（更正）"), "utf-8")
    with serve(DEMO) as server:
        assert crawl_fixture("demo", server.base_url, sqlite_url).returncode == 0
        server.clear_log()
        server.set_overlay(tmp_path / "overlay")
        again = crawl_fixture("demo", server.base_url, sqlite_url)
        assert again.returncode == 0, again.stderr[-2000:]
        asked = [r.path for r in server.requests]
    assert "/xxgk/ndbg/202301/t20230117_1004.html" in asked  # retitled: fetched now
    assert "/xxgk/ndbg/202201/t20220120_1005.html" not in asked  # unchanged: not due
    stats = _stats(sqlite_url, 2)
    assert stats["gxcrawl/revalidation/entry_changed"] == 1
    assert stats.get("downloader/exception_count", 0) == stats["robotstxt/forbidden"]
    titles = _sql(sqlite_url, "SELECT link_title FROM documents WHERE url LIKE '%t20230117_1004%'")
    assert titles == [(old + "（更正）",)]  # the next run compares with the new title
