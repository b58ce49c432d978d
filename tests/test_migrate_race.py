"""Several processes opening one new, empty database at once all migrate it safely (issue 12):
SQLite through a file lock, PostgreSQL through a transaction-level advisory lock."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .conftest import ROOT
from .test_incremental import q

PROCESSES = 3  # more than two, so a lock that admits one waiter at a time is exercised
START_DELAY = 1.5  # seconds: every process has imported everything before the common start
# Each process sleeps until the same instant, then opens (and so migrates) the database.
OPEN_AT = """
import sys, time
from gxcrawl.store.db import Database
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
Database(sys.argv[1]).close()
"""


def open_at_once(url: str) -> list[subprocess.CompletedProcess[str]]:
    start = time.time() + START_DELAY
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT, url, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _assert_migrated_once(url: str, runs: list[subprocess.CompletedProcess[str]]) -> None:
    for run in runs:
        assert run.returncode == 0, run.stderr[-2000:]
    assert len(q(url, "SELECT version_num FROM alembic_version")) == 1
    assert q(url, "SELECT COUNT(*) FROM documents") == [(0,)]


def test_new_sqlite_database_opened_by_several_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    _assert_migrated_once(url, open_at_once(url))


def test_new_postgres_schema_opened_by_several_processes(pg_url: str) -> None:
    _assert_migrated_once(pg_url, open_at_once(pg_url))
