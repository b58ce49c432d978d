"""The page-extraction shortcuts of the second speed round return what the plain forms return.

Each test puts a shortcut next to a reference copy of the code it replaced (or the obvious form
of it) and compares them on inputs chosen to hit its edges: colons and pipes around labels,
labels spread over cells, bare 时间/日期 heads, zero-width characters, spam and weak words in
links, relative, offsite and tab-broken hrefs, footers and spam in some lines only, hidden
styles repeated on many elements, `<meta>` tags in the serialised body, and elements leaving the
tree between a selection and its use.
"""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

import lxml.html
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree
from lxml.html import HtmlElement

from gxcrawl.extract import chrome, content, metadata, page, sanitize, spam
from gxcrawl.extract.types import Removal
from gxcrawl.textutil import remove_whitespace

from .fastpath_support import FUZZ, parse, strip_chrome_blocks_reference

# --- metadata: colon pre-checks, the strong-label pre-check, pairs read once ----------------


# The label patterns as they were, without the first-character look-aheads.
_KEYS, _STOPS = metadata._KEY_ALT, metadata._STOP
_INLINE = re.compile(
    rf"(?:^|(?<=[\s|【】\[\]]))(?P<key>{_KEYS})\s*[:：]\s*(?P<val>.*?)"
    rf"(?=\s*(?:{_KEYS}|{_STOPS})\s*[:：]|\s*$)"
)
_INLINE_GLUED = re.compile(
    rf"(?P<key>{_KEYS})\s*[:：]\s*(?P<val>.*?)(?=\s*(?:{_KEYS}|{_STOPS})\s*[:：]|\s*$)"
)
_OPENS_WITH_LABEL = re.compile(rf"^[【\[]?\s*(?:{_KEYS}|{_STOPS})\s*[:：]")
_KEY_CELL = re.compile(rf"^(?P<key>{_KEYS})\s*[:：]?$")


def _label_kind_reference(cell: str) -> str | None:
    m = _KEY_CELL.match(cell) or _INLINE.match(cell)
    if m is None:
        return None
    return "weak" if remove_whitespace(m.group("key")) in metadata._WEAK_LABELS else "strong"


