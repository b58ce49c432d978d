"""`scrapy coverage --out DIR [--portal ID] [--province NAME] [--years A-B]`: the agency × year
grid (on time, late, undated, missing) as coverage.csv and a coverage.png heatmap."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import open_database, quiet_broken_pipe, writable_dir
from gxcrawl.coverage import coverage_grid, summary, write_csv, write_heatmap
from gxcrawl.store.workbench import coverage_reports


def parse_years(value: str | None) -> list[int] | None:
    """`2019-2023` or `2021` → the years; None when not given."""
    if not value:
        return None
    first, _, last = value.partition("-")
    try:
        lo, hi = int(first), int(last or first)
    except ValueError:
        raise UsageError(f"--years {value!r}: expected YYYY or YYYY-YYYY") from None
    if lo > hi:
        raise UsageError(f"--years {value!r}: the first year is after the last")
    return list(range(lo, hi + 1))


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "--out DIR [--portal ID] [--province NAME] [--years YYYY-YYYY]"

    def short_desc(self) -> str:
        return "Agencies × years: which reports are present, late or missing (CSV + heatmap)"

    def long_desc(self) -> str:
        return (
            "Writes coverage.csv (agency, year, status, days_late, publish_date, url, portal, "
            "province) and coverage.png. Status: on_time, late, undated, missing. Lateness "
            "comes from report_quality: run `scrapy quality` first on an older store."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--out", required=True, help="output folder (created)")
        parser.add_argument("--portal", help="only reports found on this portal id")
        parser.add_argument("--province", help="only portals of this province (registry name)")
        parser.add_argument("--years", help="the year span of the grid (default: the data's)")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments {args}")
        years = parse_years(opts.years)
        out = writable_dir(opts.out, "--out")
        db = open_database(self.settings)
        with db.sessions() as session:
            reports = coverage_reports(session, portal=opts.portal, province=opts.province)
        db.close()
        cells = coverage_grid(reports, years)
        scope = opts.portal or opts.province or "all portals"
        print(write_csv(cells, out / "coverage.csv"))
        print(write_heatmap(cells, out / "coverage.png", f"gxcrawl coverage: {scope}"))
        counts = summary(cells)
        agencies = len({c.agency for c in cells})
        print(f"{agencies} agencies, {len(cells)} agency-years: "
              + ", ".join(f"{counts[s]} {s}" for s in counts))  # fmt: skip
