"""Find the main content of a page and render an element as clean lines of text.

Platform families put the body in known containers (TRS `.TRS_Editor`, Ucap `#zoomcon` /
`<ucapcontent>`, Hanweb between `<!--ZJEG_RSS.content.begin-->` and `end` comments, …); those are
tried first, in order, and a text/link-density score over the DOM is the fallback for unknown
sites. Rendering keeps one paragraph (or one table row, cells joined by " | ") per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement, fragment_fromstring

from gxcrawl.textutil import collapse_whitespace

# Tried in order; the first selector with a match holding real text wins.
PLATFORM_SELECTORS: tuple[str, ...] = (
    ".TRS_Editor",
    ".trs_editor_view",
    "#zoomcon",
    "#zoom",
    "ucapcontent",
    "#UCAP-CONTENT",
    ".xxgk_content",
    ".article-content",
    ".article_content",
    "#content",
    ".article",
    ".content",
    "article",
)
MIN_CONTENT_CHARS = 40
# Compiled CSS selectors kept: the platform and title selectors plus one per registry portal.
_SELECTOR_CACHE = 512

HANWEB_BEGIN = "<!--ZJEG_RSS.content.begin-->"
HANWEB_END = "<!--ZJEG_RSS.content.end-->"
_HANWEB = re.compile(
    re.escape(HANWEB_BEGIN) + r"(.*?)" + re.escape(HANWEB_END), re.DOTALL | re.IGNORECASE
)
SLOT_ID = "gxcrawl-content-slot"

SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link"})
BLOCK_TAGS = frozenset(
    {
        "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
        "table", "tr", "tbody", "thead", "tfoot", "caption", "section", "article", "header",
        "footer", "nav", "aside", "main", "blockquote", "pre", "center", "form", "hr", "body",
        "ucapcontent", "address", "figure", "figcaption",
    }
)  # fmt: skip


# Whitespace runs as one space, ends trimmed: the shared `textutil.collapse_whitespace` itself
# (no wrapper: it runs on every line and cell of a page).
norm_space = collapse_whitespace


def text_of(el: HtmlElement) -> str:
    """`el.text_content()` (every text node under `el`, comments excluded), from lxml's C text
    serialiser: the same string, about 4x faster than the XPath `string()` call it makes."""
    return etree.tostring(el, method="text", encoding="unicode", with_tail=False)


def split_hanweb(html: str) -> tuple[str, str | None]:
    """Cut the Hanweb-marked body out of the page: (rest of page with a slot, body fragment)."""
    m = _HANWEB.search(html)
    if not m or not m.group(1).strip():
        return html, None
    rest = html[: m.start()] + f'<div id="{SLOT_ID}"></div>' + html[m.end() :]
    return rest, m.group(1)


def fragment(html: str) -> HtmlElement:
    return fragment_fromstring(html, create_parent="div")


def _text_len(el: HtmlElement) -> int:
    return len(norm_space(text_of(el)))


@lru_cache(maxsize=_SELECTOR_CACHE)
def _compiled(css: str) -> CSSSelector:
    return CSSSelector(css, translator="html")


def css_select(root: HtmlElement, css: str) -> list[HtmlElement]:
    """`root.cssselect(css)` with the selector compiled once (lxml compiles it on every call:
    CSS → XPath costs more than the search itself on a page)."""
    return _compiled(css)(root)


def find_by_selectors(
    root: HtmlElement,
    selector: str | None = None,
    platform: list[list[HtmlElement]] | None = None,
) -> HtmlElement | None:
    """The main-content element named by `selector` (hint) or the platform selectors;
    `platform`: `select_each(root, PLATFORM_SELECTORS)` when the caller has it already."""
    if selector:
        try:
            found = css_select(root, selector)
        except Exception:  # a bad registry selector must not stop extraction
            found = []
        best = _longest(found)
        if best is not None:
            return best
    for found in platform if platform is not None else select_each(root, PLATFORM_SELECTORS):
        best = _longest(found)
        if best is not None:
            return best
    return None


def _longest(found: list[HtmlElement]) -> HtmlElement | None:
    """The element with the most text (the first of equals), if it holds real text. Each text
    is read once: the winner is usually the whole article, too long to read twice."""
    best, best_len = None, -1
    for el in found:
        n = _text_len(el)
        if n > best_len:
            best, best_len = el, n
    return best if best_len >= MIN_CONTENT_CHARS else None


# One class, id or tag name: what `select_each` answers without a CSS search per selector.
_SIMPLE_CSS = re.compile(r"^([.#]?)([A-Za-z_][A-Za-z0-9_-]*)$")
# XPath's normalize-space (in cssselect's class test) splits on these only.
_XML_SPACE = str.maketrans("\t\n\r", "   ")


@dataclass(frozen=True)
class _Plan:
    """How `select_each` answers a tuple of selectors: the index of each simple selector by
    class, id and tag name, and those that are not simple (a CSS search each)."""

    classes: dict[str, list[int]]
    ids: dict[str, list[int]]
    tags: dict[str, list[int]]
    other: tuple[int, ...]


@lru_cache(maxsize=_SELECTOR_CACHE)
def _plan(selectors: tuple[str, ...]) -> _Plan:
    by_kind: dict[str, dict[str, list[int]]] = {".": {}, "#": {}, "": {}}
    other: list[int] = []
    for i, css in enumerate(selectors):
        m = _SIMPLE_CSS.match(css)
        if m is None:
            other.append(i)
        else:
            by_kind[m.group(1)].setdefault(m.group(2), []).append(i)
    return _Plan(by_kind["."], by_kind["#"], by_kind[""], tuple(other))


# Elements with a class / an id, as the owners of those attributes: libxml2 finds them ~3x
# faster than by a predicate (`*[@class]`); tags are found by `iter`, in C.
_WITH_CLASS = etree.XPath("descendant-or-self::*/@class/..")
_WITH_ID = etree.XPath("descendant-or-self::*/@id/..")


def select_each(root: HtmlElement, selectors: tuple[str, ...]) -> list[list[HtmlElement]]:
    """`[css_select(root, css) for css in selectors]`, simple selectors (`.class`, `#id`, `tag`)
    answered from one pass over the tree instead of one CSS search each. A class matches as in
    cssselect's "html" translation: one of the attribute's tokens split on XML whitespace.
    Each list is in document order, `root` included, like a CSS search."""
    plan = _plan(selectors)
    out: list[list[HtmlElement]] = [[] for _ in selectors]
    if plan.classes:
        for el in _WITH_CLASS(root):
            hits: set[int] = set()
            for token in el.get("class").translate(_XML_SPACE).split(" "):
                hits.update(plan.classes.get(token, ()))
            for i in hits:
                out[i].append(el)
    if plan.ids:
        for el in _WITH_ID(root):
            for i in plan.ids.get(el.get("id"), ()):
                out[i].append(el)
    if plan.tags:
        for el in root.iter(*plan.tags):
            for i in plan.tags[el.tag]:
                out[i].append(el)
    for i in plan.other:
        out[i] = css_select(root, selectors[i])
    return out


def within(el: HtmlElement, root: HtmlElement) -> bool:
    """True when `el` is `root` or still in its tree (not dropped or detached since)."""
    node = el
    while node is not root:
        parent = node.getparent()
        if parent is None:
            return False
        node = parent
    return True


def find_by_density(root: HtmlElement) -> HtmlElement | None:
    """Readability-style fallback: paragraphs vote for their parent (and half for grandparent).

    Link-heavy blocks (menus, lists of links) vote little, so the winner is the element that
    directly holds most running text.
    """
    scores = _density_scores(root)
    best = max((e for e in scores if not _is_furniture(e)), key=lambda e: scores[e], default=None)
    return best if best is not None and scores[best] >= MIN_CONTENT_CHARS else None


def _density_scores(root: HtmlElement) -> dict[HtmlElement, float]:
    """The votes of `find_by_density`, by element."""
    scores: dict[HtmlElement, float] = {}
    for el in root.iter("p", "div", "td", "li", "span", "section", "article"):
        whole = el.tag == "p" or el.tag == "td"  # own text: all of it, read once for both
        if whole:
            own = norm_space(text_of(el))
        else:
            own = norm_space(
                (el.text or "") + "".join((c.tail or "") for c in el if isinstance(c.tag, str))
            )
        if len(own) < 10:
            continue
        links = sum(len(norm_space(text_of(a))) for a in el.iter("a"))
        total = max(len(own) if whole else len(norm_space(text_of(el))), 1)
        score = len(own) * max(0.0, 1.0 - links / total)
        parent = el.getparent()
        if parent is None:
            continue
        scores[parent] = scores.get(parent, 0.0) + score
        grand = parent.getparent()
        if grand is not None:
            scores[grand] = scores.get(grand, 0.0) + score / 2
    return scores


# Containers the density vote never elects, however much text they hold (a home page's footer
# can outweigh its short paragraphs).
_FURNITURE_TAGS = frozenset({"footer", "nav", "header", "aside"})
_FURNITURE_NAME = re.compile(
    r"(?:^|[\s_-])(?:footer|foot|copyright|banquan|nav|navbar|menu)(?:$|[\s_-])", re.IGNORECASE
)


def _is_furniture(el: HtmlElement) -> bool:
    if el.tag in _FURNITURE_TAGS:
        return True
    return bool(_FURNITURE_NAME.search(f"{el.get('class') or ''} {el.get('id') or ''}"))


# A cell with more text than this holds prose: its table lays out the page.
_PROSE_CELL_CHARS = 300


def _table_lines(table: HtmlElement) -> list[str] | None:
    """A data table's rows, cells joined by " | "; None for a layout table (nested tables, long
    prose cells), which is walked as blocks.

    One pass over the rows, then one over the cells (document order, tags picked in C, none
    read in Python): each cell's text is read once, for both the layout test and its row, the
    row being the `tr` it is a direct child of. A cell without children (comments count as
    children), most of them, is its own `.text`: no serialiser."""
    if table.find(".//table") is not None:
        return None
    rows: dict[HtmlElement, list[str]] = {tr: [] for tr in table.iter("tr")}
    for cell in table.iter("td", "th"):
        text = text_of(cell) if len(cell) else cell.text or ""
        if len(text) > _PROSE_CELL_CHARS:
            return None
        row = rows.get(cell.getparent())
        if row is not None:
            row.append(norm_space(text))
    return [" | ".join(cells) for cells in rows.values() if any(cells)]


# Tags whose element starts and ends a line; a <br> only starts one.
_LINE_TAGS = BLOCK_TAGS | {"td", "th"}
# An element without children and none of these tags adds only its text to the current line.
_NOT_PLAIN = _LINE_TAGS | SKIP_TAGS | {"br", "table"}
# A childless element with one of these tags is a line of its own text (what `walk` makes of
# it, without the call). Not a table: `_table_lines` reads a childless one as no rows.
_LEAF_LINE = _LINE_TAGS - {"table"}


def element_lines(el: HtmlElement) -> list[str]:
    """Visible text of `el`, one paragraph or table row per line."""
    out: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        if not buf:
            return
        line = norm_space("".join(buf))
        buf.clear()
        if line:
            out.append(line)

    def walk(node: HtmlElement, tag: str) -> None:
        if tag == "table":
            rows = _table_lines(node)
            if rows is not None:
                if buf:
                    flush()
                out.extend(rows)
                return
        block = tag in _LINE_TAGS
        if (block or tag == "br") and buf:
            flush()
        text = node.text
        if text:
            buf.append(text)
        for child in node:
            ctag = child.tag
            # Comments and processing instructions (a function as tag) add only their tails.
            if isinstance(ctag, str) and ctag not in SKIP_TAGS:
                if len(child):
                    walk(child, ctag)
                elif ctag in _LEAF_LINE:  # a childless <p>, <td>, …: its text is one line
                    if buf:
                        flush()
                    ctext = child.text
                    if ctext and (line := norm_space(ctext)):
                        out.append(line)
                elif ctag in _NOT_PLAIN:
                    walk(child, ctag)
                else:  # a plain inline leaf (span, a, font, …): what `walk` would add
                    ctext = child.text
                    if ctext:
                        buf.append(ctext)
            tail = child.tail
            if tail:
                buf.append(tail)
        if block and buf:
            flush()

    tag = el.tag
    if isinstance(tag, str) and tag not in SKIP_TAGS:
        walk(el, tag)
    flush()
    return out


def detach(el: HtmlElement) -> None:
    """Take `el` out of its tree, leaving an empty slot (and its tail text) behind."""
    parent = el.getparent()
    if parent is None:
        return
    slot = parent.makeelement("div", {"id": SLOT_ID})
    slot.tail, el.tail = el.tail, None
    parent.replace(el, slot)
