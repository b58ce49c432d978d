"""`scrapy extract` as a command line: the public JSON-lines contract of issue 3 (item 6) and the
`tables` / `findings` fields of issue 6 (item 5), run as real subprocesses.

Saved pages are scored against their gold files the way tests/test_eval_gate.py reads gold; stored
snapshots of a real crawl must give exactly the parsed fields the crawl pipelines stored.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl.extract.types import CONTRACT_FIELDS
from gxcrawl.store.db import make_engine
from gxcrawl.testing.evaluation import load_cases, score
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES, crawl_fixture, run_scrapy

PAGES = FIXTURES / "pages"
HTML = sorted(PAGES.glob("*.html"))
NAMES = [p.stem for p in HTML]
# The gold of every page as the evaluation gate reads it (table references resolved).
GOLD = {c.name.split("/", 1)[1]: c.gold for c in load_cases(PAGES)}
SEEDS = [n for n in NAMES if n.startswith("seed")]
# Scalar fields of the contract: absent is null, never "" (nothing guessed, nothing blank).
SCALARS = [
    f for f in CONTRACT_FIELDS if f not in ("flags", "removed", "text", "tables", "findings")
]
# The parsed fields the `reports` view and `scrapy extract` must agree on.
STORED_FIELDS = (
    "title",
    "agency",
    "year",
    "index_no",
    "publisher",
    "written_date",
    "publish_date",
    "doc_no",
    "disclosure_mode",
    "validity",
    "category",
    "region_code",
    "flags",
    "text",
)


def _gold(name: str) -> dict[str, Any]:
    return json.loads((PAGES / f"{name}.gold.json").read_text("utf-8"))


def _meta(name: str) -> dict[str, Any]:
    return json.loads((PAGES / f"{name}.headers.json").read_text("utf-8"))


def _objects(stdout: str) -> list[dict[str, Any]]:
    """Every stdout line must be one JSON object (no banner, no blank lines)."""
    lines = stdout.splitlines()
    objects = [json.loads(line) for line in lines]
    assert all(isinstance(o, dict) for o in objects)
    return objects


@pytest.fixture(scope="module")
def no_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database URL for runs that must not need one (saved files only)."""
    return f"sqlite:///{tmp_path_factory.mktemp('nodb') / 'unused.db'}"


@pytest.fixture(scope="module")
def all_pages(no_db: str) -> dict[str, dict[str, Any]]:
    """One invocation over every fixture page; outputs keyed by page name, in input order."""
    proc = run_scrapy(["extract", *map(str, HTML)], no_db)
    assert proc.returncode == 0, proc.stderr[-2000:]
    objects = _objects(proc.stdout)
    assert len(objects) == len(HTML), "exactly one JSON object per input"
    return dict(zip(NAMES, objects, strict=True))


def test_one_object_per_input_with_every_contract_field(all_pages: dict[str, Any]) -> None:
    for name, data in all_pages.items():
        assert list(data) == list(CONTRACT_FIELDS), name
        assert data["url"] == _meta(name)["url"], "url comes from the page's headers.json"
        blank = [f for f in SCALARS if data[f] == ""]
        assert not blank, f"{name}: absent fields must be null, not empty: {blank}"
        assert isinstance(data["flags"], list) and isinstance(data["removed"], list)
        assert all(set(r) == {"kind", "text"} for r in data["removed"]), name


@pytest.mark.parametrize("name", NAMES)
def test_fields_equal_gold(all_pages: dict[str, Any], name: str) -> None:
    """Every field the gold gives (null = must be absent) and every gold flag."""
    misses = score(all_pages[name], GOLD[name])
    assert not misses, f"{name}:\n  " + "\n  ".join(misses)


