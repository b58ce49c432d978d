"""`scrapy summary`: what the last crawl run did and which reports the store holds."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import open_database, quiet_broken_pipe
from gxcrawl.store import repository as repo


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "[--run ID]"

    def short_desc(self) -> str:
        return "Summarise a crawl run (default: the last) and the reports stored"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--run", type=int, help="crawl run id (default: the last run)")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        db = open_database(self.settings)
        with db.transaction() as session:
            summary = repo.run_summary(session, opts.run)
        db.close()
        if summary is None and opts.run is not None:
            raise UsageError(
                f"there is no run {opts.run} in this database (`scrapy runs` lists them)",
                print_help=False,
            )
        if summary is None:
            raise UsageError("no crawl run in this database yet", print_help=False)
        print(format_summary(summary))


def format_summary(s: repo.RunSummary) -> str:
    run, stats = s.run, s.run.stats or {}
    lines = [
        f"crawl run {run.id}: {run.status} ({run.close_reason or '-'}), "
        f"portals {run.portals or '-'}, started {run.started_at:%Y-%m-%d %H:%M:%S}",
        f"pages fetched: {sum(s.fetch_outcomes.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(s.fetch_outcomes.items())) or 'none'}); "
        f"bytes downloaded: {stats.get('downloader/response_bytes', 0)}",
        f"changes this run: "
        f"{', '.join(f'{k} {v}' for k, v in sorted(s.changes.items())) or 'none'}",
        f"reports stored: {len(s.reports)} (one per agency and year; "
        f"{s.report_documents} report documents)",
    ]
    for agency, year, title, url in s.reports:
        lines.append(f"  {year or '----'}  {agency or '(agency unknown)'}  {title}  <{url}>")
    lines.append(f"look-alikes rejected: {len(s.lookalikes)}")
    lines.extend(f"  {title}" for title in s.lookalikes)
    return "\n".join(lines)
