"""The portal registry: the shipped file is valid; broken entries fail with clear messages."""

from __future__ import annotations

import os
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from gxcrawl.registry import (
    CONFIDENCES,
    RegistryError,
    enabled_portals,
    get_portal,
    load_registry,
    parse_registry,
)

from .conftest import ROOT


# The shared folder is not in the repository; the test that needs it skips where it is absent.
def _shared_dir() -> Path | None:
    """The project's shared folder: GXCRAWL_SHARED, else `shared` beside the checkout (or beside
    the main checkout, for a worktree), else /work/shared."""
    candidates = [os.environ.get("GXCRAWL_SHARED"), ROOT.parent / "shared"]
    candidates += [ROOT.parent.parent / "shared", "/work/shared"]
    return next((Path(c) for c in candidates if c and Path(c).is_dir()), None)


SHARED = _shared_dir()
SEEDS_TABLE = (SHARED or Path("shared-not-found")) / "docs" / "portals-seen.md"


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": "fx-demo",
        "name": "示例县人民政府",
        "level": "county",
        "province": "福建",
        "region_code": "350524",
        "homepage": "http://www.demo.example/",
        "start_urls": ["http://www.demo.example/zwgk/ndbg/"],
        "platform": "trs",
        "confidence": "high",
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


# --- the shipped registry -------------------------------------------------------------------


def test_shipped_registry_loads() -> None:
    portals = load_registry()
    assert len(portals) >= 60
    assert len({p.id for p in portals}) == len(portals)
    assert len(enabled_portals(portals)) >= 40
    for portal in portals:
        assert portal.confidence in CONFIDENCES - {"fixture"}
        assert portal.start_urls and all(u.startswith("http") for u in portal.start_urls)
        assert all(portal.allows(u) for u in portal.start_urls)
        assert re.fullmatch(r"(\d{6})?", portal.region_code)
        if not portal.enabled:
            assert portal.notes, f"{portal.id}: a disabled entry must say why"


def test_shipped_registry_covers_the_main_table() -> None:
    """Every row of the main table of portals-seen.md is in the registry, same confidence."""
    if not SEEDS_TABLE.exists():
        pytest.skip(f"{SEEDS_TABLE} not found: set GXCRAWL_SHARED to the shared folder")
    text = SEEDS_TABLE.read_text("utf-8").split("## Reserve")[0]
    rows = re.findall(r"^\| \d+ \| ([a-z0-9-]+) \|.*\| (high|medium|low) \| [^|]+\|$", text, re.M)
    assert len(rows) >= 60
    portals = {p.id: p for p in load_registry()}
    for portal_id, confidence in rows:
        assert portals[portal_id].confidence == confidence, portal_id


def test_shipped_examples() -> None:
    portals = load_registry()
    ax = get_portal(portals, "fj-ax")
    assert ax.name == "安溪县人民政府"
    assert ax.region_code == "350524"
    assert ax.platform == "trs"
    assert ax.enabled
    assert ax.allowed_domains == ("www.fjax.gov.cn",)
    assert ax.start_urls == ("http://www.fjax.gov.cn/zwgk/zfxxgkzl/zfxxgkndbg/",)
    # list on a sibling host: both hosts are allowed
    sd = get_portal(portals, "sd-gov")
    assert set(sd.allowed_domains) == {"gb.shandong.gov.cn", "www.shandong.gov.cn"}
    # a JSON-API list cannot be crawled as HTML yet
    assert not get_portal(portals, "cn-chinatax").enabled
    hints = get_portal(portals, "cn-mohrss").hints()
    assert hints.portal_id == "cn-mohrss"
    assert hints.content_selector == ".TRS_Editor"
    assert hints.region_code is None  # national ministries have no division code here