@pytest.mark.parametrize("name", SEEDS)
def test_seed_text_keeps_body_and_drops_chrome(all_pages: dict[str, Any], name: str) -> None:
    data, gold = all_pages[name], _gold(name)
    lost = [s[:60] for s in gold["must_contain"] if s not in data["text"]]
    leaked = [s for s in gold["must_not_contain"] if s in data["text"]]
    assert not lost, f"{name}: body lines lost {lost}"
    assert not leaked, f"{name}: chrome/spam left {leaked}"


def test_hacked_seed(all_pages: dict[str, Any]) -> None:
    data = all_pages["seed004_hacked"]
    assert "spam_injected" in data["flags"]
    assert "bet365" not in data["text"]
    assert data["agency"] and "bet365" not in data["agency"] and "官网" not in data["agency"]
    assert any(r["kind"] == "spam" and "bet365" in r["text"] for r in data["removed"])


def test_tables_and_findings(all_pages: dict[str, Any]) -> None:
    broken, sound = all_pages["seed003_trs"], all_pages["seed000_dongyi"]
    assert broken["tables"] and sound["tables"], "both seeds carry statistics tables"
    assert broken["findings"], "seed 003's application table does not add up"
    assert all({"check", "expected", "actual"} <= set(f) for f in broken["findings"])
    assert all(f["expected"] != f["actual"] for f in broken["findings"])
    assert "inconsistent_tables" in broken["flags"]
    assert sound["findings"] == []
    assert "inconsistent_tables" not in sound["flags"]
    fact_keys = {"table", "row_key", "column_key", "row_label", "column_label", "value", "unit"}
    assert all(fact_keys <= set(f) for f in sound["tables"])


def test_encoding_option(tmp_path: Path, no_db: str) -> None:
    """The GBK page declares no charset; --encoding overrides detection both ways."""
    gold = _gold("variant_gbk")
    page = str(PAGES / "variant_gbk.html")
    right = run_scrapy(["extract", page, "--encoding", "gbk"], no_db)
    wrong = run_scrapy(["extract", page, "--encoding", "utf-8"], no_db)
    assert right.returncode == 0 and wrong.returncode == 0, right.stderr + wrong.stderr
    assert _objects(right.stdout)[0]["title"] == gold["title"]
    assert _objects(wrong.stdout)[0]["title"] != gold["title"]
    unknown = run_scrapy(["extract", page, "--encoding", "no-such-codec"], no_db)
    assert unknown.returncode != 0 and "no-such-codec" in unknown.stderr


def test_url_option(tmp_path: Path, no_db: str) -> None:
    # A copy without its headers.json: the URL is the given one, the encoding is detected.
    page = tmp_path / "saved.html"
    shutil.copyfile(PAGES / "seed000_dongyi.html", page)
    url = "http://www.lc.gov.example/other/place.html"
    proc = run_scrapy(["extract", str(page), "--url", url], no_db)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (data,) = _objects(proc.stdout)
    assert data["url"] == url
    assert data["title"] == _gold("seed000_dongyi")["title"]
    both = run_scrapy(["extract", str(page), str(page), "--url", url], no_db)
    assert both.returncode != 0 and both.stdout == "", "--url applies to one input only"


def test_missing_file_fails_but_other_inputs_print(tmp_path: Path, no_db: str) -> None:
    missing = tmp_path / "no-such-page.html"
    bare = tmp_path / "saved.html"  # no headers.json beside it: its URL is the file's
    shutil.copyfile(PAGES / "seed000_dongyi.html", bare)
    inputs = [bare, missing, PAGES / "seed001_hanweb.html"]
    proc = run_scrapy(["extract", *map(str, inputs)], no_db)
    assert proc.returncode != 0
    assert str(missing) in proc.stderr and "No such file" in proc.stderr
    assert "Traceback" not in proc.stderr
    urls = [o["url"] for o in _objects(proc.stdout)]
    assert urls == [bare.resolve().as_uri(), _meta("seed001_hanweb")["url"]]


# --- stored snapshots: the crawl pipelines and `scrapy extract` agree ---------------------------


