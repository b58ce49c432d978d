"""The JSON list-API strategy: item paths, page templates, JSONP, bad answers, relative URLs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gxcrawl.platforms import get_strategy
from gxcrawl.platforms.jsonapi import (
    config_errors,
    load_json,
    page_number,
    page_url,
    parse_jsonapi,
)
from gxcrawl.registry import RegistryError, parse_registry

API = "http://whly.gd.example/gkmlpt/api/all/2629?page=1&sid=175"


def articles(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": start + i,
            "title": f"某局{2010 + i}年政府信息公开工作年度报告",
            "url": f"http://whly.gd.example/gkmlpt/content/3/{start + i}/post_{start + i}.html",
            "create_time": 1611536400 + i * 86400,  # 2021-01-25 09:00 Beijing
        }
        for i in range(n)
    ]


def gkmlpt(url: str, data: Any, **selectors: str) -> Any:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return get_strategy("gkmlpt").parse_listing(text, url, selectors)


# --- items -------------------------------------------------------------------------------------


def test_gkmlpt_defaults_read_articles_titles_urls_and_epoch_dates() -> None:
    listing = gkmlpt(API, {"articles": articles(3), "total": 3})
    assert [link.title for link in listing.items] == [
        "某局2010年政府信息公开工作年度报告",
        "某局2011年政府信息公开工作年度报告",
        "某局2012年政府信息公开工作年度报告",
    ]
    assert listing.items[0].url == "http://whly.gd.example/gkmlpt/content/3/0/post_0.html"
    assert [link.date for link in listing.items] == ["2021-01-25", "2021-01-26", "2021-01-27"]
    assert listing.pages == []  # total 3 in one page of 3: nothing more to ask


def test_dotted_item_path_and_custom_keys() -> None:
    data = {
        "code": 0,
        "data": {
            "list": [
                {"docTitle": "<em>某县</em>2021年度政府信息公开工作年度报告&nbsp;",
                 "link": "/a.html", "pubDate": "2022年1月5日"},
                {"docTitle": "通知", "link": "b.html", "pubDate": "2022-01-06 10:00:00"},
            ],
            "rows": [{"docTitle": "不该读到", "link": "/x.html"}],
        },
    }  # fmt: skip
    listing = parse_jsonapi(
        json.dumps(data, ensure_ascii=False),
        "http://x.example/api/list/?page=1",
        {"api_items": "data.list", "api_title": "docTitle", "api_url": "link",
         "api_date": "pubDate"},
    )  # fmt: skip
    assert [(i.url, i.title, i.date) for i in listing.items] == [
        ("http://x.example/a.html", "某县2021年度政府信息公开工作年度报告", "2022-01-05"),
        ("http://x.example/api/list/b.html", "通知", "2022-01-06"),  # relative to the API URL
    ]


def test_list_index_paths_and_alternative_keys() -> None:
    data = {
        "result": [
            {"rows": [{"post_url": "/p1.html", "name": "甲"}, {"url": "/p2.html", "title": "乙"}]}
        ]
    }
    listing = parse_jsonapi(
        json.dumps(data, ensure_ascii=False),
        "http://x.example/api",
        {"api_items": "result.0.rows", "api_title": "title|name", "api_url": "url|post_url"},
    )
    assert [(i.url, i.title) for i in listing.items] == [
        ("http://x.example/p1.html", "甲"),
        ("http://x.example/p2.html", "乙"),
    ]


def test_root_array_and_millisecond_dates() -> None:
    data = [
        {"title": "某区2020年年报", "url": "/r.html", "date": 1611536400000},
        {"title": "某区2019年年报", "url": "/s.html", "date": 2019},
    ]
    listing = parse_jsonapi(json.dumps(data, ensure_ascii=False), "http://x.example/api", {})
    assert [(i.url, i.date) for i in listing.items] == [
        ("http://x.example/r.html", "2021-01-25"),
        ("http://x.example/s.html", None),  # a bare year is not a Unix time
    ]


def test_items_with_missing_or_unusable_keys_are_skipped() -> None:
    data = {
        "articles": [
            {"title": "无链接"},
            {"url": "/no-title.html"},
            {"title": "空链接", "url": "  "},
            {"title": "脚本", "url": "javascript:void(0)"},
            {"title": ["不是字符串"], "url": "/list-title.html"},
            {"title": "数字链接", "url": 12345},
            "not an object",
            None,
            {"title": "好的", "url": "/ok.html", "create_time": "not a date"},
            {"title": "好的（重复）", "url": "/ok.html#top"},
        ],
        "total": "x",
    }
    listing = gkmlpt(API, data)
    assert [(i.url, i.date) for i in listing.items] == [("http://whly.gd.example/ok.html", None)]
    assert listing.items[0].title == "好的（重复）"  # one link per URL, the longer title kept
    assert listing.pages == []  # an unreadable total gives no pages rather than a crash


@pytest.mark.parametrize(
    "body",
    [
        "<!DOCTYPE html><html><head><title>404 Not Found</title><style>body{color:red}</style>"
        "</head><body>页面不存在</body></html>",
        "<html><script>var $_ts={};$_ts.cd='x';</script></html>",
        "",
        "   ",
        '{"articles": [{"title": "截断',
        "null",
        '"just a string"',
        "42",
        "[" * 100_000,
        '{"articles": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_answers_that_are_not_a_json_list_give_an_empty_listing(body: str) -> None:
    listing = gkmlpt(API, body)
    assert listing.items == [] and listing.pages == [] and listing.columns == []


def test_items_path_that_is_not_a_list_gives_no_items() -> None:
    assert gkmlpt(API, {"articles": {"title": "x", "url": "/x.html"}, "total": 1}).items == []


# --- wrappers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wrapped",
    [
        'jQuery1124_1611({"articles": [{"title": "甲", "url": "/a.html"}]});',
        'callback( {"articles": [{"title": "甲", "url": "/a.html"}]} )',
        'var listData = {"articles": [{"title": "甲", "url": "/a.html"}]};',
        'window.data = {"articles": [{"title": "甲", "url": "/a.html"}]}',
        '\ufeff{"articles": [{"title": "甲", "url": "/a.html"}]}',
    ],
)
def test_jsonp_and_script_assignments_are_unwrapped(wrapped: str) -> None:
    listing = gkmlpt(API, wrapped)
    assert [(i.url, i.title) for i in listing.items] == [("http://whly.gd.example/a.html", "甲")]


def test_load_json_returns_none_for_html() -> None:
    assert load_json("<html><body>{}</body></html>") is None
    assert load_json('{"a": 1}') == {"a": 1}


# --- pages -------------------------------------------------------------------------------------


def test_first_page_yields_every_further_page_once() -> None:
    listing = gkmlpt(API, {"articles": articles(15), "total": 80})
    assert [p.url for p in listing.pages] == [
        f"http://whly.gd.example/gkmlpt/api/all/2629?page={n}&sid=175" for n in range(2, 7)
    ]
    assert all(p.method == "GET" for p in listing.pages)


def test_later_pages_yield_no_pages() -> None:
    later = API.replace("page=1", "page=3")
    listing = gkmlpt(later, {"articles": articles(15, 30), "total": 80})
    assert len(listing.items) == 15
    assert listing.pages == []


def test_start_url_without_page_parameter_is_the_first_page() -> None:
    listing = gkmlpt(
        "http://x.example/gkmlpt/api/all/5?sid=2", {"articles": articles(2), "total": 5}
    )
    assert [p.url for p in listing.pages] == [
        "http://x.example/gkmlpt/api/all/5?sid=2&page=2",
        "http://x.example/gkmlpt/api/all/5?sid=2&page=3",
    ]


def test_total_pages_path_and_zero_based_pages() -> None:
    sel = {"api_items": "data.rows", "api_total_pages": "data.pageCount", "api_page_param": "pn",
           "api_first_page": "0"}  # fmt: skip
    body = json.dumps({"data": {"rows": [], "pageCount": 3}})
    listing = parse_jsonapi(body, "http://x.example/api?pn=0&size=20", sel)
    assert [p.url for p in listing.pages] == [
        "http://x.example/api?pn=1&size=20",
        "http://x.example/api?pn=2&size=20",
    ]
    assert parse_jsonapi(body, "http://x.example/api?pn=1&size=20", sel).pages == []


def test_page_size_literal_or_path() -> None:
    body = {"articles": articles(2), "total": 45, "pageSize": 20}
    assert len(gkmlpt(API, body, api_page_size="15").pages) == 2  # ceil(45/15) = 3 pages
    assert len(gkmlpt(API, body, api_page_size="pageSize").pages) == 2  # ceil(45/20) = 3
    assert len(gkmlpt(API, body).pages) == 22  # page size taken from the first page: 2


def test_empty_first_page_with_a_total_asks_nothing() -> None:
    assert gkmlpt(API, {"articles": [], "total": 40}).pages == []
    assert gkmlpt(API, {"articles": [], "total": 0}).pages == []


def test_page_count_is_bounded() -> None:
    listing = gkmlpt(API, {"articles": articles(1), "total": 10**9})
    assert 1 < len(listing.pages) <= 2000


MIIT = (
    "https://www.miit.example/api-gateway/jpaas-publish-server/front/page/build/unit"
    "?webId=8d82&pageId=8297&paramJson=%7B%22pageNo%22%3A1%2C%22pageSize%22%3A15%7D"
)
MIIT_SPEC = 'paramJson={"pageNo":{page},"pageSize":15}'


def test_json_in_query_template_pages() -> None:
    body = json.dumps({"data": {"total": 40, "list": [{"title": "x", "url": "/x.html"}]}})
    sel = {"api_items": "data.list", "api_total": "data.total", "api_page_size": "15",
           "api_page_param": MIIT_SPEC}  # fmt: skip
    listing = parse_jsonapi(body, MIIT, sel)
    assert len(listing.pages) == 2
    for n, page in enumerate(listing.pages, start=2):
        query = parse_qs(urlsplit(page.url).query)
        assert query["webId"] == ["8d82"] and query["pageId"] == ["8297"]
        assert json.loads(query["paramJson"][0]) == {"pageNo": n, "pageSize": 15}
        assert page.url.startswith(MIIT.split("paramJson=")[0])  # other parameters untouched
        assert page_number(page.url, MIIT_SPEC) == n
    assert parse_jsonapi(body, listing.pages[0].url, sel).pages == []


def test_page_number_reading() -> None:
    assert page_number(API, "page") == 1
    assert page_number("http://x.example/a?sid=1", "page") is None
    assert page_number("http://x.example/a?page=abc", "page") is None
    # the template's whitespace and the URL's encoding do not matter
    spaced = 'http://x.example/a?paramJson={"pageNo": 4, "pageSize": 15}'
    assert page_number(spaced, MIIT_SPEC) == 4
    assert page_number(MIIT, 'paramJson={"pageNo":{page},"pageSize":20}') is None


def test_page_parameter_that_does_not_fit_the_template_asks_nothing() -> None:
    body = json.dumps({"data": {"total": 40, "list": []}})
    sel = {"api_items": "data.list", "api_total": "data.total", "api_page_size": "15",
           "api_page_param": 'paramJson={"pageNo":{page},"pageSize":20}'}  # fmt: skip
    assert parse_jsonapi(body, MIIT, sel).pages == []
    unreadable = API.replace("page=1", "page=first")
    assert gkmlpt(unreadable, {"articles": [], "total": 40}, api_page_size="15").pages == []
    assert len(gkmlpt(API, {"articles": [], "total": 40}, api_page_size="15").pages) == 2


def test_page_url_keeps_other_parameters_and_drops_fragments() -> None:
    url = "http://x.example/api?b=%E4%B8%AD&page=1&flag&a=2#top"
    assert page_url(url, "page", 7) == "http://x.example/api?b=%E4%B8%AD&page=7&flag&a=2"


# --- configuration -----------------------------------------------------------------------------


def test_config_errors() -> None:
    assert config_errors({"api_items": "articles", "api_page_param": "page"}) == []
    assert config_errors({"api_first_page": "2"})
    assert config_errors({"api_page_param": 'paramJson={"pageNo":1}'})
    assert config_errors({"api_page_size": "0"})


def _entry(**selectors: str) -> dict[str, Any]:
    return {
        "id": "fx-api",
        "name": "示例厅",
        "start_urls": [API],
        "platform": "gkmlpt",
        "selectors": selectors,
    }


def test_registry_accepts_api_keys_and_rejects_bad_ones() -> None:
    (portal,) = parse_registry({"portal": [_entry(api_items="data.list", api_page_size="15")]})
    assert portal.selectors["api_items"] == "data.list"
    with pytest.raises(RegistryError, match="api_first_page must be 0 or 1"):
        parse_registry({"portal": [_entry(api_first_page="5")]})
    with pytest.raises(RegistryError, match=r"selectors.api_pages' is not one of"):
        parse_registry({"portal": [_entry(api_pages="3")]})


def test_shipped_json_api_entries_parse_their_documented_shape() -> None:
    from gxcrawl.registry import get_portal, load_registry

    whly = get_portal(load_registry(), "gd-whly")
    assert whly.enabled and whly.platform == "gkmlpt"
    (start,) = whly.start_urls
    body = {"articles": articles(3), "total": 7}
    listing = get_strategy(whly.platform).parse_listing(json.dumps(body), start, whly.selectors)
    assert len(listing.items) == 3
    assert [parse_qs(urlsplit(p.url).query)["page"] for p in listing.pages] == [["2"], ["3"]]