def _pairs_from_cells_reference(cells: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    i = 0
    while i < len(cells):
        cell = content.norm_space(cells[i])
        m = _KEY_CELL.match(cell)
        if m:
            name = metadata._key_field(m.group("key"))
            nxt = content.norm_space(cells[i + 1]) if i + 1 < len(cells) else ""
            if nxt and _KEY_CELL.match(nxt):
                nxt = ""
            else:
                i += 1
            if name:
                value = metadata._clean_value(name, nxt)
                if value is not None:
                    found.setdefault(name, value)
        else:
            for name, value in _pairs_from_line_reference(cell).items():
                found.setdefault(name, value)
        i += 1
    return found


def _pairs_from_line_reference(line: str) -> dict[str, str]:
    """`metadata.pairs_from_line` without the colon test."""
    if "|" in line:
        return _pairs_from_cells_reference(line.split("|"))
    found: dict[str, str] = {}
    if len(line) > 160:
        return found
    pattern = _INLINE_GLUED if _OPENS_WITH_LABEL.match(line.strip()) else _INLINE
    for m in pattern.finditer(line.strip()):
        name = metadata._key_field(m.group("key"))
        if name:
            value = metadata._clean_value(name, m.group("val"))
            if value is not None:
                found.setdefault(name, value)
    return found


def _is_metadata_line_reference(line: str) -> bool:
    """`metadata.is_metadata_line` without the colon test."""
    if len(line) > 160:
        return False
    if "|" in line:
        cells = [c.strip() for c in line.split("|") if c.strip()]
        return bool(cells) and (
            _KEY_CELL.match(cells[0]) is not None or _INLINE.match(cells[0]) is not None
        )
    text = line.strip()
    if _INLINE.match(text):
        return True
    return _OPENS_WITH_LABEL.match(text) is not None and bool(_pairs_from_line_reference(text))


def _header_line_reference(line: str) -> dict[str, str]:
    """`metadata.header_line` without the first-character test."""
    m = metadata._HEADER.match(line)
    if not m or ("来源" not in line and not re.search(r"评论|点击|浏览|阅读|访问", line)):
        return {}
    found: dict[str, str] = {}
    date = metadata.parse_date(m.group("date"))
    if date:
        found["publish_date"] = date
    if m.group("source"):
        found["source"] = m.group("source")
    return found


LINE_PIECES = [
    "发布时间：", "2021-01-06 09:30", "来源：区政府", "点击：",
    "索引号", "索 引 号", "发布机构", "时间", "日期", "成文日期", "来源", "文号", "关键词", "评论",
    "：", ":", "|", " | ", " ", "\u3000", "\u200b", "2021-01-06", "二〇二一年一月六日", "无",
    "区政府办公室", "330803-042/2021-46930", "【", "】", "正文", "x" * 60,
]  # fmt: skip
lines = st.lists(st.sampled_from(LINE_PIECES), max_size=14).map("".join)


@FUZZ
@given(lines)
@example("来源：本站 评论：0 点击：12")
@example("作者：张三来源：X编辑：李四")
@example("索引号：007029012/2023-00015分类：综合政务")
@example("发布机构：区政府办公室  成文日期：2021-02-20 浏览次数：3")
def test_kv_line_readers_match_reference(line: str) -> None:
    assert metadata.pairs_from_line(line) == _pairs_from_line_reference(line)
    assert metadata._label_kind(line) == _label_kind_reference(line)
    assert metadata.header_line(line) == _header_line_reference(line)
    assert metadata.is_metadata_line(line) == _is_metadata_line_reference(line)
    assert metadata.pairs_from_cells(line.split("|")) == _pairs_from_cells_reference(
        line.split("|")
    )


def _table_pairs_reference(table: HtmlElement) -> dict[str, str]:
    """`metadata.table_pairs` as it was: every row paired, kept when two labels are seen."""
    found: dict[str, str] = {}
    if not metadata._ANY_KEY.search(content.text_of(table)):
        return found
    kinds: Counter[str | None] = Counter()
    for tr in table.iter("tr"):
        cells = [content.text_of(c) for c in tr if c.tag in ("td", "th")]
        kinds.update(_label_kind_reference(content.norm_space(c)) for c in cells)
        for name, value in _pairs_from_cells_reference(cells).items():
            found.setdefault(name, value)
    labels = kinds["strong"] + (kinds["weak"] if kinds["strong"] else 0)
    return found if labels >= 2 else {}


CELL_PIECES = [
    *LINE_PIECES, "<b>", "</b>", "<!-- c -->", "<br>", "发布", "时效", "失效时间", "名称",
    "文件", "成文", "间", "期",
]  # fmt: skip
cells = st.lists(st.sampled_from(CELL_PIECES), max_size=5).map("".join)
tables_html = st.lists(st.lists(cells, min_size=1, max_size=4), min_size=1, max_size=5).map(
    lambda rows: (
        "<table>"
        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        + "</table>"
    )
)


@FUZZ
@given(st.lists(tables_html, min_size=1, max_size=3))
def test_table_pairs_match_reference(tables: list[str]) -> None:
    root = parse("<html><body><div>" + "<p>x</p>".join(tables) + "</div></body></html>")
    for table in root.iter("table"):
        assert metadata.table_pairs(table) == _table_pairs_reference(table)
    expected = [
        (t, _table_pairs_reference(t))
        for t in root.iter("table")
        if t.find(".//table") is None and _table_pairs_reference(t)
    ]
    assert metadata.metadata_table_pairs(root) == expected
    assert metadata.metadata_tables(root) == [t for t, _ in expected]


# --- spam: link-farm shortcuts ----------------------------------------------------------


def _offsite_reference(href: str, page_host: str) -> bool:
    try:
        host = (urlsplit(href).hostname or "").lower()
    except ValueError:
        host = ""
    return bool(host) and host != page_host and not host.endswith(".gov.cn")


HREFS = [
    "", "/a/b.html", "a.html", "//x.com/", "http://x.com/", "https://www.example.gov.cn/",
    "http://www.example.gov.cn/a", "/\t/x.com/", "\n//x.com", "ht\rtp://x.com", "http://[::1",
    "javascript:void(0)", "mailto:a@b.c", "http://X.COM/", " //x.com",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(HREFS), max_size=3).map("".join))
def test_offsite_shortcut_matches_urlsplit(href: str) -> None:
    assert spam._offsite_commercial(href, "www.example.gov.cn") == _offsite_reference(
        href, "www.example.gov.cn"
    )


@FUZZ
@given(st.text(alphabet=st.sampled_from([" ", "\u3000", "\xa0", "\u200b", "\ufeff", "\n", "a"])))
def test_text_measure_matches_the_pattern(text: str) -> None:
    squeezed = spam._WS_RUN.sub(" ", text)
    expected = (len(squeezed), squeezed[:1] == " ", squeezed[-1:] == " ")
    got = spam._Text.of(text)
    assert (got.collapsed, got.starts, got.ends) == expected


