"""Platform strategies on small hand-written list pages shaped like the real families."""

from __future__ import annotations

import pytest

from gxcrawl.extract.titles import is_candidate
from gxcrawl.platforms import (
    Link,
    ListRequest,
    find_attachments,
    get_strategy,
    is_attachment_url,
)
from gxcrawl.platforms.hanweb import DATAPROXY_PATH
from gxcrawl.platforms.tree import find_subcolumns

HOST = "http://www.demo.example"
CHROME_TOP = """
<div class="header"><a href="/">首页</a> <a href="/zwgk/">政务公开</a>
  <a href="/hdjl/">互动交流</a></div>
<div class="nav"><ul><li><a href="/zwgk/tzgg/">通知公告</a></li>
  <li><a href="/zwgk/ndbg/">政府信息公开年报</a></li></ul></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a></div>
"""
CHROME_BOTTOM = """
<div class="footer"><a href="http://bszs.conac.cn/">党政机关</a>
  <a href="http://www.beian.gov.cn/portal">公安备案</a> 主办单位：示例县人民政府</div>
"""


def _page(body: str) -> str:
    return (
        f"<html><head><meta charset='utf-8'><title>年报</title></head><body>{CHROME_TOP}"
        f"{body}{CHROME_BOTTOM}</body></html>"
    )


def _urls(requests: list[ListRequest]) -> list[str]:
    return [r.url for r in requests]


# --- generic ---------------------------------------------------------------------------------

GENERIC_LIST = _page(
    """
<div class="main"><ul class="list">
  <li><a href="./content_101.html"
         title="示例县人民政府2023年政府信息公开工作年度报告">示例县人民政府2023年政府信息...</a>
      <span>2024-01-20</span></li>
  <li><a href=" ../ndbg/content_102.html ">2021年政府工作报告</a><span>2021/2/3</span></li>
  <li><a href="
     content_103.html">示例县教育局2022年度政府信息公开工作年度报告</a><span>2023年1月9日</span></li>
  <li><a href="/upload/2021nb.pdf">2020年政府信息公开工作年度报告（PDF）</a></li>
  <li><a href="javascript:void(0)">打印</a></li>
  <li><a href="#top">返回顶部</a></li>
  <li><a href="http://offsite.example/spam.html">bet365亚洲官网</a></li>
</ul></div>
<div class="pages"><a href="index.html">首页</a> <a href="index.html">上一页</a>
  <a href="index.html">1</a> <a href="index_1.html">2</a> <a href="index_2.html">3</a>
  <a href="index_1.html">下一页</a> <a href="index_6.html">尾页</a></div>
"""
)


def test_generic_items_exclude_chrome_and_pager() -> None:
    listing = get_strategy("generic").parse_listing(GENERIC_LIST, f"{HOST}/zwgk/ndbg/", {})
    assert [link.url for link in listing.items] == [
        f"{HOST}/zwgk/ndbg/content_101.html",
        f"{HOST}/zwgk/ndbg/content_102.html",
        f"{HOST}/zwgk/ndbg/content_103.html",
        f"{HOST}/upload/2021nb.pdf",  # a direct file link is an item
        "http://offsite.example/spam.html",  # kept: the spider's offsite rule drops it
    ]
    first = listing.items[0]
    assert first.title == "示例县人民政府2023年政府信息公开工作年度报告"  # title attribute wins
    assert [link.date for link in listing.items[:3]] == ["2024-01-20", "2021-02-03", "2023-01-09"]
    assert listing.columns == []


def test_generic_pages_fill_the_index_range_without_page_zero() -> None:
    listing = get_strategy("generic").parse_listing(GENERIC_LIST, f"{HOST}/zwgk/ndbg/", {})
    assert _urls(listing.pages) == [f"{HOST}/zwgk/ndbg/index_{n}.html" for n in range(1, 7)]
    assert all(r.method == "GET" and r.formdata is None for r in listing.pages)


