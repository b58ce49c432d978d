"""Platform detection from the page: every fixture portal walked with the `auto` strategy alone
finds every report and requests every list page once; small pages shaped like each family
show their mechanism with its evidence; platform names are validated."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gxcrawl.extract.encoding import decode_html
from gxcrawl.platforms import get_strategy
from gxcrawl.platforms.detect import (
    AutoStrategy,
    UnknownPlatformError,
    detect,
    known_platforms,
    strategy_for,
    validate_platform,
)
from gxcrawl.registry import load_registry

from .conftest import FAST_CRAWL, FIXTURES, ROOT, run_scrapy
from .portal_walk import fixtureserver, start_urls, walk

PORTALS = sorted(p.name for p in (FIXTURES / "portals").iterdir() if (p / "expected.json").exists())
HOST = "http://www.demo.example"


def shared_dir() -> Path | None:
    """shared/ of the workplace: GXCRAWL_SHARED, else beside the checkout, else /work/shared."""
    candidates = [os.environ.get("GXCRAWL_SHARED"), ROOT.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and Path(candidate, "realpages").is_dir():
            return Path(candidate)
    return None


def _expected(portal: str) -> dict[str, Any]:
    return json.loads((FIXTURES / "portals" / portal / "expected.json").read_text("utf-8"))


# --- every fixture portal, start URL alone ---------------------------------------------------


@pytest.mark.parametrize("portal", PORTALS)
def test_auto_alone_finds_every_report_and_each_list_page_once(portal: str) -> None:
    folder = FIXTURES / "portals" / portal
    expected = _expected(portal)
    with fixtureserver().serve(folder) as server:
        result = walk(AutoStrategy(), start_urls(folder, server.base_url))
    missing = {r["path"] for r in expected["reports"]} - set(result.items)
    assert missing == set(), f"{portal}: reports not found by detection alone"
    assert set(result.requested) == set(expected["list_pages"])  # nothing missed, nothing extra
    assert all(n == 1 for n in result.requested.values())


def test_mixed_portal_needs_detection() -> None:
    """No single named strategy finds the mixed portal's reports; detection finds all."""
    folder = FIXTURES / "portals" / "mixed"
    reports = {r["path"] for r in _expected("mixed")["reports"]}
    with fixtureserver().serve(folder) as server:
        starts = start_urls(folder, server.base_url)
        for name in ("generic", "trs", "hanweb"):
            assert reports - set(walk(get_strategy(name), starts).items), name
        assert reports <= set(walk(get_strategy("auto"), starts).items)


def test_real_trs_list_page_is_detected_with_its_next_page() -> None:
    shared = shared_dir()
    if shared is None:
        pytest.skip("shared/realpages not found (set GXCRAWL_SHARED)")
    page = shared / "realpages" / "h201_ordos_engebei_trs_list.html"
    if not page.exists():
        pytest.skip(f"{page} is absent")
    text, _ = decode_html(page.read_bytes())
    url = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index.html"
    detection = detect(text, url)
    assert detection.platform == "trs"
    assert "trs_countpage: var countPage = 2" in detection.evidence()
    listing = AutoStrategy().parse_listing(text, url, {})
    assert [p.url for p in listing.pages] == [
        "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index_1.html"
    ]
    titles = [link.title for link in listing.items]
    assert "鄂尔多斯市2019年政府信息公开工作年度报告" in titles


def test_real_detail_pages_invent_no_pagination() -> None:
    """Real pages that are not lists (detail pages, a rendered SPA home page): no list pages
    made up from their scripts, and no family claimed from noise (base64 blobs)."""
    shared = shared_dir()
    if shared is None:
        pytest.skip("shared/realpages not found (set GXCRAWL_SHARED)")
    gold = json.loads((shared / "realpages" / "gold.json").read_text("utf-8"))
    expected = {"h203": "ucap", "h204": "hanweb", "h205": "trs", "h207": "generic"}
    for entry in gold:
        if entry["file"].startswith("h201"):
            continue
        text, _ = decode_html((shared / "realpages" / entry["file"]).read_bytes())
        assert AutoStrategy().parse_listing(text, entry["url"], {}).pages == [], entry["file"]
        detection = detect(text, entry["url"])
        assert "vsb_links" not in detection.mechanisms, entry["file"]
        if entry["file"][:4] in expected:
            assert detection.platform == expected[entry["file"][:4]], entry["file"]


