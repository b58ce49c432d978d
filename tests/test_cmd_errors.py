"""Operator mistakes end in one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import FIXTURES, run_scrapy

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nope"


@pytest.mark.parametrize(
    "args",
    [
        [
            "crawl",
            "annual_reports",
            "-a",
            f"registry={FIXTURES / 'portals/demo/portal.toml'}",
            "-a",
            "base_url=http://127.0.0.1:9",
        ],
        ["extract", "snapshot:1"],
        ["summary"],
        ["runs"],
        ["reparse"],
        ["export", "--out", "/tmp/gxcrawl-never-written"],
    ],
)
def test_unreachable_database(args: list[str]) -> None:
    proc = run_scrapy(args, UNREACHABLE)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "error: cannot open the database postgresql://postgres@127.0.0.1:1/nope" in last
    assert "Traceback" not in proc.stderr


def test_read_only_commands_do_not_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "gxcrawl.db"
    proc = run_scrapy(["summary"], f"sqlite:///{missing}")
    assert proc.returncode != 0 and "no database at" in proc.stderr
    assert not missing.parent.exists()


def test_unknown_portal_is_a_usage_error(sqlite_url: str) -> None:
    crawl = run_scrapy(["crawl", "annual_reports", "-a", "portal=no-such-portal"], sqlite_url)
    assert crawl.returncode != 0 and "Traceback" not in crawl.stderr
    assert "unknown portal id(s) no-such-portal" in crawl.stderr.strip().splitlines()[-1]
    extract = run_scrapy(["extract", "--portal", "no-such-portal", "x.html"], sqlite_url)
    assert extract.returncode != 0 and "no-such-portal" in extract.stderr


def test_extract_with_portal_uses_the_registry_like_the_crawl(sqlite_url: str) -> None:
    page = FIXTURES / "portals/demo/xxgk/ndbg/202201/t20220120_1005.html"
    registry = FIXTURES / "portals/demo/portal.toml"
    proc = run_scrapy(
        ["extract", "--portal", "fixture-demo", "--registry", str(registry), str(page)], sqlite_url
    )
    assert proc.returncode == 0, proc.stderr
    assert '"region_code": "350502"' in proc.stdout  # the registry's code, as the crawl stored
    assert '"agency": "鲤城区人民政府"' in proc.stdout