def test_packaged_file_is_the_default() -> None:
    text = resources.files("gxcrawl").joinpath("portals.toml").read_text("utf-8")
    assert len(tomllib.loads(text)["portal"]) == len(load_registry())


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": None}, r"field 'id' is required"),
        ({"id": "Bad_ID"}, r"'id' must match"),
        ({"name": ""}, r"portal 'fx-demo': field 'name' is required"),
        ({"start_urls": None}, r"'start_urls' is required"),
        ({"start_urls": []}, r"'start_urls' is required"),
        ({"region_code": "35052"}, r"'region_code' must be 6 digits"),
        ({"confidence": "certain"}, r"'confidence' must be one of"),
        ({"level": "galaxy"}, r"'level' must be one of"),
        ({"enabled": "yes"}, r"'enabled' must be true or false"),
        (
            {"allowed_domains": ["www.demo.example"], "start_urls": ["http://evil.example/"]},
            r"'start_urls' host of 'http://evil.example/' is outside allowed_domains",
        ),
        ({"allowed_domains": ["www.demo.example:8080"]}, r"must be bare host names"),
        ({"start_urls": ["ftp://www.demo.example/"]}, r"unsupported scheme"),
        ({"start_urls": ["/zwgk/"]}, r"is relative .* no base_url"),
        ({"selectors": {"body": "div"}}, r"'selectors.body' is not one of"),
        ({"colour": "red"}, r"'colour' is not a known field"),
    ],
)
def test_invalid_entries_fail_clearly(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(RegistryError, match=message):
        parse_registry({"portal": [_entry(**overrides)]})


def test_duplicate_id() -> None:
    with pytest.raises(RegistryError, match=r"portal #2 \('fx-demo'\): field 'id' is a duplicate"):
        parse_registry({"portal": [_entry(), _entry()]})


def test_empty_registry() -> None:
    with pytest.raises(RegistryError, match="no \\[\\[portal\\]\\] entries"):
        parse_registry({})


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "portal.toml"
    bad.write_text('[[portal]]\nid = "x"\nname = \n', "utf-8")
    with pytest.raises(RegistryError, match="invalid TOML"):
        load_registry(bad)
    bad.write_text('[[portal]]\nid = "x"\nname = "X"\n', "utf-8")
    with pytest.raises(RegistryError, match=r"portal\.toml: portal 'x': field 'start_urls'"):
        load_registry(bad)
    with pytest.raises(RegistryError, match="cannot read registry"):
        load_registry(tmp_path / "missing.toml")


def test_platform_aliases_and_defaults() -> None:
    (portal,) = parse_registry({"portal": [_entry(platform="TRS WCM", confidence=None)]})
    assert portal.platform == "trs"
    assert portal.confidence == "medium"
    (portal,) = parse_registry({"portal": [_entry(platform=None)]})
    assert portal.platform == "auto"  # no hint: each list page's markup decides


@pytest.mark.parametrize("name", ["trz", "wordpress", "Hanweb!"])
def test_unknown_platform_is_rejected_with_the_known_names(name: str) -> None:
    with pytest.raises(RegistryError) as caught:
        parse_registry({"portal": [_entry(platform=name)]})
    message = str(caught.value)
    assert "field 'platform'" in message and f"unknown platform {name!r}" in message
    assert "known platforms: aspnet, auto, generic, gkmlpt, hanweb" in message


def test_registry_platforms_all_have_a_strategy() -> None:
    """Every shipped entry's platform is a known name (ucap, vsb, aspnet, jpaas included)."""
    from gxcrawl.platforms.detect import known_platforms

    assert {p.platform for p in load_registry()} <= set(known_platforms())


def test_get_portal_unknown() -> None:
    with pytest.raises(RegistryError, match="unknown portal id 'nope'"):
        get_portal(parse_registry({"portal": [_entry()]}), "nope")


# --- relative URLs (fixture portals) ---------------------------------------------------------

FIXTURE_TOML = """
[[portal]]
id = "fixture-trs"
name = "测试县人民政府"
level = "fixture"
confidence = "fixture"
homepage = "/"
start_urls = ["/zwgk/ndbg/index.html", "gknb/"]
platform = "trs"
[portal.selectors]
content = "div.TRS_Editor"
"""


def test_relative_urls_are_rebased(tmp_path: Path) -> None:
    path = tmp_path / "portal.toml"
    path.write_text(FIXTURE_TOML, "utf-8")
    (portal,) = load_registry(path, base_url="http://127.0.0.1:8765/")
    assert portal.start_urls == (
        "http://127.0.0.1:8765/zwgk/ndbg/index.html",
        "http://127.0.0.1:8765/gknb/",
    )
    assert portal.homepage == "http://127.0.0.1:8765/"
    assert portal.allowed_domains == ("127.0.0.1",)  # no port: Scrapy domains are bare hosts
    assert portal.allows("http://127.0.0.1:8765/a.html")
    assert not portal.allows("http://127.0.0.2:8765/a.html")
    assert portal.hints().content_selector == "div.TRS_Editor"
    # a different server, same file
    (other,) = load_registry(path, base_url="http://127.0.0.3:9000/site/")
    assert other.start_urls[1] == "http://127.0.0.3:9000/site/gknb/"


def test_subdomains_are_allowed() -> None:
    (portal,) = parse_registry(
        {
            "portal": [
                _entry(allowed_domains=["demo.example"], start_urls=["http://xxgk.demo.example/"])
            ]
        }
    )
    assert portal.allows("http://www.demo.example/x")
    assert not portal.allows("http://demo.example.evil.example/x")
    assert not portal.allows("http://notdemo.example/x")