def test_generic_next_link_with_query_pagination() -> None:
    html = _page(
        """<table class="tab"><tr><td>
        <a href="InfoPublic.aspx?id=9">某厅2020年政府信息公开工作年度报告</a>
        </td></tr></table><p><a href="InfoPublic.aspx?cid=1019&amp;page=3">下一页</a>
        <a href="/other/list.aspx?page=2">2</a></p>"""
    )
    url = f"{HOST}/InfoPublic.aspx?cid=1019&page=2"
    listing = get_strategy("generic").parse_listing(html, url, {})
    assert _urls(listing.pages) == [f"{HOST}/InfoPublic.aspx?cid=1019&page=3"]
    assert [i.url for i in listing.items] == [f"{HOST}/InfoPublic.aspx?id=9"]


def test_selector_overrides() -> None:
    html = _page(
        """<div class="l"><a href="a1.html">左侧链接一个很长的标题文字</a></div>
        <ul class="rsb_con_rightUl"><li>
        <a href="t1.html">某部2023年政府信息公开工作年度报告</a></li>
        </ul><a class="nextbtn" href="index_1.html">›</a>"""
    )
    selectors = {"list": "ul.rsb_con_rightUl", "next": "a.nextbtn"}
    listing = get_strategy("generic").parse_listing(html, f"{HOST}/xxgk/", selectors)
    assert [i.url for i in listing.items] == [f"{HOST}/xxgk/t1.html"]
    assert _urls(listing.pages) == [f"{HOST}/xxgk/index_1.html"]
    # a broken override falls back to the heuristic instead of losing the page
    listing = get_strategy("generic").parse_listing(html, f"{HOST}/xxgk/", {"list": "ul[["})
    assert f"{HOST}/xxgk/t1.html" in [i.url for i in listing.items]


def test_base_href_is_honoured() -> None:
    html = (
        '<html><head><base href="http://www.demo.example/zwgk/"></head><body>'
        '<ul><li><a href="ndbg/t1.html">某局2020年政府信息公开工作年度报告</a></li></ul>'
        "</body></html>"
    )
    listing = get_strategy(None).parse_listing(html, f"{HOST}/elsewhere/page.html", {})
    assert [i.url for i in listing.items] == [f"{HOST}/zwgk/ndbg/t1.html"]


@pytest.mark.parametrize("html", ["", "   ", "<<<not html", "\x00"])
def test_garbage_input_gives_an_empty_listing(html: str) -> None:
    for name in ("generic", "trs", "tree", "hanweb"):
        listing = get_strategy(name).parse_listing(html, f"{HOST}/x/", {})
        assert listing.pages == [] and listing.columns == []


# --- TRS WCM ---------------------------------------------------------------------------------


def _trs_list(current: int, total: int, ext: str = "html") -> str:
    items = "\n".join(
        f'<li><a href="./2024{m:02d}/t2024{m:02d}15_{1000 + m}.{ext}" target="_blank" '
        f'title="某局{2010 + m}年政府信息公开工作年度报告">某局{2010 + m}年政府信息公开...</a>'
        f"<span>2024-{m:02d}-15</span></li>"
        for m in range(1, 13)
    )
    return _page(
        f"""<div class="list"><ul>{items}
        <li><a href="../../zcwj/202301/t20230101_77.html">
        关于做好2020年政府信息公开工作年度报告编制和发布工作的通知</a></li>
        <li><a href="./P020240115123.pdf">2023年报告全文</a></li></ul></div>
        <div class="page"><script language="JavaScript">
        //WCM置标
        createPageHTML({total}, {current}, "index", "{ext}");
        </script></div>"""
    )


def test_trs_script_pagination_from_the_first_page() -> None:
    listing = get_strategy("trs").parse_listing(_trs_list(0, 6), f"{HOST}/zwgk/ndbg/", {})
    assert _urls(listing.pages) == [f"{HOST}/zwgk/ndbg/index_{n}.html" for n in range(1, 6)]
    assert len(listing.items) == 14  # 12 TRS details + the look-alike (also TRS) + the PDF
    assert listing.items[0] == Link(
        f"{HOST}/zwgk/ndbg/202401/t20240115_1001.html",
        "某局2011年政府信息公开工作年度报告",
        "2024-01-15",
    )
    assert f"{HOST}/zwgk/ndbg/P020240115123.pdf" in [i.url for i in listing.items]
    # nav/header column links are not items
    assert not any(i.url.endswith("/zwgk/tzgg/") for i in listing.items)
    # the spider keeps reports and drops the notice by title
    kept = [i for i in listing.items if is_candidate(i.title)]
    assert len(kept) == 12