def _remove_link_farms_reference(root: HtmlElement, host: str, strict: bool) -> list[Removal]:
    """`spam.remove_link_farms` without `_farm_possible`: the evidence always measured."""
    removed: list[Removal] = []
    farms = spam._farm_evidence(root, host)
    dropped: list[HtmlElement] = []
    for el in reversed(farms):
        if el.tag not in spam._FARM_TAGS or el.getparent() is None:
            continue
        if not spam._is_farm(farms, el, strict):
            continue
        if any(
            c.tag in ("div", "ul", "ol", "p", "span") and spam._is_farm(farms, c, strict)
            for c in el
        ):
            continue
        removed.extend(Removal("spam", line) for line in spam._removal_texts(el))
        dropped.append(el)
    sanitize.drop_trees(dropped)
    return removed


LINK_PIECES = [
    "<div>", "</div>", "<ul><li>", "</li></ul>", "<p>", "</p>", "<span>", "</span>",
    "<a href='http://x.com/'>", "<a href='/a.html'>", "<a href='http://www.example.gov.cn/'>",
    "<a href='/\t/y.com/'>", "<a>", "</a>", "葡京", "官网", "注册", "下载", "app", "正文", " ",
    "\n", "&nbsp;",
]  # fmt: skip
link_pages = st.lists(st.sampled_from(LINK_PIECES), max_size=60).map(
    lambda ps: "<html><body><div>" + "".join(ps) + "</div></body></html>"
)


@FUZZ
@given(link_pages, st.booleans(), st.integers(min_value=0, max_value=6))
def test_remove_link_farms_matches_reference(html: str, strict: bool, links: int) -> None:
    html = html.replace("<body>", "<body>" + "<a href='http://z.com/'>a</a>" * links)
    fast, slow = parse(html), parse(html)
    host = "www.example.gov.cn"
    assert spam.remove_link_farms(fast, host, strict) == _remove_link_farms_reference(
        slow, host, strict
    )
    assert lxml.html.tostring(fast) == lxml.html.tostring(slow)


ANCHORS = {
    "spam": "<a href='/a.html'>葡京</a>",
    "weak2": "<a href='/a.html'>官网注册</a>",
    "weak1": "<a href='/a.html'>官网</a>",
    "offsite": "<a href='http://x.com/'>链接</a>",
    "gov": "<a href='http://www.example.gov.cn/a'>链接</a>",
    "plain": "<a href='/a.html'>链接</a>",
    "blank": "<a href='http://x.com/'> </a>",
}


@FUZZ
@given(
    st.lists(st.sampled_from(sorted(ANCHORS)), min_size=3, max_size=9),
    st.sampled_from(["", "正文" * 3, "正文" * 30]),
    st.booleans(),
)
@example(["offsite"] * 4 + ["plain"], "", True)
@example(["offsite"] * 3 + ["plain"] * 2, "", True)
@example(["spam", "weak2", "spam", "plain", "plain"], "", False)
@example(["spam", "weak2", "weak1", "plain", "plain"], "", False)
def test_farm_boundaries_match_reference(kinds: list[str], prose: str, strict: bool) -> None:
    """Around the counts `_farm_possible` bounds: 4-6 links, 2-3 spam-worded, 3-4 offsite."""
    links = "".join(ANCHORS[k] for k in kinds)
    page_div = f"<div><p>{prose}</p><div>{links}</div>{ANCHORS['plain']}</div>"
    html = f"<html><body>{page_div}</body></html>"
    fast, slow = parse(html), parse(html)
    host = "www.example.gov.cn"
    assert spam.remove_link_farms(fast, host, strict) == _remove_link_farms_reference(
        slow, host, strict
    )
    assert lxml.html.tostring(fast) == lxml.html.tostring(slow)


# --- spam and chrome: one search over the joined lines ----------------------------------

SPAM_LINE_PIECES = [
    "正文", "葡京", "bet365", "BET365", "365", "官网", "注册", "版权所有", "网站地图", "分享到：",
    "打印", "当前位置：首页", "2021-01-06 来源：本站", " ", "，", "。", "建议使用", "浏览器",
    "x" * 50,
]  # fmt: skip
line_lists = st.lists(st.lists(st.sampled_from(SPAM_LINE_PIECES), max_size=6).map("".join))


