"""Operator mistakes (paths, URLs, dialects, run ids, arguments) end in one clear line and exit 2,
never a traceback; output piped into a reader that stops early ends quietly. Each case is a real
`scrapy` subprocess (tests/conftest.py run_scrapy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gxcrawl import health

from .conftest import FIXTURES, ROOT, run_scrapy

DEMO_REGISTRY = FIXTURES / "portals" / "demo" / "portal.toml"
NOWHERE = "http://127.0.0.1:9/"  # nothing listens on the discard port: no request leaves the host
CRAWL = ["crawl", "annual_reports", "-a", f"start_url={NOWHERE}"]


def _blocker(tmp_path: Path) -> Path:
    """A plain file where a folder is needed (root ignores permission bits, not this)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    return blocker


# (name, scrapy args, database URL, the one line's expected part); {tmp} and {file} are filled in
CASES = [
    ("db_under_a_file", ["summary"], "sqlite:///{file}/x.db", "no database at {file}/x.db"),
    ("crawl_db_under_a_file", CRAWL, "sqlite:///{file}/x.db", "{file} is a file"),
    (
        "mysql_dialect",
        ["runs"],
        "mysql://gx@127.0.0.1/gx",
        "unsupported database 'mysql' in mysql://gx@127.0.0.1/gx: gxcrawl stores into "
        "sqlite:///PATH or postgresql://USER@HOST/DB",
    ),
    ("not_a_url", ["runs"], "no-scheme-here", "not a database URL: 'no-scheme-here'"),
    (
        "export_out_under_a_file",
        ["export", "--out", "{file}/out"],
        "sqlite:///{tmp}/ok.db",
        "--out: cannot create {file}/out: {file} is a file",
    ),
    (
        "logfile_under_a_file",
        [*CRAWL, "--logfile", "{file}/crawl.log"],
        "sqlite:///{tmp}/ok.db",
        "--logfile: cannot create {file}: {file} is a file",
    ),
    (
        "jobdir_under_a_file",
        [*CRAWL, "-s", "JOBDIR={file}/job"],
        "sqlite:///{tmp}/ok.db",
        "JOBDIR: cannot create {file}/job: {file} is a file",
    ),
    (
        "stats_file_under_a_file",
        [*CRAWL, "-s", "GXCRAWL_STATS_FILE={file}/s.json"],
        "sqlite:///{tmp}/ok.db",
        "GXCRAWL_STATS_FILE: cannot create {file}: {file} is a file",
    ),
    (
        "start_url_not_http",
        ["crawl", "annual_reports", "-a", "start_url=ftp://example.org/x"],
        "sqlite:///{tmp}/ok.db",
        "start_url 'ftp://example.org/x' is not an absolute http(s) URL",
    ),
    (
        "unknown_platform",
        [*CRAWL, "-a", "platform=trz"],
        "sqlite:///{tmp}/ok.db",
        "unknown platform 'trz' (did you mean 'trs'?); known platforms: aspnet, auto,",
    ),
    (
        "summary_run_99",
        ["summary", "--run", "99"],
        "sqlite:///{tmp}/ok.db",
        "there is no run 99 in this database",
    ),
    ("bad_limit", ["runs", "--limit", "many"], "sqlite:///{tmp}/ok.db", "invalid int value"),
    (
        "bad_set",
        [*CRAWL, "-s", "NO_EQUALS_SIGN"],
        "sqlite:///{tmp}/ok.db",
        "Invalid -s value, use -s NAME=VALUE",
    ),
]


@pytest.fixture(scope="module")
def store_with_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one (empty) crawl run, so `summary --run 99` has runs to not find 99 in."""
    folder = tmp_path_factory.mktemp("ops")
    proc = run_scrapy(
        ["crawl", "annual_reports", "-a", f"registry={DEMO_REGISTRY}", "-a", f"base_url={NOWHERE}",
         "-s", "RETRY_TIMES=0", "-s", "GXCRAWL_PROGRESS_INTERVAL=0"],
        f"sqlite:///{folder / 'ok.db'}",
    )  # fmt: skip
    assert proc.returncode == health.EXIT_UNHEALTHY, proc.stderr[-2000:]  # nothing answered
    return folder


@pytest.mark.parametrize(("name", "args", "db", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operator_mistake_is_one_line_exit_2(
    name: str, args: list[str], db: str, expected: str, store_with_runs: Path, tmp_path: Path
) -> None:
    file = _blocker(tmp_path)
    fill = {"tmp": str(store_with_runs), "file": str(file)}
    proc = run_scrapy([a.format(**fill) for a in args], db.format(**fill), timeout=120)
    assert proc.returncode == 2, (name, proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert "error: " in last and expected.format(**fill) in last, last


def test_postgres_alias_is_postgresql(pg_url: str) -> None:
    alias = "postgres://" + pg_url.split("://", 1)[1]  # the spelling Heroku and others print
    proc = run_scrapy(["runs"], alias)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("  run status")


@pytest.mark.parametrize("args", [["portals", "--all"], ["runs"], ["summary"]])
def test_output_into_a_closed_pipe_ends_quietly(args: list[str], store_with_runs: Path) -> None:
    """What `scrapy portals | head -1` does once head has exited: the reader is gone."""
    env = {**os.environ, "GXCRAWL_DATABASE_URL": f"sqlite:///{store_with_runs / 'ok.db'}"}
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command prints
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=env, stdout=write,
            stderr=subprocess.PIPE, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write)
    assert "BrokenPipeError" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == ""
