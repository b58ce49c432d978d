"""`make demo` runs `python -m gxcrawl.testing.demo`: a real crawl of the bundled portal, twice."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from .conftest import FIXTURES, ROOT
from .test_incremental import count, q


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_twice_prints_summary_and_duplicates_nothing(sqlite_url: str) -> None:
    expected = json.loads((FIXTURES / "portals/demo/expected.json").read_text("utf-8"))
    log = sqlite_url.removeprefix("sqlite:///") + ".log"
    cmd = [sys.executable, "-m", "gxcrawl.testing.demo", "--port", str(_free_port()),
           "--database-url", sqlite_url, "--logfile", log]  # fmt: skip
    first = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"reports stored: {len(expected['reports'])}" in first.stdout
    assert f"look-alikes rejected: {len(expected['lookalikes'])}" in first.stdout
    for report in expected["reports"]:
        assert report["path"] in first.stdout
    tables = ("documents", "snapshots", "bodies", "parsed_reports", "facts")
    before = [count(sqlite_url, t) for t in tables]
    second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert [count(sqlite_url, t) for t in tables] == before
    assert "changes this run: none" in second.stdout
    assert q(sqlite_url, "SELECT status FROM crawl_runs ORDER BY id") == [
        ("finished",),
        ("finished",),
    ]


def test_runs_lists_both_demo_runs(sqlite_url: str) -> None:
    from .conftest import run_scrapy

    log = sqlite_url.removeprefix("sqlite:///") + ".log"
    cmd = [sys.executable, "-m", "gxcrawl.testing.demo", "--port", str(_free_port()),
           "--database-url", sqlite_url, "--logfile", log]  # fmt: skip
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180, check=True)
    listed = run_scrapy(["runs"], sqlite_url)
    assert listed.returncode == 0, listed.stderr
    header, first = listed.stdout.splitlines()[:2]
    assert header.split()[:3] == ["run", "status", "started"]
    cols = first.split()
    assert cols[0] == "1" and cols[1] == "finished" and cols[-1] == "fixture-demo"


def test_demo_crawls_any_portal_folder_from_any_directory(tmp_path: Path) -> None:
    """No scrapy.cfg in the working directory, the portal outside fixtures/: the demo still finds
    gxcrawl's settings and crawls the folder it is given."""
    portal = tmp_path / "my-portal"
    shutil.copytree(FIXTURES / "portals/demo", portal)
    expected = json.loads((portal / "expected.json").read_text("utf-8"))
    db_url = f"sqlite:///{tmp_path / 'mine.db'}"
    cmd = [sys.executable, "-m", "gxcrawl.testing.demo", "--portal-dir", str(portal),
           "--port", str(_free_port()), "--database-url", db_url,
           "--logfile", str(tmp_path / "crawl.log")]  # fmt: skip
    run = subprocess.run(
        cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"reports stored: {len(expected['reports'])}" in run.stdout
    assert not (tmp_path / "scrapy.cfg").exists()
