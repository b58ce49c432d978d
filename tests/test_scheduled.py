"""The README's cron and systemd lines, run exactly as written (the checkout moved to a temporary
folder, the database a temporary SQLite file, the registry the local demo portal), twice in a
row: the second run does real work too — every list page asked again (conditionally), nothing
skipped as already seen by the job directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gxcrawl.testing.fixtureserver import FixtureServer, serve

from .conftest import FIXTURES, ROOT
from .test_incremental import q

README = (ROOT / "README.md").read_text("utf-8")
DEMO = FIXTURES / "portals" / "demo"
CHECKOUT = "/srv/gxcrawl"  # where the README's lines expect the project
LIST_PATHS = {"/xxgk/ndbg/", "/xxgk/ndbg/index_1.html", "/xxgk/ndbg/index_2.html"}


def _cron_command() -> str:
    (block,) = re.findall(r"```cron\n(.*?)\n```", README, re.S)
    (line,) = [x for x in block.splitlines() if x.strip() and not x.startswith("#")]
    command = line.split(None, 5)[5]  # after the five time fields
    return command.replace("\\%", "%")  # cron's escape for % (the shell sees a plain %)


def _systemd() -> tuple[str, str]:
    (exec_start,) = re.findall(r"`ExecStart=([^`]+)`", README)
    (workdir,) = re.findall(r"`WorkingDirectory=([^`]+)`", README)
    return exec_start, workdir


def _checkout(tmp_path: Path, server: FixtureServer) -> tuple[Path, dict[str, str]]:
    """A folder standing in for /srv/gxcrawl: scrapy.cfg, a .venv/bin/scrapy that runs this
    interpreter's Scrapy, and an environment whose registry is the demo portal on 127.0.0.1."""
    home = tmp_path / "srv"
    (home / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "scrapy.cfg", home / "scrapy.cfg")
    scrapy = home / ".venv" / "bin" / "scrapy"
    scrapy.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m scrapy "$@"\n', "utf-8")
    scrapy.chmod(0o755)
    registry = (DEMO / "portal.toml").read_text("utf-8")
    registry = re.sub(r'= (\[?)"/', rf'= \1"{server.base_url}/', registry)
    (tmp_path / "portal.toml").write_text(registry, "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GXCRAWL_")}
    env.update(
        GXCRAWL_REGISTRY=str(tmp_path / "portal.toml"),
        # the README's timer lines keep Scrapy's polite defaults; the demo is small
        SCRAPY_SETTINGS_MODULE="gxcrawl.settings",
    )
    return home, env


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=240, check=False,
    )  # fmt: skip


def _twice(server: FixtureServer, command: str, cwd: Path, env: dict[str, str]) -> list[Any]:
    logs = []
    for _ in range(2):
        server.clear_log()
        proc = _run(command, cwd, env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs.append(list(server.requests))
    return logs


def _assert_second_run_did_real_work(logs: list[Any], db: Path, jobdir: Path) -> None:
    second = {r.path: r for r in logs[1]}
    assert set(second) >= LIST_PATHS, sorted(second)  # every list page asked again
    assert all(second[p].conditional and second[p].status == 304 for p in LIST_PATHS)
    url = f"sqlite:///{db}"
    runs = q(url, "SELECT status, stats FROM crawl_runs ORDER BY id")
    assert [status for status, _ in runs] == ["finished", "finished"]
    stats = json.loads(runs[1][1]) if isinstance(runs[1][1], str) else runs[1][1]
    assert stats["response_received_count"] > len(LIST_PATHS)  # lists, robots.txt, a report…
    assert not (jobdir / "requests.seen").exists()  # a finished run leaves no seen-set behind


@pytest.mark.skipif(sys.platform == "win32", reason="cron lines are for a POSIX shell")
def test_readme_cron_line_twice_does_real_work(tmp_path: Path) -> None:
    command = _cron_command()
    assert command.startswith(f"cd {CHECKOUT} && GXCRAWL_DATABASE_URL=")
    with serve(DEMO) as server:
        home, env = _checkout(tmp_path, server)
        db = home / "data" / "test.db"
        command = command.replace(f"cd {CHECKOUT}", f"cd {home}")
        command = re.sub(
            r"GXCRAWL_DATABASE_URL=\S+", f"GXCRAWL_DATABASE_URL=sqlite:///{db}", command
        )
        logs = _twice(server, command, tmp_path, env)
    _assert_second_run_did_real_work(logs, db, home / "data" / "jobs" / "daily")
    stats = (home / "data" / "last-stats.json").read_text("utf-8")
    assert '"gxcrawl/health/status": "healthy"' in stats and '"finish_reason": "finished"' in stats
    if sys.platform == "linux":  # the crawl's own peak RSS, read from /proc at the end
        assert json.loads(stats)["gxcrawl/peak_rss_bytes"] > 10 * 2**20
    assert list((home / "data").glob("crawl-*.log")), "the --logfile was not written"


def test_readme_systemd_unit_twice_does_real_work(tmp_path: Path) -> None:
    exec_start, workdir = _systemd()
    assert workdir == CHECKOUT and exec_start.startswith(f"{CHECKOUT}/.venv/bin/scrapy ")
    with serve(DEMO) as server:
        home, env = _checkout(tmp_path, server)
        command = exec_start.replace(CHECKOUT, str(home))
        logs = _twice(server, command, home, env)  # WorkingDirectory: the default data/gxcrawl.db
    _assert_second_run_did_real_work(logs, home / "data" / "gxcrawl.db", home / "data/jobs/daily")
