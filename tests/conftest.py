"""Shared fixtures: databases (SQLite always, PostgreSQL when reachable) and crawl helpers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
PG_URL = os.environ.get(
    "GXCRAWL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gxcrawl.db'}"


def _pg_reason() -> str | None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return "psycopg is not installed"
    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_URL} ({type(exc).__name__}: {exc})"


_PG_SKIP = _pg_reason()


@contextmanager
def temporary_pg_schema() -> Iterator[str]:
    """A database URL whose search_path is a fresh PostgreSQL schema, dropped afterwards."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    import psycopg

    schema = f"gx_{uuid.uuid4().hex[:12]}"
    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = (
        PG_URL if "+psycopg" in PG_URL else PG_URL.replace("postgresql://", "postgresql+psycopg://")
    )
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


def run_scrapy(
    args: list[str], db_url: str, *, timeout: int = 240
) -> subprocess.CompletedProcess[str]:
    """Run `scrapy …` in a subprocess from the project root against `db_url`."""
    env = {**os.environ, "GXCRAWL_DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


FAST_CRAWL = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s",
    "GXCRAWL_PROGRESS_INTERVAL=0",
    "-s",
    "LOG_LEVEL=INFO",
]


def crawl_fixture(
    portal: str, base_url: str, db_url: str, *extra: str
) -> subprocess.CompletedProcess[str]:
    registry = FIXTURES / "portals" / portal / "portal.toml"
    return run_scrapy(
        [
            "crawl",
            "annual_reports",
            "-a",
            f"registry={registry}",
            "-a",
            f"base_url={base_url}",
            *FAST_CRAWL,
            *extra,
        ],
        db_url,
    )