@FUZZ
@given(line_lists)
def test_joined_line_searches_match_each_line(lines: list[str]) -> None:
    assert chrome.classify_lines(lines) == [chrome.classify_line(line) for line in lines]
    assert spam.any_spam(lines) == any(spam.has_spam(line) for line in lines)


def _strip_spam_lines_reference(lines: list[str]) -> tuple[list[str], list[Removal]]:
    removed: list[Removal] = []
    clean_lines: list[str] = []
    for line in lines:
        clean, spans = spam.strip_spam_text(line)
        removed += [Removal("spam", s) for s in spans]
        if clean.strip(page._PUNCTUATION):
            clean_lines.append(clean)
        elif spans:
            removed.append(Removal("spam", line))
    return clean_lines, removed


@FUZZ
@given(line_lists)
def test_strip_spam_lines_matches_reference(lines: list[str]) -> None:
    work = page._Work(parse("<p>x</p>"), parse("<p>x</p>"), "")
    assert (page._strip_spam_lines(work, lines), work.removed) == _strip_spam_lines_reference(lines)


# --- hidden elements, serialisation, selections kept across removals -------------------

HIDDEN_PIECES = [
    "<p style='color:red'>", "<p style='display:none'>", "<p style='DISPLAY: NONE'>",
    "<p style='font-size:0'>", "<p hidden>", "<p class='h'>", "<p id='i'>", "<p class='a h'>",
    "<p style=''>", "</p>", "x", "<span style='color:red'>", "</span>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(HIDDEN_PIECES), max_size=30).map("".join))
def test_hidden_among_matches_is_hidden(markup: str) -> None:
    root = parse(f"<html><body><div>{markup}</div></body></html>")
    for classes, ids in ((set(), set()), ({"h"}, set()), (set(), {"i"}), ({"h"}, {"i"})):
        candidates = spam._hiding_candidates(root, (classes, ids))
        expected = [el for el in candidates if spam.is_hidden(el, classes, ids)]
        assert spam._hidden_among(candidates, classes, ids) == expected


def _remove_hidden_reference(
    root: HtmlElement, css: tuple[set[str], set[str]], host: str
) -> list[Removal]:
    """`spam.remove_hidden` testing every candidate with `is_hidden`, as it did."""
    classes, ids = css
    removed: list[Removal] = []
    dropped: list[HtmlElement] = []
    hidden = [el for el in spam._hiding_candidates(root, css) if spam.is_hidden(el, classes, ids)]
    top = sanitize.outermost(hidden)
    for el in hidden:
        if el.getparent() is None or el not in top:
            continue
        if el.tag in ("script", "style", "template", "input"):
            continue
        text = content.norm_space(content.text_of(el))
        many_links = len(el.findall(".//a")) >= spam.FARM_MIN_LINKS
        is_spam = spam.has_spam(text) or (
            many_links and (spam.is_link_farm(el, host, strict=False) or spam.weak_count(text) >= 2)
        )
        for line in spam._removal_texts(el):
            removed.append(Removal("spam" if is_spam else "hidden", line))
        dropped.append(el)
    sanitize.drop_trees(dropped)
    return removed


@FUZZ
@given(
    st.lists(
        st.sampled_from([*HIDDEN_PIECES, "<div style='visibility:hidden'>", "</div>", "葡京"]),
        max_size=30,
    ).map("".join),
    st.sampled_from([(set(), set()), ({"h"}, set()), (set(), {"i"})]),
)
def test_remove_hidden_matches_reference(markup: str, css: tuple[set[str], set[str]]) -> None:
    html = f"<html style='color:red'><body><div>{markup}</div></body></html>"
    fast, slow = parse(html), parse(html)
    host = "www.example.gov.cn"
    assert spam.remove_hidden(fast, css, host) == _remove_hidden_reference(slow, css, host)
    assert lxml.html.tostring(fast) == lxml.html.tostring(slow)


NAME_PARTS = ["share", "SHARE", "x", "-", "_", " ", "\t", "foot", "er", "nav", "bar", "print", "a"]
names = st.lists(st.sampled_from(NAME_PARTS), max_size=4).map("".join)


@FUZZ
@given(
    st.lists(st.tuples(names, names, st.sampled_from(["div", "p", "footer", "nav"])), max_size=6)
)
def test_strip_chrome_blocks_matches_reference(blocks: list[tuple[str, str, str]]) -> None:
    """Class and id values that only name chrome together, split across attributes."""
    inner = "".join(f"<{t} class='{c}' id='{i}'>x</{t}>" for c, i, t in blocks)
    html = f"<html><body><div><p>y</p>{inner}</div></body></html>"
    fast, slow = parse(html), parse(html)
    assert chrome.strip_chrome_blocks(fast) == strip_chrome_blocks_reference(slow)
    assert lxml.html.tostring(fast) == lxml.html.tostring(slow)


META_PIECES = [
    "<p>", "</p>", "x", '<meta http-equiv="Content-Type" content="text/html">',
    '<META HTTP-EQUIV="content-type">', "<meta charset='utf-8'>",
    "<script>'<meta http-equiv=\"Content-Type\">'</script>",
    "<!-- <meta http-equiv=\"Content-Type\" x> -->",
    "&lt;meta http-equiv=&quot;Content-Type&quot;&gt;",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(META_PIECES), max_size=12).map("".join))
