"""Site chrome: the page furniture around a report (share bars, print/close buttons, QR prompts,
breadcrumbs, navigation, footers, download lines, the news-system header line).

Two levels: blocks whose class/id name them as chrome are dropped from the DOM, and single lines
are recognised by their wording. Each removal is returned as a `Removal(kind, text)` so the
parsed row keeps what was taken out.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from gxcrawl.extract import budget
from gxcrawl.extract.content import element_lines
from gxcrawl.extract.sanitize import drop_trees, outermost
from gxcrawl.extract.types import Removal

# Class/id words that name chrome blocks on government CMSs.
_CHROME_NAME = re.compile(
    r"(?:^|[\s_-])(?:share|bdshare|bdsharebuttonbox|jiathis|print|dayin|close|guanbi|fontsize|"
    r"font-size|zihao|position|location|breadcrumb|crumbs?|dqwz|ewm|qrcode|erweima|"
    r"toolbar|tools|footer|foot|copyright|banquan|navbar|topnav|sidenav|fixed-nav)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK_KIND = (
    (re.compile(r"footer|foot|copyright|banquan", re.I), "footer"),
    (re.compile(r"position|location|breadcrumb|crumb|dqwz", re.I), "breadcrumb"),
    (re.compile(r"nav", re.I), "nav"),
)

# Words that make up toolbar lines; a line made only of these (and brackets/punctuation) is chrome.
_TOOL_TOKENS = re.compile(
    r"【?\s*字体[:：]?\s*[\[【]?\s*大\s*[\]】]?\s*[\[【]?\s*中\s*[\]】]?\s*[\[【]?\s*小\s*[\]】]?\s*】?"
    r"|字号[:：]?\s*[大中小\s]*"
    r"|用微信扫描二维码分享至好友和朋友圈|扫一扫在手机(?:上)?(?:打开|查看)当前页(?:面)?"
    r"|分享到[:：]?|分享至[:：]?|微信好友|朋友圈|新浪微博|腾讯微博|QQ空间|QQ好友|微信|微博|豆瓣"
    r"|打印本页|打印此页|关闭窗口|关闭本页|返回顶部|返回首页|返回列表|加入收藏|收藏本页"
    r"|收藏|打印|关闭|返回|收起|展开|纠错|我要纠错|长者模式|无障碍浏览|无障碍|繁体版|简体版"
    r"|智能问答|政务微博|政务微信|政务抖音|移动客户端|今日头条"
)
_NAV_WORDS = re.compile(r"智能问答|政务微博|政务微信|政务抖音|客户端")
_TOOL_LEFTOVER = re.compile(r"^[\s\[\]【】()（）|｜/、,，:：.·•-]*$")

# Every character a toolbar line can hold: those of the token and leftover patterns (their
# sources: a superset of what they match, bar `\s`) and whitespace (all of it below U+3001). A
# line with any other character is not a toolbar line: one set test spares the token search.
_TOOL_CHARS = (
    frozenset(_TOOL_TOKENS.pattern)
    | frozenset(_TOOL_LEFTOVER.pattern)
    | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
)

# Rules anchored at the line start, tried in order before the footer rule.
_ANCHORED_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "header",
        re.compile(
            r"^(?:发布(?:时间|日期)[:：]\s*)?(?:19|20)\d{2}[-/.年]\d{1,2}[-/.月]\d{1,2}日?"
            r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?\s+"
            r"(?:来源|作者|信息来源|浏览|点击|评论|阅读|访问)"
        ),
    ),
    (
        "header",
        re.compile(r"^(?:来源|信息来源)[:：].{0,40}(?:评论|点击|浏览|阅读|访问)(?:次数|量)?[:：]"),
    ),
    ("breadcrumb", re.compile(r"^(?:当前位置|您的位置|你的位置|您现在的位置|所在位置)[:：]?")),
    ("download", re.compile(r"^(?:PDF|pdf|附件|文件|WORD|Word|DOC|doc)\s*下载[:：]")),
)
_FOOTER_RULE = re.compile(
    r"网站标识码|ICP备|ICP证|公安备案|公网安备|主办单位[:：]|承办单位[:：]|"
    r"版权所有|Copyright|©|技术支持[:：]|建议使用.{0,20}浏览器|网站地图"
)
# Whole-line rules, the first that matches names the kind (the anchored ones, then the footer).
_LINE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (*_ANCHORED_RULES, ("footer", _FOOTER_RULE))
# The characters an anchored rule's match starts with: a line starting with none of them (most
# lines) needs none of those four searches.
_ANCHORED_FIRST = frozenset("发12来信当您你所PpWDd附文")


def classify_line(line: str) -> str | None:
    """The chrome kind of a whole line, or None when it is content."""
    return _classify(line, footer_possible=True)


def classify_lines(lines: list[str]) -> list[str | None]:
    """`[classify_line(line) for line in lines]`, the footer rule searched once over all the
    lines joined first: a line's match is a match in the joined text, so when that has none no
    line needs its own search (most pages print a footer once, outside the text)."""
    footer_possible = _FOOTER_RULE.search("\n".join(lines)) is not None
    return [_classify(line, footer_possible) for line in lines]


def _classify(line: str, footer_possible: bool) -> str | None:
    """`classify_line`; `footer_possible` False: the footer rule is known not to match."""
    if (
        len(line) <= 120
        and _TOOL_CHARS.issuperset(line)
        and _TOOL_TOKENS.search(line)
        and _TOOL_LEFTOVER.match(_TOOL_TOKENS.sub("", line))
    ):
        return "nav" if _NAV_WORDS.search(line) else "chrome"
    if len(line) > 200:
        return None
    if line[:1] in _ANCHORED_FIRST:
        for kind, rule in _ANCHORED_RULES:
            if rule.search(line):
                return kind
    if footer_possible and _FOOTER_RULE.search(line):
        return "footer"
    return None


def strip_chrome_lines(lines: list[str]) -> tuple[list[str], list[Removal]]:
    kept: list[str] = []
    removed: list[Removal] = []
    for line, kind in zip(lines, classify_lines(lines), strict=True):
        if kind is None:
            kept.append(line)
        else:
            removed.append(Removal(kind, line))
    return kept, removed


def block_kind(el: HtmlElement) -> str | None:
    """Chrome kind of an element named like chrome (class/id), else None."""
    if el.tag in ("footer", "nav"):
        return "footer" if el.tag == "footer" else "nav"
    names = f"{el.get('class') or ''} {el.get('id') or ''}".strip()
    if not names or not _CHROME_NAME.search(names):
        return None
    for rule, kind in _BLOCK_KIND:
        if rule.search(names):
            return kind
    return "chrome"


# Elements that can be chrome blocks, selected in C: most elements carry no class or id. (The
# owners of class/id attributes: libxml2 finds them ~5x faster than by `*[@class or @id]`.)
_CANDIDATES = etree.XPath(
    "(descendant::*/@class | descendant::*/@id)/.. | descendant::footer | descendant::nav"
)
# Candidates between two budget checks: each is cheap, a clock read every time is not.
_CHECK_EVERY = 64


# The class and id values under an element, as plain strings (no element objects).
_CLASS_VALUES = etree.XPath("descendant::*/@class", smart_strings=False)
_ID_VALUES = etree.XPath("descendant::*/@id", smart_strings=False)


def _may_hold_chrome(root: HtmlElement) -> bool:
    """False when no element under `root` can be a chrome block: no footer or nav, and no
    class or id naming chrome. The names are searched joined by line breaks, which the name
    pattern takes for the separator it also finds between an element's class and id, so a
    name found in an element's "class id" is found in the join."""
    if next(root.iter("footer", "nav"), None) is not None:
        return True
    names: list[str] = _CLASS_VALUES(root) + _ID_VALUES(root)
    return _CHROME_NAME.search("\n".join(names)) is not None


def strip_chrome_blocks(root: HtmlElement) -> list[Removal]:
    """Drop chrome-named blocks inside the content element (outermost first).

    The blocks a pre-order walk that does not enter a dropped block would drop: chrome-named
    elements (a "tools" box holding a table is more likely content) inside no other one.
    """
    blocks: list[tuple[HtmlElement, str]] = []
    if not _may_hold_chrome(root):
        return []  # most pages' content: nothing named like chrome, no footer or nav
    for i, el in enumerate(_CANDIDATES(root)):
        if not i % _CHECK_EVERY:
            budget.check("strip_chrome_blocks")
        kind = block_kind(el)
        if kind is not None and not (kind == "chrome" and el.find(".//table") is not None):
            blocks.append((el, kind))
    dropped = outermost([el for el, _ in blocks])
    removed = [
        Removal(kind, line) for el, kind in blocks if el in dropped for line in element_lines(el)
    ]
    drop_trees(list(dropped))  # together at the end: one at a time is quadratic in sibling tails
    return removed
