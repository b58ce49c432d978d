"""`scrapy extract`: run the pipelines' extraction on saved files or stored snapshots, offline."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, ClassVar

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from gxcrawl.commands import open_database, quiet_broken_pipe
from gxcrawl.extract.process import RawDocument, extract_document
from gxcrawl.extract.types import PortalHints
from gxcrawl.ingest import SnapshotInput, raw_document, stored_hints
from gxcrawl.platforms.base import is_attachment_url
from gxcrawl.registry import RegistryError, get_portal, load_registry
from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database


class Command(ScrapyCommand):
    requires_project = False
    requires_crawler_process = False
    default_settings: ClassVar[dict[str, Any]] = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "PATH_OR_URL... [--url URL] [--encoding ENC]"

    def short_desc(self) -> str:
        return "Extract report fields from saved HTML files or stored snapshots (JSON lines)"

    def long_desc(self) -> str:
        return (
            "Runs exactly the crawl pipelines' extraction and prints one JSON object per input, "
            "one per line. An input is a saved file (read as bytes; a NAME.headers.json beside "
            "it supplies url and Content-Type), a URL whose newest stored snapshot is read from "
            "the database (no network), or snapshot:ID. Absent fields are null."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--url", help="the page's URL (for a single saved file)")
        parser.add_argument("--encoding", help="decode saved files with this encoding")
        parser.add_argument("--pretty", action="store_true", help="indent the JSON")
        parser.add_argument(
            "--portal",
            help="registry entry the saved pages come from: its name and region code are the "
            "same fallbacks the crawl uses (default: a NAME.headers.json sidecar's hints, if any)",
        )
        parser.add_argument("--registry", help="registry file for --portal (default: packaged)")

    @quiet_broken_pipe
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give at least one file, URL or snapshot:ID")
        if opts.url and len(args) > 1:
            raise UsageError("--url applies to a single input")
        assert self.settings is not None
        hints = None
        if opts.portal:
            registry = opts.registry or self.settings.get("GXCRAWL_REGISTRY") or None
            try:
                # Only the entry's name and codes matter here, so relative URLs (fixture
                # registries) may resolve against any base.
                portals = load_registry(registry, base_url="http://127.0.0.1/")
                hints = get_portal(portals, opts.portal).hints()
            except (RegistryError, KeyError) as exc:
                raise UsageError(f"--portal {opts.portal}: {exc}", print_help=False) from None
        db: Database | None = None
        for arg in args:
            try:
                if arg.startswith(("http://", "https://", "snapshot:")):
                    if db is None:
                        db = open_database(self.settings)
                    data = _from_store(db, arg)
                else:
                    data = _from_file(Path(arg), opts.url, opts.encoding, hints)
            except UsageError:
                raise  # an operator mistake (no database): one line, exit 2
            except Exception as exc:  # one bad input must not cost the others their result
                print(f"extract: {arg}: {type(exc).__name__}: {exc}", file=sys.stderr)
                self.exitcode = 1
                continue
            print(json.dumps(data, ensure_ascii=False, indent=2 if opts.pretty else None))
        if db is not None:
            db.close()


def _from_file(
    path: Path, url: str | None, encoding: str | None, hints: PortalHints | None
) -> dict[str, Any]:
    body = path.read_bytes()
    meta_path = path.with_name(path.name.rsplit(".", 1)[0] + ".headers.json")
    meta: dict[str, Any] = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    page_url = url or meta.get("url") or path.resolve().as_uri()
    # The sidecar's hints stand for the registry entry the crawl would have passed.
    if hints is None and meta.get("hints"):
        hints = PortalHints(**meta["hints"])
    is_file = is_attachment_url(page_url) or is_attachment_url(path.name)
    doc = RawDocument(
        body=body,
        url=page_url,
        headers=meta.get("headers") or {},
        kind="attachment" if is_file else "report",
        link_title=meta.get("link_title"),
        hints=hints or PortalHints(),
        encoding=encoding,
    )
    return extract_document(doc).to_json_dict()


def _from_store(db: Database, arg: str) -> dict[str, Any]:
    with db.transaction() as session:
        if arg.startswith("snapshot:"):
            snap = repo.snapshot_by_id(session, int(arg.split(":", 1)[1]))
        else:
            snap = repo.newest_content_snapshot(session, arg)
        if snap is None:
            raise LookupError("no stored snapshot")
        # Exactly what the crawl pipeline and `scrapy reparse` extract: the portal's hints and,
        # for a stub page, the texts of the files it links.
        doc = raw_document(session, SnapshotInput.of(snap), stored_hints(session, snap.portal_id))
    return extract_document(doc).to_json_dict()
