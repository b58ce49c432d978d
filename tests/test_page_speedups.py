"""The shortcuts that make page cleaning fast return exactly what the general path returns.

Each test puts a fast function next to the plain reference it replaced (kept here, written the
obvious way) and compares them on tricky input: comments, processing instructions, nested
chrome, chrome boxes holding tables, links inside link-free tables, every whitespace character.
"""

from __future__ import annotations

import re

import lxml.html
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from lxml.html import HtmlElement

from gxcrawl.extract import chrome, content, page, sanitize, spam
from gxcrawl.extract.types import Removal
from gxcrawl.textutil import collapse_whitespace, remove_whitespace

from .fastpath_support import FUZZ, parse, strip_chrome_blocks_reference

_WHITESPACE = re.compile(r"[\s\u200b\ufeff]+")  # the definition of whitespace used before

PIECES = [
    "<div>", "</div>", "<div class='share'>", "<div id='footer'>", "<div class='tools'>",
    "<nav>", "</nav>", "<footer>", "</footer>", "<table><tr><td>", "</td></tr></table>",
    "<td>", "<a href='http://x.com/'>", "<a href='http://www.example.gov.cn/'>", "</a>",
    "<span class='position'>", "</span>", "<p>", "</p>", "<ul><li>", "</li></ul>", "<br>",
    "<!-- c -->", "<?pi x?>", "<script>s()</script>", " ", "\u3000", "\n", "&nbsp;", "\u200b",
    "abc", "正文", "葡京", "分享到：", "打印", "<b>", "</b>", "<table><tr><th>长" + "文" * 300,
]  # fmt: skip
pages = st.lists(st.sampled_from(PIECES), max_size=50).map(
    lambda ps: "<html><body><div>" + "".join(ps) + "</div></body></html>"
)


@FUZZ
@given(pages)
def test_text_of_is_text_content(html: str) -> None:
    for el in parse(html).iter(etree.Element):
        assert content.text_of(el) == el.text_content()


_CHARS = [chr(c) for c in range(0x3100)] + ["\u200b", "\ufeff", "\U0001f600", "\ue000"]


def test_whitespace_helpers_follow_the_pattern_for_every_character() -> None:
    for ch in _CHARS:
        text = f"{ch}a{ch}{ch}b {ch}"
        assert collapse_whitespace(text) == _WHITESPACE.sub(" ", text).strip(), hex(ord(ch))
        assert remove_whitespace(text) == _WHITESPACE.sub("", text), hex(ord(ch))


@FUZZ
@given(st.text(alphabet=st.sampled_from([*_CHARS[:64], "\u3000", "\xa0", "\u200b", "年", "x"])))
def test_whitespace_helpers_on_random_text(text: str) -> None:
    assert collapse_whitespace(text) == _WHITESPACE.sub(" ", text).strip()
    assert remove_whitespace(text) == _WHITESPACE.sub("", text)


def _classify_line_reference(line: str) -> str | None:
    """`chrome.classify_line` without the character-set and first-character tests."""
    if (
        len(line) <= 120
        and chrome._TOOL_TOKENS.search(line)
        and chrome._TOOL_LEFTOVER.match(chrome._TOOL_TOKENS.sub("", line))
    ):
        return "nav" if chrome._NAV_WORDS.search(line) else "chrome"
    for kind, rule in chrome._LINE_RULES:
        if len(line) <= 200 and rule.search(line):
            return kind
    return None


LINE_WORDS = [
    "分享到：", "微信", "QQ空间", "[打印本页]", "【关闭窗口】", "字体：【大 中 小】",
    "字号：大 中 小", "政务微博", "客户端", "扫一扫在手机打开当前页", " ", "\u3000", "|", "、",
    "·", "正文", "。", "x", "版权所有", "当前位置：", "2021-01-06 来源", "纠错", "长者模式",
    "\n", "\t", "-", "（", "）", "发布时间：", "2021", "-01-06", " 12:30", " 浏览", "来源：",
    "信息来源:", "点击次数：", "您的位置", "所在位置", "PDF", "pdf", "Word", "DOC", "doc", "附件",
    "文件", " 下载：", "下载:", "网站标识码", "ICP备", "公网安备", "主办单位：", "Copyright", "©",
    "技术支持：", "建议使用", "浏览器", "网站地图", "公开", "1", "d",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(LINE_WORDS), max_size=12).map("".join))
def test_classify_line_matches_reference(line: str) -> None:
    assert chrome.classify_line(line) == _classify_line_reference(line)


