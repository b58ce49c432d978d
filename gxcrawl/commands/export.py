"""`scrapy export`: write the researcher views as CSV, JSON lines or Parquet."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from tqdm import tqdm

from gxcrawl.commands import open_database, quiet_broken_pipe, writable_dir
from gxcrawl.export import FORMATS, write_dictionary, write_fact_keys, write_view
from gxcrawl.store import repository as repo
from gxcrawl.workbench_export import append_dictionary, export_warc, export_workbench

STAGING_PREFIX = ".export-"  # files are written here first, inside DIR, then moved into place
REFUSED_EXIT = 2  # existing files and no --force: the operator must decide
SHOWN_CONFLICTS = 5  # names listed in the refusal line; the rest are counted


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A fresh private folder inside `out` (mode 0700, so nothing can be planted in it),
    removed afterwards whatever happens."""
    stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def conflicts(stage: Path, out: Path) -> list[str]:
    """Names the export would replace in `out`: existing files, and symlinks (even dangling)."""
    return sorted(
        p.name for p in stage.iterdir() if (out / p.name).is_symlink() or (out / p.name).exists()
    )


def publish(stage: Path, out: Path) -> None:
    """Move the staged files into `out`. os.replace swaps a symlink itself, never its target,
    so nothing is ever written outside `out`."""
    for staged in sorted(stage.iterdir()):
        target = out / staged.name
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(f"{target} is a directory")
        os.replace(staged, target)


def refusal(out: Path, names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_CONFLICTS]) + (" …" if len(names) > SHOWN_CONFLICTS else "")
    return (
        f"export: {out} already has {len(names)} of the files to write ({shown}); "
        "nothing written: pass --force to overwrite"
    )


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
        parser.add_argument(
            "--force", action="store_true", help="overwrite files an earlier export left in DIR"
        )

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments {args}")
        out = writable_dir(opts.out, "--out")
        db = open_database(self.settings)
        try:
            with staging(out) as stage:
                lines = self._export(db, stage, opts)
                existing = conflicts(stage, out)
                if existing and not opts.force:
                    print(refusal(out, existing), file=sys.stderr)
                    self.exitcode = REFUSED_EXIT
                    return
                publish(stage, out)
        finally:
            db.close()
        for line in lines:  # the paths as published
            print(line.replace(str(stage), str(out)))

    def _export(self, db: Any, out: Path, opts: argparse.Namespace) -> list[str]:
        """Write every file into `out` (the staging folder); the lines to print."""
        if opts.fmt == "warc":
            with db.sessions() as session:
                path, count = export_warc(session, out, portal=opts.portal)
            return [f"{path}: {count} records"]
        lines: list[str] = []
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
                lines.append(f"{path}: {total} rows")
            extra = export_workbench(session, out, opts.fmt, portal=opts.portal, year=opts.year)
            lines.extend(f"{path}: {total} rows" for path, total in extra.values())
        lines.append(str(append_dictionary(write_dictionary(out, written))))
        lines.append(str(write_fact_keys(out)))
        return lines