def test_trs_later_page_does_not_go_back_to_page_zero() -> None:
    url = f"{HOST}/zwgk/ndbg/index_2.htm"
    listing = get_strategy("trs").parse_listing(_trs_list(2, 5, "htm"), url, {})
    assert _urls(listing.pages) == [
        f"{HOST}/zwgk/ndbg/index_1.htm",
        f"{HOST}/zwgk/ndbg/index_3.htm",
        f"{HOST}/zwgk/ndbg/index_4.htm",
    ]


def test_trs_single_page_and_new_style_call_and_count_page() -> None:
    assert get_strategy("trs").parse_listing(_trs_list(0, 1), f"{HOST}/a/", {}).pages == []
    html = "<script>createPageHTML('page_div',4, 1,'index','shtml',60);</script>"
    listing = get_strategy("trs").parse_listing(html, f"{HOST}/a/index_1.shtml", {})
    assert _urls(listing.pages) == [f"{HOST}/a/index_2.shtml", f"{HOST}/a/index_3.shtml"]
    html = """<script>var currentPage = 0;//所在页从0开始
    var countPage = 3//共多少页</script>
    <ul><li><a href="./202403/t20240301_9.html">x</a></li></ul>"""
    listing = get_strategy("trs").parse_listing(html, f"{HOST}/b/index.html", {})
    assert _urls(listing.pages) == [f"{HOST}/b/index_1.html", f"{HOST}/b/index_2.html"]
    # absurd counts are ignored, not turned into thousands of requests
    html = "<script>createPageHTML(99999, 0, 'index', 'html');</script>"
    assert get_strategy("trs").parse_listing(html, f"{HOST}/c/", {}).pages == []


def test_trs_falls_back_to_generic_links() -> None:
    listing = get_strategy("trs").parse_listing(GENERIC_LIST, f"{HOST}/zwgk/ndbg/", {})
    assert len(listing.items) == 5
    assert len(listing.pages) == 6


# --- list trees ------------------------------------------------------------------------------

TREE_ROOT = _page(
    """
<div class="left-nav"><ul>
  <li><a href="./2023n/">2023年</a></li><li><a href="./2022n/index.html">2022年</a></li>
  <li><a href="./gknb2017/">2017年</a></li>
  <li><a href="./bmxxgknb/sjyj/">市教育局</a></li>
  <li><a href="./nb_szfbm/srmzfwsb/">市政府外事办</a></li>
  <li><a href="./2024012316171235828/index.html">某旗2023年政府信息公开年报</a></li>
  <li><a href="../">政府信息公开</a></li>
  <li><a href="/zwgk/tzgg/">通知公告</a></li>
  <li><a href="http://other.example/zwgk/zfxxgknb/2021n/">外站</a></li>
</ul></div>
<ul class="list">
<li><a href="./202401/t20240110_5.html">某市2023年政府信息公开工作年度报告</a></li></ul>
<script>createPageHTML(2, 0, "index", "html");</script>
"""
)


def test_tree_returns_subcolumns_to_walk() -> None:
    url = f"{HOST}/zwgk/zfxxgknb/"
    listing = get_strategy("tree").parse_listing(TREE_ROOT, url, {})
    assert _urls(listing.columns) == [
        f"{url}2023n/",
        f"{url}2022n/",
        f"{url}gknb2017/",
        f"{url}bmxxgknb/sjyj/",
        f"{url}nb_szfbm/srmzfwsb/",
    ]
    items = [i.url for i in listing.items]
    assert f"{url}202401/t20240110_5.html" in items
    assert f"{url}2024012316171235828/index.html" not in _urls(listing.columns)
    assert _urls(listing.pages) == [f"{url}index_1.html"]


def test_tree_year_siblings_are_reached_from_a_year_column() -> None:
    html = _page(
        """<ul><li><a href="../2022n/">2022年</a></li><li><a href="../2021n/">2021年</a></li>
        <li><a href="../bmxxgknb/">部门年报</a></li><li><a href="./tjsrmzf/">市政府</a></li></ul>"""
    )
    columns = find_subcolumns(html, f"{HOST}/gknb/2023n/index.html")
    assert columns == [
        f"{HOST}/gknb/2022n/",
        f"{HOST}/gknb/2021n/",
        f"{HOST}/gknb/bmxxgknb/",  # a report column listed in the body
        f"{HOST}/gknb/2023n/tjsrmzf/",
    ]