@dataclass
class Crawled:
    db_url: str
    reports: list[dict[str, Any]]  # rows of the `reports` view
    facts: dict[int, dict[tuple[str, str, str], Any]]  # report_id -> key -> (value, status)
    attachments: list[str]
    extracted: dict[str, dict[str, Any]]  # url -> `scrapy extract <url>` output
    proc: subprocess.CompletedProcess[str]


def _norm(field: str, value: Any) -> Any:
    """The store's representation of a field -> the JSON contract's."""
    if value is None:
        return None
    if field == "flags" and isinstance(value, str):
        return json.loads(value)
    if field.endswith("_date"):
        return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]
    return value


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('extract') / 'crawl.db'}"
    with serve(FIXTURES / "portals" / "demo") as server:
        crawl = crawl_fixture("demo", server.base_url, db_url)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    # The server is stopped: whatever follows reads the database only.
    engine = make_engine(db_url)
    with engine.connect() as conn:
        reports = [dict(r) for r in conn.execute(text("SELECT * FROM reports")).mappings()]
        facts: dict[int, dict[tuple[str, str, str], Any]] = {}
        for f in conn.execute(text("SELECT * FROM report_facts")).mappings():
            key = (f["table_key"], f["row_key"], f["column_key"])
            facts.setdefault(f["report_id"], {})[key] = (f["value"], f["status"])
        attachments = list(
            conn.execute(text("SELECT url FROM documents WHERE kind = 'attachment'")).scalars()
        )
    engine.dispose()
    assert len(reports) == 6, "the demo portal holds six reports"
    urls = [r["url"] for r in reports]
    proc = run_scrapy(["extract", *urls], db_url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    extracted = dict(zip(urls, _objects(proc.stdout), strict=True))
    return Crawled(db_url, reports, facts, attachments, extracted, proc)


def test_stored_snapshot_gives_the_stored_parsed_fields(crawled: Crawled) -> None:
    """Acceptance: the crawl pipelines and `scrapy extract` give identical parsed fields."""
    for row in crawled.reports:
        data = crawled.extracted[row["url"]]
        assert list(data) == list(CONTRACT_FIELDS)
        assert data["url"] == row["url"] and data["is_report"] is True
        diff = {
            f: (_norm(f, row[f]), data[f]) for f in STORED_FIELDS if _norm(f, row[f]) != data[f]
        }
        assert not diff, f"{row['url']}: (stored, extract) {diff}"


def test_stored_snapshot_gives_the_stored_facts_and_findings(crawled: Crawled) -> None:
    for row in crawled.reports:
        data = crawled.extracted[row["url"]]
        assert data["template"] == row["template"], row["url"]
        assert len(data["findings"]) == row["n_findings"], row["url"]
        facts: dict[tuple[str, str, str], Any] = {}
        for f in data["tables"]:
            facts.setdefault((f["table"], f["row_key"], f["column_key"]), (f["value"], f["status"]))
        assert facts == crawled.facts.get(row["report_id"], {}), row["url"]
    assert any(row["n_findings"] for row in crawled.reports), "the seed 003 report breaks one"


def test_stored_attachment_prints_the_whole_contract(crawled: Crawled) -> None:
    assert crawled.attachments, "the demo portal links a PDF version of a report"
    proc = run_scrapy(["extract", *crawled.attachments], crawled.db_url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for data, url in zip(_objects(proc.stdout), crawled.attachments, strict=True):
        assert list(data) == list(CONTRACT_FIELDS)
        assert data["url"] == url and data["text"]


def test_unknown_url_is_an_error_not_a_fetch(crawled: Crawled) -> None:
    known = crawled.reports[0]["url"]
    unknown = known.rsplit("/", 1)[0] + "/never-crawled.html"
    proc = run_scrapy(["extract", unknown, known], crawled.db_url)
    assert proc.returncode != 0
    assert unknown in proc.stderr and "no stored snapshot" in proc.stderr
    assert [o["url"] for o in _objects(proc.stdout)] == [known]