# --- one family per small page -----------------------------------------------------------------


def _page(body: str) -> str:
    return f"<html><head><meta charset='utf-8'></head><body>{body}</body></html>"


def test_trs_script_only_pager_newer_form() -> None:
    html = _page(
        "<ul><li><a href='./202401/t20240118_1.html'>某县2023年政府信息公开工作年度报告</a>"
        "</li></ul>"
        "<div id='page_div'></div><script>createPageHTML('page_div', 4, 0, 'index', 'shtml', 37);"
        "</script>"
    )
    url = f"{HOST}/xxgk/ndbg/"
    detection = detect(html, url)
    assert detection.platform == "trs"
    assert "trs_script: createPageHTML('page_div', 4, 0, 'index', 'shtml', 37)" in (
        detection.evidence()
    )
    pages = [p.url for p in AutoStrategy().parse_listing(html, url, {}).pages]
    assert pages == [f"{HOST}/xxgk/ndbg/index_{n}.shtml" for n in (1, 2, 3)]


def test_vsb_pages_are_numbered_backwards_from_any_page() -> None:
    html = _page(
        "<li><a href='../info/1011/2301.htm'>某镇2023年政府信息公开工作年度报告</a></li>"
        "<form><input id='GOPAGE1'><script>_simple_list_gotopage_fun(4,'GOPAGE1',2)</script></form>"
    )
    column = f"{HOST}/bmxx/bmnb.htm"
    detection = detect(html, column)
    assert detection.platform == "vsb"
    assert "vsb_gotopage: _simple_list_gotopage_fun(4,'GOPAGE1',2)" in detection.evidence()
    listing = AutoStrategy().parse_listing(html, column, {})
    assert [p.url for p in listing.pages] == [f"{HOST}/bmxx/bmnb/{n}.htm" for n in (1, 2, 3)]
    assert [i.url for i in listing.items] == [f"{HOST}/info/1011/2301.htm"]
    on_page_two = [
        p.url for p in AutoStrategy().parse_listing(html, f"{HOST}/bmxx/bmnb/3.htm", {}).pages
    ]
    assert on_page_two == [f"{HOST}/bmxx/bmnb/{n}.htm" for n in (1, 2)]


def test_hanweb_datastore_evidence_and_windows() -> None:
    html = _page(
        "<script type='text/xml'><datastore><totalrecord>30</totalrecord><nextgroup><![CDATA["
        "<a href='/module/web/jpage/dataproxy.jsp?page=1&webid=2&path=/&columnid=77&unitid=9"
        "&col=1&appid=1&permissiontype=0'></a>]]></nextgroup><recordset>"
        + "".join(
            f"<record><![CDATA[<li><a href='/art/2024/1/{n}/art_77_{n}.html'>动态{n}</a></li>]]>"
            "</record>"
            for n in range(1, 11)
        )
        + "</recordset></datastore></script><script>jpage({perPage: 5, groupSize: 2})</script>"
    )
    url = f"{HOST}/col/col77/index.html"
    detection = detect(html, url)
    assert detection.platform == "hanweb"
    assert "hanweb_datastore: <datastore> totalrecord=30, 10 records inline" in (
        detection.evidence()
    )
    listing = AutoStrategy().parse_listing(html, url, {})
    assert [(p.method, urlsplit(p.url).query) for p in listing.pages] == [
        ("POST", "startrecord=11&endrecord=20&perpage=5"),
        ("POST", "startrecord=21&endrecord=30&perpage=5"),
    ]
    assert len(listing.items) == 10


def test_query_pager_is_extended_to_the_printed_total() -> None:
    """JCMS openlist / ASP.NET lists: `?…&pageNum=N` links in a window, and 共5页."""
    html = _page(
        "<li><a href='/art/2024/1/2/art_1_2.html'>某局2023年政府信息公开工作年度报告</a></li>"
        "<div class='pagebar'>共5页 <a href='index.html?uid=12&pageNum=2'>2</a>"
        " <a href='index.html?uid=12&pageNum=2'>下一页</a></div>"
    )
    url = f"{HOST}/col/col9/index.html?uid=12&pageNum=1"
    assert "query_pager" in detect(html, url).mechanisms
    pages = [p.url for p in AutoStrategy().parse_listing(html, url, {}).pages]
    assert pages == [f"{HOST}/col/col9/index.html?uid=12&pageNum={n}" for n in (2, 3, 4, 5)]