def test_tree_hub_lists_sibling_report_columns() -> None:
    html = _page(
        """<div class="main"><ul class="sub-columns">
        <li><a href="/zwgk/zfxxgknb/">政府信息公开年报</a></li>
        <li><a href="/zwgk/bmxxgknb/">部门信息公开年报</a></li>
        <li><a href="/zwgk/gknb2018/">2018年</a></li>
        <li><a href="/zwgk/tzgg/">通知公告</a></li><li><a href="/zwgk/">政务公开</a></li>
        <li><a href="/other/ndbg/">别处</a></li></ul></div>"""
    )
    columns = find_subcolumns(html, f"{HOST}/zwgk/ndbg/")
    assert columns == [f"{HOST}/zwgk/zfxxgknb/", f"{HOST}/zwgk/bmxxgknb/", f"{HOST}/zwgk/gknb2018/"]


# --- Hanweb jcms -----------------------------------------------------------------------------


def _records(start: int, count: int) -> str:
    return "".join(
        f'<record><![CDATA[<li><a href="/art/2021/2/{1 + n % 28}/art_1229_{n}.html" '
        f'title="某乡{n}号2020年政府信息公开工作年度报告" target="_blank">某乡{n}号2020年...</a>'
        f"<span>2021-02-{1 + n % 28:02d}</span></li>]]></record>"
        for n in range(start, start + count)
    )


NEXTGROUP = (
    '<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/'
    '&columnid=1229&unitid=4567&col=1&appid=1&permissiontype=0"></a>]]></nextgroup>'
)


def _hanweb_column(total: int, inline: int, nextgroup: str = NEXTGROUP) -> str:
    return _page(
        f"""<div id="4567"><script type="text/xml"><datastore>
        {nextgroup}<totalrecord>{total}</totalrecord><totalpage>{-(-total // 15)}</totalpage>
        <recordset>{_records(1, inline)}</recordset></datastore></script></div>
        <script src="/module/web/jpage/jpage.js"></script>"""
    )


FORM = (  # the jpage client's order, not the nextgroup link's
    ("col", "1"),
    ("appid", "1"),
    ("webid", "1"),
    ("path", "/"),
    ("columnid", "1229"),
    ("unitid", "4567"),
    ("permissiontype", "0"),
)


def test_hanweb_first_page_items_and_posts() -> None:
    url = f"{HOST}/col/col1229/index.html"
    listing = get_strategy("hanweb").parse_listing(_hanweb_column(100, 45), url, {})
    assert len(listing.items) == 45
    assert listing.items[0] == Link(
        f"{HOST}/art/2021/2/2/art_1229_1.html",
        "某乡1号2020年政府信息公开工作年度报告",
        "2021-02-02",
    )
    proxy = f"{HOST}{DATAPROXY_PATH}"
    assert listing.pages == [
        ListRequest(f"{proxy}?startrecord=46&endrecord=90&perpage=15", "POST", FORM),
        ListRequest(f"{proxy}?startrecord=91&endrecord=135&perpage=15", "POST", FORM),
    ]


def test_hanweb_posts_cover_every_record_exactly_once() -> None:
    url = f"{HOST}/col/col1229/index.html"
    for total, inline in [(58, 15), (45, 45), (10, 10), (0, 0), (200, 45), (46, 45)]:
        listing = get_strategy("hanweb").parse_listing(_hanweb_column(total, inline), url, {})
        covered: list[int] = list(range(1, inline + 1))
        for page in listing.pages:
            query = dict(p.split("=") for p in page.url.split("?")[1].split("&"))
            start, end = int(query["startrecord"]), int(query["endrecord"])
            assert end - start + 1 == 45  # one group of 3 pages, as the jpage client asks
            covered.extend(range(start, min(end, total) + 1))
        assert covered == list(range(1, total + 1)), (total, inline)


def test_hanweb_group_size_from_the_page() -> None:
    config = "<script>$('#4567').jpage({dataStore: dataStore, perPage: 10, groupSize: 1});</script>"
    html = _hanweb_column(35, 10).replace("</body>", config + "</body>")
    listing = get_strategy("hanweb").parse_listing(html, f"{HOST}/col/col1229/index.html", {})
    assert [p.url.split("?")[1] for p in listing.pages] == [
        "startrecord=11&endrecord=20&perpage=10",
        "startrecord=21&endrecord=30&perpage=10",
        "startrecord=31&endrecord=40&perpage=10",
    ]