SPAM_WORDS = [
    "bet365", "BET365", "Bet365", "博彩", "葡京", "亚洲官网", "官网", "b", "et365", "文", "365",
    "36", "5", "bEt", "\u0392ET365", "be\u0442365", "ｂｅｔ３６５",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(SPAM_WORDS), max_size=8).map(" ".join))
def test_has_spam_matches_the_ignorecase_pattern(text: str) -> None:
    assert spam.has_spam(text) == (spam._patterns()[0].search(text) is not None)


def test_ascii_digits_match_only_themselves_ignoring_case() -> None:
    """What `spam._digit_needles` relies on: under IGNORECASE an ASCII digit matches no other
    character (whole Unicode range, surrogates aside)."""
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for digit in "0123456789":
        assert re.findall(digit, every, re.IGNORECASE) == [digit]


def test_digit_needles() -> None:
    assert spam._digit_needles(("bet365", "BET365x", "a12b345")) == ("365", "345")
    assert spam._digit_needles(("bet365", "agent")) is None  # a term without digits: no test


@FUZZ
@given(pages)
def test_strip_chrome_blocks_matches_reference(html: str) -> None:
    fast, slow = parse(html), parse(html)
    assert chrome.strip_chrome_blocks(fast) == strip_chrome_blocks_reference(slow)
    assert lxml.html.tostring(fast) == lxml.html.tostring(slow)


@FUZZ
@given(pages, st.integers(min_value=0, max_value=1000))
def test_outermost_matches_ancestor_walk(html: str, seed: int) -> None:
    elements = list(parse(html).iter(etree.Element))
    marked = [el for i, el in enumerate(elements) if (i * 7919 + seed) % 3 == 0]
    expected = [el for el in marked if not any(a in set(marked) for a in el.iterancestors())]
    assert list(sanitize.outermost(marked)) == expected


def _remove_link_farms_reference(root: HtmlElement, host: str, strict: bool) -> list[Removal]:
    """`remove_link_farms` visiting every block element, as it did before."""
    removed: list[Removal] = []
    farms = spam._farm_evidence(root, host)
    dropped: list[HtmlElement] = []
    for el in list(root.iter("div", "ul", "ol", "p", "td", "span", "marquee", "section")):
        if el.getparent() is None or not spam._is_farm(farms, el, strict):
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


@FUZZ
@given(pages, st.booleans())
def test_remove_link_farms_matches_reference(html: str, strict: bool) -> None:
    html = html.replace("<body>", "<body>" + "<a href='http://x.com/'>葡京</a>" * 5)
    fast, slow = parse(html), parse(html)
    host = "www.example.gov.cn"
    assert spam.remove_link_farms(fast, host, strict) == _remove_link_farms_reference(
        slow, host, strict
    )
    assert lxml.html.tostring(fast) == lxml.html.tostring(slow)


@FUZZ
@given(pages)
def test_farm_evidence_covers_exactly_the_link_holders(html: str) -> None:
    root = parse(html.replace("<body>", "<body>" + "<a href=#>a</a>" * 5))
    found = spam._farm_evidence(root, "www.example.gov.cn")
    holders = [
        el for el in root.iter(etree.Element) if el.tag == "a" or el.find(".//a") is not None
    ]
    assert list(reversed(found)) == holders


SELECTOR_PAGES = st.lists(
    st.sampled_from(
        [
            "<div class='content'>",
            "<div class='TRS_Editor x'>",
            "<div class='\tcontent\n'>",
            "<div class='article-content'>",
            "<div class='contents'>",
            "<div id='zoom'>",
            "<div id='zoomcon' class='title'>",
            "<ucapcontent>",
            "</ucapcontent>",
            "<article>",
            "</article>",
            "<h1>",
            "</h1>",
            "<h2 class='title'>",
            "</h2>",
            "<div class='Title'>",
            "<p class='xxgk_title content'>",
            "</p>",
            "</div>",
            "text",
            "<!-- c -->",
            "<div class='content\u00a0x'>",
            "<div id='UCAP-CONTENT'>",
            "<div id='ucap-content'>",
        ]
    ),
    max_size=30,
).map(lambda ps: "<html class='content'><body>" + "".join(ps) + "</body></html>")


@FUZZ
@given(SELECTOR_PAGES)
def test_select_each_matches_css_select(html: str) -> None:
    root = parse(html)
    for selectors in (content.PLATFORM_SELECTORS, page._TITLE_SELECTORS, ("div > p", "#zoom")):
        expected = [content.css_select(root, css) for css in selectors]
        assert content.select_each(root, selectors) == expected