def test_page_count_variable_with_the_lists_own_extension() -> None:
    """Ucap-style: `var totalPage = 3` and pages named like the `index_1.shtml` link shows."""
    html = _page(
        "<li><a href='./202401/0123456789abcdef0123456789abcdef.shtml'>某厅2023年政府信息公开工作"
        "年度报告</a></li><script>var totalPage = 3; var currentPage = 0;</script>"
        "<div><a href='index_1.shtml'>下一页</a></div>"
    )
    url = f"{HOST}/xxgk/ndbg/index.shtml"
    detection = detect(html, url)
    assert detection.platform == "ucap"
    assert "page_count_var: var totalPage = 3" in detection.evidence()
    pages = [p.url for p in AutoStrategy().parse_listing(html, url, {}).pages]
    assert pages == [f"{HOST}/xxgk/ndbg/index_1.shtml", f"{HOST}/xxgk/ndbg/index_2.shtml"]


def test_jpage_without_nextgroup_takes_its_form_from_ajax_param() -> None:
    records = "".join(
        f"<record><![CDATA[<li><a href='/art/2024/1/{n}/art_88_{n}.html'>动态{n}</a></li>]]>"
        "</record>"
        for n in range(1, 16)
    )
    html = _page(
        f"<script type='text/xml'><datastore><totalrecord>40</totalrecord><recordset>{records}"
        "</recordset></datastore></script><script>$('#1').jpage({dataStore: dataStore, "
        "perPage: 15, groupSize: 1, proxyUrl: '/module/web/jpage/dataproxy.jsp', ajaxParam: "
        "{col: 1, appid: 1, webid: 4, path: '/', columnid: 88, unitid: 901, "
        "webname: '某县', permissiontype: 0}});</script>"
    )
    listing = AutoStrategy().parse_listing(html, f"{HOST}/col/col88/index.html", {})
    assert [urlsplit(p.url).query for p in listing.pages] == [
        "startrecord=16&endrecord=30&perpage=15",
        "startrecord=31&endrecord=45&perpage=15",
    ]
    assert dict(listing.pages[0].formdata or ()) == {
        "col": "1", "appid": "1", "webid": "4", "path": "/", "columnid": "88",
        "unitid": "901", "permissiontype": "0", "webname": "某县",
    }  # fmt: skip


def test_script_page_names_follow_the_pagers_own_links() -> None:
    """`countPage` gives the count, the pager's links give the extension (`.shtml`)."""
    html = _page(
        "<script>var currentPage = 0; var countPage = 3;</script>"
        "<div class='page'><a href='index_1.shtml'>下一页</a></div>"
    )
    pages = [p.url for p in AutoStrategy().parse_listing(html, f"{HOST}/zwgk/nb/", {}).pages]
    assert sorted(pages) == [f"{HOST}/zwgk/nb/index_1.shtml", f"{HOST}/zwgk/nb/index_2.shtml"]


def test_windowed_list_n_pager_and_vsb_query_pages() -> None:
    listed = _page("共4页 <a href='list_1.html'>2</a> <a href='list_1.html'>下一页</a>")
    found = AutoStrategy().parse_listing(listed, f"{HOST}/nb/list.html", {}).pages
    assert {p.url for p in found} == {f"{HOST}/nb/list_{n}.html" for n in (1, 2, 3)}
    dynamic = _page(
        "<a href='nb.jsp?a2t=9&a2p=2&a2c=10&wbtreeid=1011'>下页</a>"
        "<a href='nb.jsp?a2t=9&a2p=9&a2c=10&wbtreeid=1011'>尾页</a>"
    )
    url = f"{HOST}/nb.jsp?a2t=9&a2p=1&a2c=10&wbtreeid=1011"
    pages = [p.url for p in AutoStrategy().parse_listing(dynamic, url, {}).pages]
    assert sorted(pages) == [
        f"{HOST}/nb.jsp?a2t=9&a2p={n}&a2c=10&wbtreeid=1011" for n in range(2, 10)
    ]


