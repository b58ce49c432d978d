"""Offline parts of `make bench`: extraction speed against a general extractor, and where the
milliseconds of one page go, stage by stage.

- `compare_extractors`: gxcrawl's `extract_document` (metadata, chrome, spam, title, agency,
  tables, checks) against `trafilatura.extract(html, include_tables=True)` (main text and tables
  only) on the same pages — the HTML pages of the evaluation corpus (`fixtures/pages`,
  `fixtures/tables`) — alternating rounds, best round of each, so a loaded machine hurts both
  alike. trafilatura is a bench-only extra (`pip install -e '.[bench]'`).
- `stage_times`: the same entry point with its stages timed (decode, parse, content, metadata
  tables, chrome blocks, lines, title and agency, statistics tables and checks) plus the store's
  write of each page (fetch record and parsed report, `GXCRAWL_BATCH_ITEMS` per transaction) on
  a scratch SQLite database.
"""

from __future__ import annotations

import importlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gxcrawl.config import DEFAULT_BATCH_ITEMS
from gxcrawl.extract import page, process
from gxcrawl.extract.process import Extraction, RawDocument, extract_document
from gxcrawl.ingest import SnapshotInput, extract_and_save
from gxcrawl.items import PageItem
from gxcrawl.store import repository as repo
from gxcrawl.store.db import Database
from gxcrawl.testing.evaluation import load_cases, load_table_cases
from gxcrawl.vocab import DocumentKind
from gxcrawl.writes import fetch_record

ROOT = Path(__file__).resolve().parents[1]
# Rounds of each extractor: the best one counts (the least disturbed by other load).
ROUNDS = 5
MS = 1000.0

# Stage name → (module, function): each is wrapped with a timer while `stage_times` runs.
STAGES: dict[str, tuple[Any, str]] = {
    "decode": (process, "decode_html"),
    "parse + content": (page, "_locate"),
    "metadata tables": (page, "_take_metadata_tables"),
    "chrome blocks": (page, "_strip_blocks"),
    "lines": (page, "_read_lines"),
    "title + agency": (page, "_choose_title"),
    "tables + checks": (process, "_add_tables"),
}


def portal_documents(portal_dir: Path, limit: int) -> list[RawDocument]:
    """Report pages of the generated bench portal (the pages the bench crawl parses)."""
    files = sorted((portal_dir / "xxgk").rglob("t*.html"))[:limit]
    return [
        RawDocument(body=f.read_bytes(), url=f"http://bench.example/{f.relative_to(portal_dir)}")
        for f in files
    ]


def corpus_documents() -> list[RawDocument]:
    """The HTML pages of the evaluation corpus, as the gate runs them."""
    cases = [*load_cases(ROOT / "fixtures/pages"), *load_table_cases(ROOT / "fixtures/tables")]
    return [c.doc for c in cases if c.doc.kind == "report" and c.doc.body.lstrip()[:1] == b"<"]


def _best_rate(run: Callable[[], None], n_docs: int, rounds: list[float]) -> None:
    start = time.perf_counter()
    run()
    rounds.append(n_docs / (time.perf_counter() - start))


def _trafilatura() -> Any | None:
    """trafilatura if the [bench] extra is installed (never a runtime dependency)."""
    try:
        return importlib.import_module("trafilatura")
    except ImportError:
        return None


def compare_extractors(docs: list[RawDocument]) -> tuple[float, float | None]:
    """(gxcrawl docs/s, trafilatura docs/s or None when it is not installed)."""
    trafilatura = _trafilatura()
    texts = [process.decode_html(d.body, d.header("content-type"))[0] for d in docs]

    def ours() -> None:
        for doc in docs:
            extract_document(doc)

    def theirs() -> None:
        assert trafilatura is not None
        for text in texts:
            trafilatura.extract(text, include_tables=True)

    ours()  # warm-up: imports, compiled patterns
    if trafilatura is not None:
        theirs()
    rates: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(ROUNDS):
        _best_rate(ours, len(docs), rates["ours"])
        if trafilatura is not None:
            _best_rate(theirs, len(docs), rates["theirs"])
    return max(rates["ours"]), (max(rates["theirs"]) if rates["theirs"] else None)


@contextmanager
def _timed_stages(totals: dict[str, float]) -> Iterator[None]:
    originals = {name: getattr(mod, fn) for name, (mod, fn) in STAGES.items()}

    def wrap(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - start

        return timed

    for name, (mod, fn) in STAGES.items():
        setattr(mod, fn, wrap(name, originals[name]))
    try:
        yield
    finally:
        for name, (mod, fn) in STAGES.items():
            setattr(mod, fn, originals[name])


def stage_times(docs: list[RawDocument], work: Path) -> dict[str, float]:
    """Milliseconds per page by stage (extraction stages, the rest of extraction, the write)."""
    totals: dict[str, float] = defaultdict(float)
    extractions = []
    start = time.perf_counter()
    with _timed_stages(totals):
        for doc in docs:
            extractions.append(extract_document(doc))
    whole = time.perf_counter() - start
    out = {name: totals[name] / len(docs) * MS for name in STAGES}
    out["other extraction"] = whole / len(docs) * MS - sum(out.values())
    out["store write"] = _write_time(docs, extractions, work) / len(docs) * MS
    return out


def _write_time(docs: list[RawDocument], extractions: list[Extraction], work: Path) -> float:
    """Seconds to record each page's fetch and save its extraction, batched as in a crawl."""
    db = Database(f"sqlite:///{work / 'stages.db'}")
    try:
        start = time.perf_counter()
        for first in range(0, len(docs), DEFAULT_BATCH_ITEMS):
            with db.transaction() as session:
                for n in range(first, min(first + DEFAULT_BATCH_ITEMS, len(docs))):
                    _store_page(session, n, docs[n], extractions[n])
        return time.perf_counter() - start
    finally:
        db.close()


def _store_page(session: Session, n: int, doc: RawDocument, out: Extraction) -> None:
    """What the pipeline writes for a new report page: its fetch, snapshot and parsed row."""
    url = f"{doc.url}#{n}"  # a document of its own even when a page repeats
    item = PageItem(url=url, kind=DocumentKind.REPORT, portal_id=None, status=200,
                    headers=dict(doc.headers), body=doc.body)  # fmt: skip
    stored = repo.record_fetch(session, fetch_record(item), run_id=None, recheck_after=None)
    assert stored.snapshot_id is not None
    snap = SnapshotInput(stored.snapshot_id, stored.document_id, url, "report", None, doc.body,
                         doc.headers, None, standalone=True, fresh=True)  # fmt: skip
    extract_and_save(session, snap, doc.hints, out)
