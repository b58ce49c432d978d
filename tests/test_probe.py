"""`scrapy probe` against fixture portals served on 127.0.0.1: what it detects and lists, its
request budget, robots.txt, block signs, the registry entry it prints, and operator mistakes."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gxcrawl.registry import parse_registry

from .conftest import FIXTURES, ROOT
from .portal_walk import fixtureserver

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]


def probe(
    args: list[str], tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run `scrapy probe …`; the JSON answer too when `--json` is among the args."""
    env = {"GXCRAWL_DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}"}
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "probe", *args, *FAST, *extra],
        cwd=ROOT, env={**_environ(), **env}, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    data = json.loads(proc.stdout) if "--json" in args and proc.returncode == 0 else None
    return proc, data


def _environ() -> dict[str, str]:
    import os

    return dict(os.environ)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _expected(portal: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "portals" / portal / "expected.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def trs_server() -> Iterator[Any]:
    with fixtureserver().serve(FIXTURES / "portals" / "trs") as server:
        yield server


def test_script_paginated_trs_column(trs_server: Any, tmp_path: Path) -> None:
    expected = _expected("trs")
    proc, data = probe([f"{trs_server.base_url}/xxgk/ndbg/", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert data["platform"] == "trs"
    assert any(e.startswith("trs_script: createPageHTML(6, 0") for e in data["evidence"])
    assert sorted(_path(p["url"]) for p in data["list_pages"]) == sorted(expected["list_pages"])
    found = {_path(r["url"]) for r in data["reports"]}
    gold = {r["path"]: r for r in expected["reports"]}
    assert set(gold) <= found
    # the probe reads lists only: a report link whose page turns out blocked is still a link
    assert found - set(gold) <= set(expected["blocked"]) | set(expected["soft_404"])
    for report in data["reports"]:
        if _path(report["url"]) in gold:
            assert report["year"] == gold[_path(report["url"])]["year"]
            assert set(report) >= {"title", "url", "year", "agency"}
    reasons = {_path(x["url"]): x["reason"] for x in data["lookalikes"]}
    assert set(expected["lookalikes"]) <= set(reasons)
    private = [p for p in expected["never_requested"] if p.startswith("/private/")]
    assert all(reasons.get(p) == "disallowed by robots.txt" for p in private)
    assert data["blocked"] == []
    assert data["robots"]["robots_txt"] == "HTTP 200" and data["robots"]["start_allowed"]
    entry = parse_registry(tomllib.loads(data["portal_entry"]))[0]
    assert (entry.platform, entry.name) == ("trs", "利辛县人民政府")
    assert entry.start_urls == (f"{trs_server.base_url}/xxgk/ndbg/",)
    assert not (tmp_path / "never.db").exists()  # a probe stores nothing


def test_request_budget_is_kept(trs_server: Any, tmp_path: Path) -> None:
    requests_before = len(trs_server.requests)
    args = [f"{trs_server.base_url}/xxgk/ndbg/", "--json", "--max-requests", "2"]
    proc, data = probe(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(data["list_pages"]) == 2
    assert len(data["not_fetched"]) == 4
    made = [r.path for r in trs_server.requests[requests_before:]]
    assert sorted(made) == sorted(["/robots.txt", *(_path(p["url"]) for p in data["list_pages"])])


def test_disallowed_start_url_is_not_fetched(trs_server: Any, tmp_path: Path) -> None:
    proc, data = probe([f"{trs_server.base_url}/private/", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert data["list_pages"] == []
    assert data["robots"]["start_allowed"] is False
    assert data["robots"]["disallowed"] == [f"{trs_server.base_url}/private/"]


def test_mixed_portal_by_id_as_text(tmp_path: Path) -> None:
    registry = FIXTURES / "portals" / "mixed" / "portal.toml"
    with fixtureserver().serve(FIXTURES / "portals" / "mixed") as server:
        args = ["fixture-mixed", "--registry", str(registry), "--base-url", server.base_url]
        proc, _ = probe(args, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout
    assert text.startswith("platform: mixed\n")  # TRS, Hanweb and VSB columns in one portal
    for heading in ("evidence:", "list pages (9):", "reports (9):", "rejected look-alikes (6):",
                    "blocked or failed:", "robots:", "registry entry:"):  # fmt: skip
        assert heading in text
    # 4 look-alikes by title, one offsite report link, one disallowed by robots.txt
    for path in [*_expected("mixed")["lookalikes"], "/private/nb2019.htm"]:
        assert f"{server.base_url}{path}" in text
    assert "POST " in text and "dataproxy.jsp?startrecord=21&endrecord=30&perpage=5" in text
    for report in _expected("mixed")["reports"]:
        line = f"{report['year']} {report['agency']}: {report['title']}  {server.base_url}"
        assert line + report["path"] in text
    assert 'platform = "auto"' in text  # mixed families: detection decides per page


def test_blocked_start_page_is_reported(tmp_path: Path) -> None:
    with fixtureserver().serve(FIXTURES / "portals" / "faults") as server:
        proc, data = probe([f"{server.base_url}/nb/t4_challenge.html", "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [(b["status"], b["reason"]) for b in data["blocked"]] == [(412, "blocked")]
    assert data["list_pages"] == [] and data["reports"] == []


def test_operator_mistake_ends_in_one_line_and_exit_2(tmp_path: Path) -> None:
    proc, _ = probe(["ftp://example.org/ndbg/"], tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].endswith("not an http(s) URL: 'ftp://example.org/ndbg/'")


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["no-such-portal"], {}, "neither an http(s) URL nor a portal id"),
        (["http://127.0.0.1:9/"], {"platform": "trz"}, "did you mean 'trs'"),
        (["http://127.0.0.1:9/"], {"max_requests": 0}, "--max-requests must be between"),
        (["a", "b"], {}, "give one URL or portal id"),
    ],
)
def test_operator_mistakes_are_usage_errors(
    args: list[str], options: dict[str, Any], message: str
) -> None:
    """Checked before any crawl starts (so in-process, without a reactor)."""
    from scrapy.exceptions import UsageError
    from scrapy.utils.project import get_project_settings

    from gxcrawl.commands.probe import Command

    command = Command()
    command.settings = get_project_settings()
    defaults = {"json": False, "max_requests": 20, "platform": None, "registry": None,
                "base_url": None}  # fmt: skip
    with pytest.raises(UsageError, match=re.escape(message)):
        command.run(args, argparse.Namespace(**{**defaults, **options}))
