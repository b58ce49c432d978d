"""`scrapy export`: write the researcher views as CSV, JSON lines or Parquet."""

from __future__ import annotations

import argparse
import sys
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from tqdm import tqdm

from gxcrawl.commands import open_database, quiet_broken_pipe, writable_dir
from gxcrawl.export import FORMATS, write_dictionary, write_fact_keys, write_view
from gxcrawl.store import repository as repo
from gxcrawl.workbench_export import append_dictionary, export_warc, export_workbench


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "--format csv|jsonl|parquet --out DIR [--portal ID] [--year YYYY]"

    def short_desc(self) -> str:
        return "Export the researcher views (" + ", ".join(repo.EXPORTABLE_VIEWS) + ")"

    def long_desc(self) -> str:
        return (
            "Writes " + ", ".join(repo.EXPORTABLE_VIEWS) + " (one file each), "
            "data_dictionary.csv (view, column, type, meaning) and fact_keys.csv (each table "
            "cell's keys, its labels as printed and its wide-view column) into DIR."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=(*FORMATS, "warc"),
            default="csv",
            help="csv, jsonl or parquet for the views; warc for the raw snapshots (every version)",
        )
        parser.add_argument("--out", required=True, help="output folder (created)")
        parser.add_argument("--portal", help="only this portal id")
        parser.add_argument("--year", type=int, help="only reports of this year")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments {args}")
        out = writable_dir(opts.out, "--out")
        db = open_database(self.settings)
        if opts.fmt == "warc":
            with db.sessions() as session:
                path, count = export_warc(session, out, portal=opts.portal)
            db.close()
            print(f"{path}: {count} records")
            return
        written: dict[str, list[str]] = {}
        with db.sessions() as session:
            for view in repo.EXPORTABLE_VIEWS:
                columns = repo.view_columns(session, view)
                total = repo.count_view(session, view, portal=opts.portal, year=opts.year)
                with tqdm(
                    total=total, desc=view, unit="row", disable=opts.quiet, file=sys.stderr
                ) as bar:
                    rows = repo.iter_view(session, view, portal=opts.portal, year=opts.year)
                    path = write_view(
                        rows, columns, view, opts.fmt, out, on_row=lambda: bar.update()
                    )
                written[view] = columns
                print(f"{path}: {total} rows")
            extra = export_workbench(session, out, opts.fmt, portal=opts.portal, year=opts.year)
            for path, total in extra.values():
                print(f"{path}: {total} rows")
        print(append_dictionary(write_dictionary(out, written)))
        print(write_fact_keys(out))
        db.close()