def _longest_reference(found: list[HtmlElement]) -> HtmlElement | None:
    """`content._longest` as it was: `max` by text length, the winner's text read again."""
    best = max(found, key=content._text_len, default=None)
    if best is not None and content._text_len(best) >= content.MIN_CONTENT_CHARS:
        return best
    return None


LONG_TEXT = ["x" * 39, "y" * 40, "长" * 20, "\u3000 \u3000", "a b"]


@FUZZ
@given(
    st.lists(
        st.sampled_from([*PIECES, *LONG_TEXT, "<div class='content'>", "<p class='content'>"]),
        max_size=40,
    ).map(lambda ps: "<html><body><div class='content'>" + "".join(ps) + "</div></body></html>")
)
def test_longest_matches_reference(html: str) -> None:
    """Ties (the first wins), nesting, and texts either side of the minimum length."""
    root = parse(html)
    for found in [content.css_select(root, ".content"), list(root.iter("div", "p")), []]:
        assert content._longest(found) is _longest_reference(found)


def _element_lines_reference(el: HtmlElement) -> list[str]:
    """`content.element_lines` as it was: a recursive walk, tables read by two passes."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        line = content.norm_space("".join(buf))
        buf.clear()
        if line:
            out.append(line)

    def layout(table: HtmlElement) -> bool:
        if table.find(".//table") is not None:
            return True
        return any(len(cell.text_content()) > 300 for cell in table.iter("td", "th"))

    def walk(node: HtmlElement) -> None:
        tag = node.tag
        if not isinstance(tag, str) or tag in content.SKIP_TAGS:
            return
        if tag == "table" and not layout(node):
            flush()
            for tr in node.iter("tr"):
                cells = [content.norm_space(c.text_content()) for c in tr if c.tag in ("td", "th")]
                if any(cells):
                    out.append(" | ".join(cells))
            return
        block = tag in content.BLOCK_TAGS or tag in ("td", "th")
        if block or tag == "br":
            flush()
        if node.text:
            buf.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                buf.append(child.tail)
        if block:
            flush()

    walk(el)
    flush()
    return out


TABLE_PIECES = [
    *PIECES, "<table>", "</table>", "<tr>", "</tr>", "<th>", "</th>", "<td>x</td>", "<tbody>",
    "<br>x<br>", "<span>a</span>", "<font>b</font>", "<img>", "<style>p{}</style>", "<title>t",
    "<td><div>in</div></td>", "<tr><td>1</td><td></td></tr>", "<td><tr><td>y</td></tr></td>",
    "<td><!-- c -->z</td>", "<td>a<?pi y?>b</td>", "<td>&amp;\u3000x\u200b</td>",
    "<td>" + "文" * 300 + "</td>", "<td>" + "文" * 301 + "</td>", "<th>\n \n</th>",
    "<p>leaf\u3000 x</p>", "<li></li>", "<p> </p>", "<table></table>", "<h2>\u200b</h2>",
    "<br/>", "<center>c</center>", "<noscript>n</noscript>", "<hr>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(TABLE_PIECES), max_size=50).map("".join))
def test_element_lines_matches_reference(markup: str) -> None:
    root, _ = sanitize.parse_document(f"<html><body><div>{markup}</div></body></html>")
    for el in [root, *root.iter("div", "table", "td", "p")]:
        assert content.element_lines(el) == _element_lines_reference(el)


@FUZZ
@given(pages)
def test_parse_document_builds_lxml_html_tree(html: str) -> None:
    """Elements come out as plain `HtmlElement`s (no per-element Python class lookup), in the
    tree lxml.html's own parser builds."""
    root, _ = sanitize.parse_document(html)
    assert lxml.html.tostring(root) == lxml.html.tostring(lxml.html.document_fromstring(html))
    assert all(isinstance(el, HtmlElement) for el in root.iter(etree.Element))
    assert root.text_content() == lxml.html.document_fromstring(html).text_content()


