"""`scrapy portals` lists and validates the registry; invalid registries fail fast and clearly."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import run_scrapy


def test_portals_lists_the_shipped_registry(sqlite_url: str) -> None:
    proc = run_scrapy(["portals", "--all", "--json"], sqlite_url)
    assert proc.returncode == 0, proc.stderr
    entries = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(entries) >= 60
    assert len({e["id"] for e in entries}) == len(entries)
    assert {e["confidence"] for e in entries} <= {"high", "medium", "low"}
    enabled = [e for e in entries if e["enabled"]]
    assert enabled and all(e["start_urls"] and e["allowed_domains"] for e in enabled)
    assert all(len(e["region_code"]) in (0, 6) for e in entries)
    plain = run_scrapy(["portals"], sqlite_url)
    assert f"{len(entries)} portals, {len(enabled)} enabled" in plain.stdout


def test_invalid_registry_fails_fast_with_entry_and_field(tmp_path: Path, sqlite_url: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[portal]]\nid = "ok-id"\nname = "x"\nstart_urls = ["http://a.example/"]\n'
                   'region_code = "12"\n', "utf-8")  # fmt: skip
    listed = run_scrapy(["portals", "--registry", str(bad)], sqlite_url)
    assert listed.returncode != 0
    assert "ok-id" in listed.stderr and "region_code" in listed.stderr
    crawl = run_scrapy(["crawl", "annual_reports", "-a", f"registry={bad}"], sqlite_url)
    assert crawl.returncode != 0
    assert "region_code" in crawl.stderr.strip().splitlines()[-1]
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # nothing was started
