"""`scrapy quality`: recompute the report_quality measures (lateness, missing parts, near-copies,
carry-over) of every report in the store."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import open_database, quiet_broken_pipe
from gxcrawl.store.quality import NEAR_COPY, refresh_quality_scores


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Recompute the report_quality view's measures for every report"

    def long_desc(self) -> str:
        return (
            "Rebuilds report_quality_scores: deadline and days late, missing parts 一–六, the "
            "most similar other report (MinHash/LSH over the prose), carry-over check. A crawl "
            "and scrapy reparse do the same at their end."
        )

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments {args}")
        db = open_database(self.settings)
        with db.transaction() as session:
            summary = refresh_quality_scores(session)
        db.close()
        print(
            f"{summary.reports} reports scored: {summary.late} late, "
            f"{summary.incomplete} missing a required part, {summary.near_copies} near-copies "
            f"(similarity ≥ {NEAR_COPY}); {summary.signatures_reused} unchanged texts reused"
        )