def _first_chars(items: list[tuple[object, object]]) -> tuple[set[str], bool]:
    """The characters a match of the parsed pattern `items` can start with, and whether it can
    be empty. Knows the constructs the anchored line rules use (and fails on any other)."""
    from re import _constants as c  # type: ignore[attr-defined]

    first: set[str] = set()
    for op, av in items:
        if op is c.AT:
            continue  # `^`: zero width
        if op is c.LITERAL:
            return first | {chr(av)}, False  # type: ignore[arg-type]
        if op is c.SUBPATTERN:
            chars, empty = _first_chars(list(av[3]))  # type: ignore[index]
        elif op is c.BRANCH:
            parts = [_first_chars(list(b)) for b in av[1]]  # type: ignore[index]
            chars = set().union(*(p[0] for p in parts))
            empty = any(p[1] for p in parts)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            chars, empty = _first_chars(list(av[2]))  # type: ignore[index]
            empty = empty or av[0] == 0  # type: ignore[index]
        else:
            raise AssertionError(f"unhandled {op}")
        first |= chars
        if not empty:
            return first, False
    return first, True


def test_anchored_first_characters_cover_the_rules() -> None:
    """A line starting with a character outside `chrome._ANCHORED_FIRST` matches no anchored
    rule: the set holds every character their matches can start with (and they cannot match
    empty)."""
    from re import _parser  # type: ignore[attr-defined]

    assert (*chrome._ANCHORED_RULES, ("footer", chrome._FOOTER_RULE)) == chrome._LINE_RULES
    for _, rule in chrome._ANCHORED_RULES:
        assert rule.pattern.startswith("^") and not rule.flags & re.IGNORECASE
        chars, empty = _first_chars(list(_parser.parse(rule.pattern)))
        assert not empty and chars <= chrome._ANCHORED_FIRST, rule.pattern


def test_toolbar_character_set_covers_the_patterns() -> None:
    """`chrome._TOOL_CHARS` is built from the pattern sources: that holds only while they spell
    every character they match literally (no escapes such as \\u3000, no `.` wildcard)."""
    for pattern in (chrome._TOOL_TOKENS.pattern, chrome._TOOL_LEFTOVER.pattern):
        assert not re.search(r"\\[uxUNpPdDwWS]", pattern)
    assert "." not in chrome._TOOL_TOKENS.pattern  # (the leftover class holds a literal ".")


