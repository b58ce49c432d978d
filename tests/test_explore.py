"""Issue 15, item 3: `make explore` serves the store in Datasette — metadata and labels, canned
queries, Chinese full-text search (FTS5 trigram), every page within a second — checked over HTTP
and in real headless Chromium (skipped with a reason where none is installed; CI installs it).

The store: the demo fixture portal crawled by the real spider, plus the held-out department
pages of tests/workbench_store.py, scored by `refresh_quality_scores`."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gxcrawl.explore import CANNED_QUERIES, FTS_TABLE, prepare
from gxcrawl.store.db import Database
from gxcrawl.store.quality import refresh_quality_scores
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES, ROOT, crawl_fixture
from .workbench_store import EDU, PORTAL, department_pages, record_page, render

ARTEFACTS = ROOT / "test-artefacts"  # gitignored: screenshots kept for a person to look at
PAGE_TIMEOUT_S = 1.0  # the bar: every page answers within a second on this store
STARTUP_TIMEOUT_S = 60  # `make explore` checks the install first
CHROMIUM_TIMEOUT_S = 60
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, timeout: float = PAGE_TIMEOUT_S) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        assert resp.status == 200, url
        return bytes(resp.read())


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("explore") / "gxcrawl.db"
    url = f"sqlite:///{path}"
    with serve(FIXTURES / "portals" / "demo") as server:
        proc = crawl_fixture("demo", server.base_url, url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    db = Database(url)
    from gxcrawl.store import repository as repo

    with db.transaction() as session:
        repo.upsert_portals(session, [PORTAL])
    for page in department_pages():
        record_page(db, page.url, render(page))
    with db.transaction() as session:
        refresh_quality_scores(session)
    db.close()
    return path


@pytest.fixture(scope="module")
def server(store: Path) -> Iterator[str]:
    """`make explore DB=… EXPLORE_PORT=…` running; its base URL. Stopped (its whole process
    group) afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        ["make", "-s", "explore", f"DB={store}", f"EXPLORE_PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            try:
                _get(base + "/", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    os.killpg(proc.pid, signal.SIGTERM)  # else reading its output never ends
                    out = proc.communicate(timeout=20)[0].decode()
                    pytest.fail(f"make explore did not start: {out[-2000:]}")
                time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def _db(store: Path) -> str:
    return store.stem


def test_report_quality_served_as_json(server: str, store: Path) -> None:
    rows = json.loads(_get(f"{server}/{_db(store)}/report_quality.json?_shape=array&_size=max"))
    by_key = {(r["agency"], r["year"]): r for r in rows}
    assert by_key[(EDU, 2021)]["days_late"] == 10
    assert by_key[(EDU, 2022)]["sections_missing"] == "五"
    assert by_key[(EDU, 2021)]["similar_url"] == by_key[(EDU, 2020)]["url"]
    assert len(rows) > 6  # the demo portal's reports are scored too


def test_canned_queries_return_the_expected_rows(server: str, store: Path) -> None:
    base = f"{server}/{_db(store)}"
    late = json.loads(_get(f"{base}/late_reports.json?_shape=array"))
    assert (EDU, 2021, 10) in {(r["agency"], r["year"], r["days_late"]) for r in late}
    missing = json.loads(_get(f"{base}/missing_sections.json?_shape=array"))
    assert (EDU, 2022, "五") in {(r["agency"], r["year"], r["sections_missing"]) for r in missing}
    copies = json.loads(_get(f"{base}/near_copies.json?_shape=array"))
    assert {(r["agency"], r["year"]) for r in copies} >= {(EDU, 2020), (EDU, 2021)}
    spam = json.loads(_get(f"{base}/spam_injected.json?_shape=array"))
    assert spam, "the demo portal has a spam-injected report page"


def test_chinese_full_text_search(server: str, store: Path) -> None:
    base = f"{server}/{_db(store)}"
    q = urllib.parse.quote("临江街道")  # a phrase inside the demo portal's report text
    hits = json.loads(_get(f"{base}/search_text.json?_shape=array&q={q}"))
    assert hits and all("【" in h["snippet"] for h in hits)
    assert any("临江街道办事处" in (h["agency"] or "") for h in hits)
    table = json.loads(_get(f"{base}/reports.json?_shape=array&_search={q}&_col=agency"))
    assert table and len(table) == len(hits)


def test_labels_and_metadata(server: str, store: Path) -> None:
    base = f"{server}/{_db(store)}"
    labels = json.loads(_get(f"{base}/key_labels.json?_shape=array&key=carry_forward&kind=row"))
    assert labels == [
        {"table_key": "applications", "kind": "row", "key": "carry_forward",
         "label": "四、结转下年度继续办理"}
    ]  # fmt: skip
    art20 = json.loads(_get(f"{base}/key_labels.json?_shape=array&table_key=art20_1&kind=row"))
    assert {r["key"]: r["label"] for r in art20}.get("rules") == "规章"  # as printed in the store
    meta = json.loads(_get(f"{server}/-/metadata.json"))
    columns = meta["databases"][_db(store)]["tables"]["application_table"]["columns"]
    assert columns["new_received__person"].startswith("一、本年新收政府信息公开申请数量 × 自然人")


def test_every_page_answers_within_a_second(server: str, store: Path) -> None:
    base = f"{server}/{_db(store)}"
    tables = json.loads(_get(f"{base}.json", timeout=10))["tables"]
    names = [t["name"] for t in tables if not t["hidden"]]
    views = ["reports", "report_documents", "report_facts", "application_table",
             "report_edits", "report_quality"]  # fmt: skip
    pages = ["/", f"/{_db(store)}"] + [f"/{_db(store)}/{n}" for n in names + views]
    pages += [f"/{_db(store)}/{q}" for q in CANNED_QUERIES if q != "search_text"]
    pages += [f"/{_db(store)}/search_text?q={urllib.parse.quote('政府信息')}"]
    for page in pages:
        _get(server + page)  # raises on a page slower than PAGE_TIMEOUT_S


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _browse(url: str, extra: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium installed (apt-get install chromium; CI installs it)")
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
    )


def test_in_headless_chromium(server: str, store: Path, tmp_path: Path) -> None:
    url = f"{server}/{_db(store)}/late_reports"
    dom = _browse(url, ["--dump-dom"], tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Late reports (published after the deadline)" in dom.stdout
    assert EDU in dom.stdout and "t2021_001.html" in dom.stdout
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "explore-late-reports.png"
    shot.unlink(missing_ok=True)
    done = _browse(
        url, [f"--screenshot={shot}", "--window-size=1280,900"], tmp_path / "profile-shot"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG"), "a screenshot is kept as an artefact"


def test_prepare_rebuilds_the_index(store: Path) -> None:
    import sqlite3

    first = prepare(store)
    assert prepare(store) == first  # rebuilt, not appended
    conn = sqlite3.connect(store)
    try:
        hits = conn.execute(
            f"SELECT COUNT(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?", ['"行政复议"']
        ).fetchone()[0]
    finally:
        conn.close()
    assert hits == first  # every report has part 四


def test_only_existing_sqlite_stores_are_served(tmp_path: Path) -> None:
    from gxcrawl.explore import sqlite_path

    with pytest.raises(SystemExit, match="SQLite stores only"):
        sqlite_path("postgresql://postgres@127.0.0.1/test")
    with pytest.raises(SystemExit, match="no SQLite store"):
        sqlite_path(str(tmp_path / "absent.db"))
    store = tmp_path / "x.db"
    store.write_bytes(b"")
    assert sqlite_path(f"sqlite:///{store}") == store
