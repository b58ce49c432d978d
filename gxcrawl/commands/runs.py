"""`scrapy runs`: the most recent crawl runs, one line each (for operators and cron checks)."""

from __future__ import annotations

import argparse
from functools import partial
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand

from gxcrawl.commands import open_database, quiet_broken_pipe
from gxcrawl.store import repository as repo
from gxcrawl.store.health import run_reasons
from gxcrawl.vocab import Outcome, outcome_stat


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--limit N]"

    def short_desc(self) -> str:
        return "List recent crawl runs: status, duration, pages, new/changed/unchanged, errors"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        db = open_database(self.settings)
        with db.transaction() as session:
            runs = repo.recent_runs(session, opts.limit)
        db.close()
        print(
            f"{'run':>5} {'status':<12} {'started':<19} {'secs':>6} {'pages':>6} "
            f"{'new':>5} {'chg':>5} {'same':>5} {'gone':>5} {'blk':>4} {'err':>4}  portals"
        )
        for run in runs:
            s = run.stats or {}
            secs = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
            took = "" if secs is None else f"{secs:.0f}"
            # pages = fetches recorded (as in `scrapy summary`): robots.txt is not one
            pages = sum(_count(s, outcome) for outcome in Outcome)
            n = partial(_count, s)
            print(
                f"{run.id:>5} {run.status:<12} {run.started_at:%Y-%m-%d %H:%M:%S} "
                f"{took:>6} {pages:>6} "
                f"{n(Outcome.NEW):>5} {n(Outcome.CHANGED):>5} "
                f"{n(Outcome.UNCHANGED):>5} {n(Outcome.GONE):>5} "
                f"{n(Outcome.BLOCKED):>4} {n(Outcome.ERROR):>4}  "
                f"{run.portals or '-'}"
            )
            for reason in run_reasons(run.stats):  # why an unhealthy run is unhealthy
                print(f"      unhealthy: {reason}")


def _count(stats: dict[str, Any], outcome: Outcome) -> int:
    return int(stats.get(outcome_stat(outcome), 0))