HIDING_PIECES = [
    *PIECES, "<div style='display:none'>", "<p hidden>", "<span style=''>", "<i class='x' id='y'>",
    "<b id='z' style='color:red'>", "</b>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(HIDING_PIECES), max_size=40).map("".join))
def test_hiding_candidates_match_the_predicate_search(markup: str) -> None:
    root = parse(f"<html style='x'><body><div>{markup}</div></body></html>")
    for classes, ids in ((set(), set()), ({"x"}, set()), (set(), {"y"}), ({"x"}, {"y"})):
        attrs = ["@hidden", "@style", *(["@class"] if classes else []), *(["@id"] if ids else [])]
        expected = root.xpath(f"descendant-or-self::*[{' or '.join(attrs)}]")
        assert spam._hiding_candidates(root, (classes, ids)) == expected
    chrome_expected = root.xpath("descendant::*[@class or @id or self::footer or self::nav]")
    assert chrome._CANDIDATES(root) == chrome_expected


STYLE_PIECES = [
    "display:none", "DISPLAY : None", "visibility:hidden", "font-size:0", "font-size:0px;",
    "font-size:0.5px", "left:-999px", "text-indent:-2000px", "height:0", "width:0px;",
    "overflow:hidden", "OVERFLOW: HIDDEN", "color:red", ";", " ", "x" * 60,
]  # fmt: skip


def _hidden_style_reference(style: str) -> bool:
    """`spam.hidden_style` without the cache."""
    if spam._HIDDEN_STYLE.search(style):
        return True
    return bool(spam._ZERO_BOX.search(style)) and bool(spam._OVERFLOW_HIDDEN.search(style))


@FUZZ
@given(st.lists(st.sampled_from(STYLE_PIECES), max_size=12).map("".join))
def test_hidden_style_cache_matches_reference(style: str) -> None:
    """Short styles (cached, asked twice) and long ones (over the cached length) alike."""
    for text in (style, style + " " * spam._CACHED_STYLE_CHARS):
        assert spam.hidden_style(text) == _hidden_style_reference(text)
        assert spam.hidden_style(text) == _hidden_style_reference(text)


def _strip_spam_lines_reference(work: page._Work, lines: list[str]) -> list[str]:
    """`page._strip_spam_lines` as it was: every line through `strip_spam_text`."""
    clean_lines: list[str] = []
    for line in lines:
        clean, spans = spam.strip_spam_text(line)
        work.removed += [Removal("spam", s) for s in spans]
        if clean.strip(" ,，.。;；:：、"):
            clean_lines.append(clean)
        elif spans:
            work.removed.append(Removal("spam", line))
    return clean_lines


SPAM_LINE_WORDS = [*SPAM_WORDS, " ", "，", "。", "、", "|", "\u3000"]


@FUZZ
@given(st.lists(st.lists(st.sampled_from(SPAM_LINE_WORDS), max_size=6).map("".join), max_size=8))
def test_strip_spam_lines_matches_reference(lines: list[str]) -> None:
    """Clean lines, punctuation-only lines, spam-only lines and spam inside text."""
    el = parse("<html><body><div>x</div></body></html>")
    fast, slow = page._Work(el, el, "x.gov.cn"), page._Work(el, el, "x.gov.cn")
    assert page._strip_spam_lines(fast, lines) == _strip_spam_lines_reference(slow, lines)
    assert fast.removed == slow.removed


def _is_styled_reference(el: HtmlElement, text: str) -> bool:
    """`page._is_styled` as it was: no style cache, the bold text read for every element."""
    if el.tag in ("center", "h1", "h2", "h3", "h4", "h5", "h6"):
        return True
    style = el.get("style") or ""
    if (el.get("align") or "").lower() == "center" or page._CENTRED_STYLE.search(style):
        return True
    if page._BOLD_STYLE.search(style):
        return True
    size = page._FONT_SIZE.search(style)
    if size:
        scale = page._PX_PER_PT if size.group(2).lower() == "pt" else 1.0
        if float(size.group(1)) * scale >= page._LARGE_FONT_PX:
            return True
    bold = "".join(content.norm_space(content.text_of(b)) for b in el.iter(*page._BOLD_TAGS))
    return bool(text) and bold.replace(" ", "") == text.replace(" ", "")


def _styled_texts_reference(body_el: HtmlElement) -> tuple[set[str], set[str]]:
    styled: set[str] = set()
    seen = 0
    for el in body_el.iter(*page._STYLED_TAGS):
        text = content.norm_space(content.text_of(el))
        if not text:
            continue
        seen += 1
        if seen > page._STYLED_BLOCKS:
            break
        if _is_styled_reference(el, text):
            styled.add(text)
    links = {content.norm_space(content.text_of(a)) for a in body_el.iter("a")}
    return styled, links


STYLED_PIECES = [
    *PIECES, "<p style='text-align:center'>", "<p align='CENTER'>",
    "<span style='font-size:22px'>", "<font style='FONT-SIZE: 16pt'>",
    "<span style='font-size:21px'>", "<p style='font-weight:700'>", "<strong>", "</strong>",
    "<b>bold</b>", "<h2>h</h2>", "<p style=''>", "<td style='color:red'>",
    "<span style='" + "x" * 200 + ";font-weight:bold'>", "<p><!-- c --></p>",
    "<span> \u3000</span>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(STYLED_PIECES), max_size=40).map("".join))
def test_styled_texts_match_reference(markup: str) -> None:
    """Leaves and containers, cached and long styles, bold-only and empty elements."""
    root = parse(f"<html><body><div>{markup}</div></body></html>")
    assert page._styled_texts(root) == _styled_texts_reference(root)
    for el in root.iter(*page._STYLED_TAGS, "b", "strong"):
        for text in (content.norm_space(content.text_of(el)), "x", " ", ""):
            assert page._is_styled(el, text) == _is_styled_reference(el, text)


MARKUP_PIECES = [
    *PIECES, "\x00", "\x0b", "\ud800", "\uffff", "&#11;", "&#x0B;", "&#38;", "&#", "11;", "<!--",
    "-->", "<?xml version='1.0'?>", "<!bogus>", "<!DOCTYPE html>", "\ufeff", "<p>&#xFFFF;</p>",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(MARKUP_PIECES), max_size=30).map("".join))
def test_parse_of_cleaned_markup_skips_only_a_no_op(text: str) -> None:
    """`parse_document(clean_markup(t), xml_compatible=True)` (what `_locate` does) builds the
    tree and flags the full cleaning builds, even where cleaning twice is not cleaning once."""
    clean = sanitize.clean_markup(text)
    fast_root, fast_flags = sanitize.parse_document(clean, xml_compatible=True)
    root, flags = sanitize.parse_document(clean)
    assert lxml.html.tostring(fast_root) == lxml.html.tostring(root)
    assert fast_flags == flags