def test_side_menu_columns_are_not_walked_without_a_tree_hint() -> None:
    """Column ids that merely contain a year-like run (`col1620982`) are other columns; year
    folders (`2022n/`) and report folders next to this one are parts of the same list."""
    menu = "".join(
        f"<li><a href='/col/col{n}/index.html'>栏目{n}</a></li>" for n in (1620982, 2019)
    )
    html = _page(f"<div class='side'><ul>{menu}</ul></div><li><a href='a.html'>动态</a></li>")
    url = f"{HOST}/col/col1229/index.html"
    assert AutoStrategy().parse_listing(html, url, {}).columns == []
    assert AutoStrategy("tree").parse_listing(html, url, {}).columns != []  # the hint adds
    years = _page("<a href='../2022n/'>2022年</a> <a href='../2021n/'>2021年</a>")
    found = AutoStrategy().parse_listing(years, f"{HOST}/zwgk/zfxxgknb/2023n/", {}).columns
    assert [c.url for c in found] == [f"{HOST}/zwgk/zfxxgknb/{y}n/" for y in (2022, 2021)]


def test_plain_page_has_no_invented_pages() -> None:
    html = _page("<li><a href='a.html'>某县2023年政府信息公开工作年度报告</a></li>")
    detection = detect(html, f"{HOST}/ndbg/")
    assert detection.platform == "generic"
    assert AutoStrategy().parse_listing(html, f"{HOST}/ndbg/", {}).pages == []


def test_json_api_and_the_gkmlpt_hint() -> None:
    """A JSON list is detected from its body; a hint adds gkmlpt's defaults, never removes."""
    answer = json.dumps(
        {
            "articles": [{"title": "某区2023年政府信息公开工作年度报告", "url": "/a/1.html"}],
            "total": 1,
        }
    )
    url = f"{HOST}/api/list?page=1"
    assert detect(answer, url).platform == "jsonapi"
    assert AutoStrategy().parse_listing(answer, url, {}).items == []  # bare defaults: no `articles`
    hinted = AutoStrategy("gkmlpt").parse_listing(answer, url, {})
    assert [i.url for i in hinted.items] == [f"{HOST}/a/1.html"]


def test_a_hint_never_removes_detected_mechanisms() -> None:
    html = _page("<script>createPageHTML(3, 0, 'index', 'html');</script>")
    url = f"{HOST}/xxgk/ndbg/"
    plain = AutoStrategy().parse_listing(html, url, {})
    for hint in ("generic", "hanweb", "vsb", "tree"):
        assert AutoStrategy(hint).parse_listing(html, url, {}).pages == plain.pages, hint
    assert len(plain.pages) == 2


# --- platform names ----------------------------------------------------------------------------


def test_unknown_platform_is_rejected_with_the_known_names() -> None:
    with pytest.raises(UnknownPlatformError) as caught:
        validate_platform("trz")
    message = str(caught.value)
    assert "did you mean 'trs'" in message
    assert all(name in message for name in known_platforms())


def test_strategy_for_a_name_is_detection_with_that_hint() -> None:
    assert strategy_for("TRS WCM").hint == "trs"
    assert strategy_for(None).hint == "auto"
    assert strategy_for("trs") is strategy_for("trs")
    with pytest.raises(UnknownPlatformError):
        strategy_for("trz")


def test_platform_aliases_and_default() -> None:
    assert validate_platform("TRS WCM") == "trs"
    assert validate_platform("大汉") == "hanweb"
    assert validate_platform(None) == "auto"
    assert validate_platform("") == "auto"


def test_every_shipped_registry_platform_is_known() -> None:
    for portal in load_registry():
        assert validate_platform(portal.platform) == portal.platform, portal.id


# --- the spider with a start URL alone ---------------------------------------------------------


def test_spider_start_url_with_auto_finds_script_paginated_reports(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'auto.db'}"
    expected = {r["path"] for r in _expected("trs")["reports"]}
    with fixtureserver().serve(FIXTURES / "portals" / "trs") as server:
        proc = run_scrapy(
            ["crawl", "annual_reports", "-a", f"start_url={server.base_url}/xxgk/ndbg/",
             "-a", "platform=auto", *FAST_CRAWL],
            db,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    from sqlalchemy import text

    from gxcrawl.store.db import make_engine

    engine = make_engine(db)
    with engine.connect() as conn:
        stored = {
            urlsplit(u).path for (u,) in conn.execute(text("SELECT url FROM report_documents"))
        }
    engine.dispose()
    assert stored == expected