def test_html_of_is_lxml_html_tostring(markup: str) -> None:
    root = parse(f"<html><body><div>{markup}</div></body></html>")
    for el in root.iter(etree.Element):
        assert sanitize.html_of(el) == lxml.html.tostring(el, encoding="unicode", with_tail=False)


SELECT_PIECES = [
    "<div class='title'>", "<div id='title'>", "<h1>", "</h1>", "<h2>", "</h2>", "</div>",
    "<div class='content'>", "<p class='article-title x'>", "</p>", "<table><tr><td>",
    "</td></tr></table>", "t", "<span class='share'>", "</span>",
]  # fmt: skip


@FUZZ
@given(
    st.lists(st.sampled_from(SELECT_PIECES), max_size=30).map("".join),
    st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
def test_early_selection_kept_in_tree_is_a_later_selection(markup: str, picks: list[int]) -> None:
    """What `_head_title` does with the selection `_locate` made: the matches still in the
    tree after elements were dropped or detached are what a new selection finds."""
    root = parse(f"<html><body><div>{markup}</div></body></html>")
    early = content.select_each(root, page._TITLE_SELECTORS)
    elements = [el for el in root.iter(etree.Element) if el.tag not in ("html", "body")]
    for i, pick in enumerate(picks):
        if not elements:
            break
        el = elements[pick % len(elements)]
        if el.getparent() is None:
            continue
        if i % 2:
            content.detach(el)
        else:
            sanitize.drop_trees([el])
    kept = [[el for el in found if content.within(el, root)] for found in early]
    assert kept == content.select_each(root, page._TITLE_SELECTORS)


def test_within_is_the_ancestor_test() -> None:
    root = parse("<html><body><div><p><b>x</b></p></div><span>y</span></body></html>")
    p = root.find(".//p")
    assert p is not None
    for el in root.iter(etree.Element):
        assert content.within(el, root)
        assert content.within(el, p) == (el is p or p in list(el.iterancestors()))
    p.drop_tree()
    assert not content.within(p, root)
    assert re.search("x", content.text_of(p))


def _density_scores_reference(root: HtmlElement) -> dict[HtmlElement, float]:
    """`content.find_by_density`'s votes, a paragraph's or cell's text read twice, as it was."""
    norm, text_of = content.norm_space, content.text_of
    scores: dict[HtmlElement, float] = {}
    for el in root.iter("p", "div", "td", "li", "span", "section", "article"):
        own = norm((el.text or "") + "".join((c.tail or "") for c in el if isinstance(c.tag, str)))
        if el.tag == "p" or el.tag == "td":
            own = norm(text_of(el))
        if len(own) < 10:
            continue
        links = sum(len(norm(text_of(a))) for a in el.iter("a"))
        total = max(len(norm(text_of(el))), 1)
        score = len(own) * max(0.0, 1.0 - links / total)
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + score / 2
    return scores


DENSITY_PIECES = [
    "<div>", "</div>", "<p>", "</p>", "<td>", "</td>", "<span>", "</span>", "<a href=#>",
    "</a>", "正文内容" * 3, "链接", " ", "<!-- c -->", "<li>", "</li>", "<div class='footer'>",
    "<p><a href=#>链接链接链接</a>正文内容正文</p>", "<td>正文<a href=#>链接链接链接链接</a></td>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(DENSITY_PIECES), max_size=60).map("".join))
def test_find_by_density_matches_reference(markup: str) -> None:
    root = parse(f"<html><body><div>{markup}</div></body></html>")
    assert content._density_scores(root) == _density_scores_reference(root)
