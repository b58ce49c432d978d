"""The README's Scrapyd section, end to end (issue 14): a real `scrapyd` on a free 127.0.0.1 port,
`scrapyd-deploy local` from a copy of the project, a job scheduled on the demo fixture portal that
stores its reports in PostgreSQL, and a job that cannot start, visible as failed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES
from .test_install import copy_project

DEMO = FIXTURES / "portals" / "demo"
BIN = Path(sys.executable).parent
README_DEPLOY_URL = "http://127.0.0.1:6800/"  # the [deploy:local] target in scrapy.cfg
JOB_TIMEOUT = 120  # seconds for a job to finish
START_TIMEOUT = 30  # seconds for scrapyd to answer
POLL_SECONDS = 0.3
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "GXCRAWL_PROGRESS_INTERVAL": "0",
}

pytestmark = pytest.mark.skipif(
    not (BIN / "scrapyd").exists() or not (BIN / "scrapyd-deploy").exists(),
    reason="scrapyd / scrapyd-client not installed (pip install -e '.[dev]')",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Scrapyd:
    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log

    def call(self, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with urllib.request.urlopen(self.url + endpoint, data=body, timeout=10) as resp:
            answer: dict[str, Any] = json.loads(resp.read())
        assert answer.get("status") == "ok", answer
        return answer

    def wait_finished(self, job: str) -> dict[str, Any]:
        deadline = time.monotonic() + JOB_TIMEOUT
        while time.monotonic() < deadline:
            for entry in self.call("listjobs.json?project=gxcrawl")["finished"]:
                if entry["id"] == job:
                    return entry
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"job {job} did not finish; scrapyd log:\n{self.log.read_text()}")

    def job_log(self, entry: dict[str, Any]) -> str:
        with urllib.request.urlopen(self.url.rstrip("/") + entry["log_url"], timeout=10) as resp:
            return str(resp.read().decode("utf-8", "replace"))


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    work = tmp_path_factory.mktemp("scrapyd")
    port = _free_port()
    home = work / "service"
    home.mkdir()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        f"bind_address = 127.0.0.1\nhttp_port = {port}\n"
        "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
        "poll_interval = 0.2\nmax_proc = 2\n",
        "utf-8",
    )
    log = work / "scrapyd.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "scrapyd")], cwd=home, stdout=out, stderr=subprocess.STDOUT
        )
    service = Scrapyd(f"http://127.0.0.1:{port}/", log)
    try:
        _wait_up(service, proc)
        _deploy(copy_project(work / "project"), service.url)
        yield service
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_up(service: Scrapyd, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, service.log.read_text()
        try:
            service.call("daemonstatus.json")
            return
        except OSError:
            time.sleep(POLL_SECONDS)
    raise AssertionError(f"scrapyd did not start:\n{service.log.read_text()}")


def _deploy(project: Path, url: str) -> None:
    """`scrapyd-deploy local`, as the README says, with the target moved to this test's port."""
    cfg = project / "scrapy.cfg"
    assert README_DEPLOY_URL in cfg.read_text("utf-8")
    cfg.write_text(cfg.read_text("utf-8").replace(README_DEPLOY_URL, url), "utf-8")
    proc = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "local"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0 and '"status": "ok"' in proc.stdout, proc.stdout + proc.stderr


def _schedule(service: Scrapyd, settings: dict[str, str], **spider_args: str) -> str:
    data = [("project", "gxcrawl"), ("spider", "annual_reports"), *spider_args.items()]
    data += [("setting", f"{k}={v}") for k, v in settings.items()]
    return str(service.call("schedule.json", data)["jobid"])


def test_a_deployed_job_stores_the_reports(scrapyd: Scrapyd, pg_url: str) -> None:
    with serve(DEMO) as server:
        job = _schedule(
            scrapyd,
            {**FAST, "GXCRAWL_DATABASE_URL": pg_url},
            registry=str(DEMO / "portal.toml"),
            base_url=server.base_url,
        )
        entry = scrapyd.wait_finished(job)
    assert "Process died: exitstatus=" not in _lines_of(scrapyd.log, job)
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT status FROM crawl_runs")).scalars().all()
        reports = conn.execute(text("SELECT url FROM report_documents")).scalars().all()
    engine.dispose()
    expected = json.loads((DEMO / "expected.json").read_text("utf-8"))["reports"]
    assert runs == ["finished"], scrapyd.job_log(entry)[-3000:]
    assert len(reports) == len(expected)


def test_a_job_that_cannot_start_is_visible_as_failed(scrapyd: Scrapyd) -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere"  # port 1: nothing listens there
    job = _schedule(
        scrapyd,
        {**FAST, "GXCRAWL_DATABASE_URL": unreachable},
        registry=str(DEMO / "portal.toml"),
        base_url="http://127.0.0.1:1",
    )
    entry = scrapyd.wait_finished(job)
    # Scrapyd 1.6 lists every ended job as finished; the exit status is in its own log, and the
    # reason is in the job's log (not only Scrapy's banner).
    assert "Process died: exitstatus=2" in _lines_of(scrapyd.log, job)
    assert "crawl not started: cannot open the database" in scrapyd.job_log(entry)


def _lines_of(log: Path, job: str) -> str:
    return "\n".join(line for line in log.read_text().splitlines() if job in line)
