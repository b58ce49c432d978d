"""`scrapy diff URL [--from N --to N]`: what changed between two stored versions of a report —
metadata, text (unified diff) and table cells."""

from __future__ import annotations

import argparse
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import open_database, quiet_broken_pipe
from gxcrawl.extract.versions import cell_changes, field_changes, text_diff
from gxcrawl.store.versions import ParsedVersion, parsed_version, parsed_version_numbers
from gxcrawl.urls import canonical_url


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "URL [--from N] [--to N]"

    def short_desc(self) -> str:
        return "Show what changed between two stored versions of a report (text and table cells)"

    def long_desc(self) -> str:
        return (
            "Compares two parsed versions of the report at URL (default: the last two): the "
            "metadata fields that differ, a unified diff of the clean text and every table "
            "cell whose value changed. Exit status 0 either way."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--from", dest="old", type=int, help="older version number")
        parser.add_argument("--to", dest="new", type=int, help="newer version number")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) != 1:
            raise UsageError("give exactly one report URL")
        url = canonical_url(args[0])
        db = open_database(self.settings)
        with db.sessions() as session:
            numbers = parsed_version_numbers(session, url)
            old_n, new_n = _pick(numbers, opts.old, opts.new, url)
            old = parsed_version(session, url, old_n)
            new = parsed_version(session, url, new_n)
        db.close()
        assert old is not None and new is not None
        print(format_diff(url, old, new))


def _pick(numbers: list[int], old: int | None, new: int | None, url: str) -> tuple[int, int]:
    if not numbers:
        raise UsageError(f"no parsed report stored for {url}", print_help=False)
    for given in (old, new):
        if given is not None and given not in numbers:
            raise UsageError(
                f"version {given} of {url} is not stored as a report; parsed versions: "
                + ", ".join(map(str, numbers)),
                print_help=False,
            )
    new = new if new is not None else numbers[-1]
    if old is None:
        earlier = [n for n in numbers if n < new]
        if not earlier:
            raise UsageError(f"{url} has only version {new}: nothing to compare", print_help=False)
        old = earlier[-1]
    return old, new


def format_diff(url: str, old: ParsedVersion, new: ParsedVersion) -> str:
    head = (
        f"{url}: version {old.version} ({old.fetched_at:%Y-%m-%d %H:%M}) → "
        f"version {new.version} ({new.fetched_at:%Y-%m-%d %H:%M})"
    )
    lines = [head]
    fields = field_changes(old.fields, new.fields)
    cells = cell_changes(old.cells, new.cells)
    body = text_diff(old.text, new.text, f"v{old.version}", f"v{new.version}")
    if not (fields or cells or body):
        return head + "\nno change in metadata, text or tables"
    lines += [f"field {name}: {a} → {b}" for name, a, b in fields]
    lines.append(f"text: {'changed' if body else 'unchanged'}")
    if body:
        lines.append(body)
    lines.append(f"table cells changed: {len(cells)}")
    lines += [f"  {c.describe()}" for c in cells]
    return "\n".join(lines)