def test_hanweb_col_is_added_when_missing() -> None:
    nextgroup = NEXTGROUP.replace("&col=1", "")
    listing = get_strategy("hanweb").parse_listing(
        _hanweb_column(30, 15, nextgroup), f"{HOST}/col/col1229/index.html", {}
    )
    (page,) = listing.pages
    assert page.formdata is not None and page.formdata[0] == ("col", "1")


def test_hanweb_xml_answer_gives_items_but_never_pages() -> None:
    xml = (
        '<?xml version="1.0" encoding="utf-8"?><datastore><nextgroup><![CDATA[]]></nextgroup>'
        f"<totalrecord>100</totalrecord><recordset>{_records(46, 45)}</recordset></datastore>"
    )
    url = f"{HOST}{DATAPROXY_PATH}?startrecord=46&endrecord=90&perpage=15"
    listing = get_strategy("hanweb").parse_listing(xml, url, {})
    assert len(listing.items) == 45
    assert listing.items[0].url == f"{HOST}/art/2021/2/19/art_1229_46.html"
    assert listing.pages == [] and listing.columns == []


def test_hanweb_without_datastore_falls_back_to_generic() -> None:
    listing = get_strategy("hanweb").parse_listing(GENERIC_LIST, f"{HOST}/zwgk/ndbg/", {})
    assert len(listing.items) == 5 and len(listing.pages) == 6


# --- strategy lookup and attachments ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "generic"),
        ("", "generic"),
        ("trs", "trs"),
        ("TRS", "trs"),
        ("tree", "tree"),
        ("hanweb", "hanweb"),
        ("ucap", "generic"),
        ("no-such-family", "generic"),
    ],
)
def test_get_strategy(name: str | None, expected: str) -> None:
    assert get_strategy(name).name == expected


DETAIL = _page(
    """
<div class="TRS_Editor"><p>正文……</p>
<p>附件：<a href="/module/download/downfile.jsp?classid=0&amp;filename=abc123">年报全文</a></p>
<p><a href="./P020240116.pdf">示例县2023年政府信息公开工作年度报告.pdf</a></p>
<p><a href="/upload/2023nb.DOCX">Word版</a> <a href="/upload/2023nb.wps">WPS版</a>
   <a href="/upload/tables.xls">统计表</a></p>
<p><a href="/api/file?id=77">PDF下载</a> <a href="/news/1.html">相关新闻</a>
   <a href="/zwgk/">返回列表</a></p>
<iframe src="/pdfjs/web/viewer.html?file=/upload/viewer.pdf"></iframe>
</div>"""
)


def test_find_attachments() -> None:
    url = f"{HOST}/zwgk/ndbg/202401/t20240116_1.htm"
    found = {link.url: link.title for link in find_attachments(DETAIL, url)}
    assert found == {
        f"{HOST}/module/download/downfile.jsp?classid=0&filename=abc123": "年报全文",
        f"{HOST}/zwgk/ndbg/202401/P020240116.pdf": "示例县2023年政府信息公开工作年度报告.pdf",
        f"{HOST}/upload/2023nb.DOCX": "Word版",
        f"{HOST}/upload/2023nb.wps": "WPS版",
        f"{HOST}/upload/tables.xls": "统计表",
        f"{HOST}/api/file?id=77": "PDF下载",
        f"{HOST}/upload/viewer.pdf": "viewer.pdf",
    }
    assert find_attachments("", url) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://a.example/x/report.pdf", True),
        ("http://a.example/x/REPORT.PDF", True),
        ("http://a.example/x/report.docx?v=2", True),
        ("http://a.example/down.jsp?filename=%E5%B9%B4%E6%8A%A5.wps", True),
        ("http://a.example/x/t20240116_1.htm", False),
        ("http://a.example/x/pdf/", False),
        ("http://a.example/x/index.html?type=pdf", False),
    ],
)
def test_is_attachment_url(url: str, expected: bool) -> None:
    assert is_attachment_url(url) is expected
