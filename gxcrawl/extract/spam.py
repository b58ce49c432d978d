"""Spam injected into hacked government pages: hidden blocks, link farms, replaced words.

Spam is a finding, not only noise: every fragment taken out is returned as a `Removal` with kind
`spam` (or `hidden` for invisible text with no spam sign), and callers flag the page
`spam_injected`. The vocabulary lives in `spam_terms.txt` (data, easy to extend).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from gxcrawl.extract import budget
from gxcrawl.extract.content import element_lines, norm_space, text_of
from gxcrawl.extract.sanitize import drop_trees, outermost
from gxcrawl.extract.types import Removal

# Read through importlib.resources: inside a zipped egg (Scrapyd) there is no file path.
TERMS_FILE = resources.files("gxcrawl.extract").joinpath("spam_terms.txt")

# Inline styles that make an element invisible: display/visibility, zero font size, off-screen
# positioning or indent (hundreds of px). Every branch starts with a literal and has bounded
# repetition only, so a search is linear in the style's length.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none"
    r"|visibility\s*:\s*hidden"
    r"|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|!|$)"
    r"|(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*-(?:[5-9]\d{2}|\d{4,})",
    re.IGNORECASE,
)
# Zero-size boxes hide their text only when they also clip their overflow. Two searches instead
# of one pattern with a `(?=.*overflow…)` look-ahead, which rescans the rest of the style from
# every `;` (quadratic on a long style).
_ZERO_BOX = re.compile(r"(?:^|;)\s*(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$)", re.IGNORECASE)
_OVERFLOW_HIDDEN = re.compile(r"overflow\s*:\s*hidden", re.IGNORECASE)
_SIMPLE_SELECTOR = re.compile(r"^[a-z0-9]*([.#])([\w-]+)$", re.IGNORECASE)
# Longest CSS selector list / declaration block looked at; real rules are far shorter, and
# capping keeps a brace-less multi-megabyte <style> from costing more than one pass.
MAX_CSS_PART = 2000
# Separators an injector leaves between the words of a spam span ("bet365亚洲官网 | 办公室").
_SPAN_SEPARATORS = frozenset(" \t·|_-")


# Inline styles up to this long have their verdict cached: a Word export repeats a handful of
# styles on every span (2,300 style attributes, 16 distinct, on the evaluation pages), and the
# caseless searches cost far more than a lookup. Longer ones are searched each time, so the
# cache holds at most `_STYLE_CACHE` short strings.
_CACHED_STYLE_CHARS = 200
_STYLE_CACHE = 1024


def hidden_style(style: str) -> bool:
    """True when an inline style (or a CSS declaration block) makes the element invisible."""
    if len(style) <= _CACHED_STYLE_CHARS:
        return _hidden_short_style(style)
    return _search_hidden_style(style)


@lru_cache(maxsize=_STYLE_CACHE)
def _hidden_short_style(style: str) -> bool:
    return _search_hidden_style(style)


def _search_hidden_style(style: str) -> bool:
    if _HIDDEN_STYLE.search(style):
        return True
    return bool(_ZERO_BOX.search(style)) and bool(_OVERFLOW_HIDDEN.search(style))


@lru_cache(maxsize=1)
def spam_terms() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(strong, weak) terms from spam_terms.txt, longest first so regex alternation is greedy."""
    strong: list[str] = []
    weak: list[str] = []
    bucket = strong
    for raw in TERMS_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() == "[strong]":
            bucket = strong
        elif line.lower() == "[weak]":
            bucket = weak
        else:
            bucket.append(line)
    return tuple(sorted(strong, key=len, reverse=True)), tuple(sorted(weak, key=len, reverse=True))


def _alt(terms: tuple[str, ...]) -> str:
    return "|".join(re.escape(t) for t in terms)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(strong terms, span tokens). A token is one term or ONE latin letter/digit: runs of
    letters are chained token by token in `_spam_spans`, never by a repeated group, so there is
    no nested quantifier for the regex engine to backtrack through."""
    strong, weak = spam_terms()
    token = rf"{_alt(strong)}|{_alt(weak)}|[A-Za-z0-9]"
    return re.compile(_alt(strong), re.IGNORECASE), re.compile(token, re.IGNORECASE)


def _cased(term: str) -> bool:
    return any(c.lower() != c.upper() for c in term)


@lru_cache(maxsize=1)
def _strong_searches() -> tuple[tuple[re.Pattern[str], tuple[str, ...] | None], ...]:
    """`_patterns()[0]` split in two, (caseless terms, cased terms with IGNORECASE): the flag
    only changes what a cased letter matches, and it makes a search of Chinese text ~5x slower.
    Each comes with the strings one of which a text must hold to match it (None: no such test)."""
    strong, _ = spam_terms()
    caseless = tuple(t for t in strong if not _cased(t))
    cased = tuple(t for t in strong if _cased(t))
    searches: list[tuple[re.Pattern[str], tuple[str, ...] | None]] = []
    if caseless:
        searches.append((re.compile(_alt(caseless)), None))
    if cased:
        searches.append((re.compile(_alt(cased), re.IGNORECASE), _digit_needles(cased)))
    return tuple(searches)


_DIGITS = re.compile(r"[0-9]+")


def _digit_needles(terms: tuple[str, ...]) -> tuple[str, ...] | None:
    """The longest run of ASCII digits of each term ("365" of "bet365"), or None when a term has
    none. An ASCII digit matches only itself, under IGNORECASE too, so a text holding none of
    these runs holds none of the terms: a substring test spares the caseless search (which
    costs as much for one cased term as the search for all the Chinese ones)."""
    needles: list[str] = []
    for term in terms:
        runs = _DIGITS.findall(term)
        if not runs:
            return None
        needles.append(max(runs, key=len))
    return tuple(dict.fromkeys(needles))


def has_spam(text: str) -> bool:
    """True when `text` holds a strong spam term."""
    if text:
        for pattern, needles in _strong_searches():
            if needles is not None:
                for needle in needles:
                    if needle in text:
                        break
                else:
                    continue  # no needle: no match
            if pattern.search(text) is not None:
                return True
    return False


@lru_cache(maxsize=1)
def _weak_lowered() -> tuple[str, ...]:
    """The weak terms lowercased, once (not once per text searched)."""
    return tuple(t.lower() for t in spam_terms()[1])


def any_spam(lines: list[str]) -> bool:
    """`any(has_spam(line) for line in lines)` as one search over the lines joined, not one
    per line (most pages hold no term): a term found in a line is found in the join, and no
    term holds a line break, so a match in the join lies within one line."""
    return has_spam("\n".join(lines))


def weak_count(text: str) -> int:
    low = text.lower()
    return sum(1 for t in _weak_lowered() if t in low)


def _chains(text: str) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of spam tokens joined by nothing but separators."""
    chains: list[tuple[int, int]] = []
    start = end = -1
    for m in _patterns()[1].finditer(text):
        if start >= 0 and all(c in _SPAN_SEPARATORS for c in text[end : m.start()]):
            end = m.end()
            continue
        if start >= 0:
            chains.append((start, end))
        start, end = m.start(), m.end()
    if start >= 0:
        chains.append((start, end))
    return chains


def _spam_spans(text: str) -> list[tuple[int, int]]:
    r"""Spam spans: chains holding a strong term, with the blanks the injector left after them.

    The same spans as `(?:atom sep*)* strong (sep* atom)* [ \t]*`, found in linear time.
    """
    spans: list[tuple[int, int]] = []
    for start, end in _chains(text):
        if not has_spam(text[start:end]):
            continue
        while end < len(text) and text[end] in " \t":
            end += 1
        spans.append((start, end))
    return spans


def strip_spam_text(text: str) -> tuple[str, list[str]]:
    """Remove spam spans from visible text: (clean text, removed spans)."""
    if not has_spam(text):
        return text, []
    spans = _spam_spans(text)
    kept: list[str] = []
    pos = 0
    for start, end in spans:
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return norm_space("".join(kept)), [text[s:e].strip() for s, e in spans]


def _css_rules(css: str) -> list[tuple[str, str]]:
    r"""(selectors, declarations) of each innermost `selectors { declarations }` rule.

    Split on braces instead of a `([^{}]+)\{([^{}]*)\}` scan, which retries the whole
    brace-less remainder from every position (quadratic on a style block with no braces).
    """
    rules: list[tuple[str, str]] = []
    for chunk in css.split("}"):
        parts = chunk.rsplit("{", 2)
        if len(parts) < 2:
            continue
        selectors, body = parts[-2], parts[-1]
        if selectors.strip() and len(selectors) <= MAX_CSS_PART and len(body) <= MAX_CSS_PART:
            rules.append((selectors, body))
    return rules


def hidden_css(root: HtmlElement) -> tuple[set[str], set[str]]:
    """Classes and ids that `<style>` blocks hide (hacks often hide links through a class)."""
    classes: set[str] = set()
    ids: set[str] = set()
    for style in root.iter("style"):
        for selectors, body in _css_rules(style.text or ""):
            if not hidden_style(body):
                continue
            for sel in selectors.split(","):
                m = _SIMPLE_SELECTOR.match(sel.strip())
                if m:
                    (classes if m.group(1) == "." else ids).add(m.group(2))
    return classes, ids


def is_hidden(el: HtmlElement, classes: set[str], ids: set[str]) -> bool:
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    if style and hidden_style(style):
        return True
    if ids and el.get("id") in ids:
        return True
    return bool(classes) and not classes.isdisjoint((el.get("class") or "").split())


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # "Invalid IPv6 URL", a netloc that NFKC-normalises to "/" or ":" …
        return ""


# What `urlsplit` deletes from a URL before looking for its "//" netloc.
_URL_REMOVED = ("\t", "\r", "\n")


def _offsite_commercial(href: str, page_host: str) -> bool:
    if "//" not in href and not any(c in href for c in _URL_REMOVED):
        return False  # no netloc, no host: a relative link (most of them), without the parse
    host = _host(href)
    return bool(host) and host != page_host and not host.endswith(".gov.cn")


# The whitespace `content.norm_space` collapses; kept equal so lengths here match its output.
_WS_RUN = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
FARM_MIN_LINKS = 5  # fewer links than this is a link list, not a farm
FARM_LINK_SHARE = 0.7  # link text at least this share of the block's text
_FARM_CHILD_TAGS = frozenset({"div", "ul", "ol", "p", "span"})
_FARM_TAGS = frozenset({"div", "ul", "ol", "p", "td", "span", "marquee", "section"})
# Loop iterations between two budget checks: each is cheap, a clock read every time is not.
_CHECK_EVERY = 64
FARM_OFFSITE_SHARE = 0.8  # strict: this share of links leaving for non-government hosts


@dataclass(frozen=True)
class _Text:
    """Length of a text after whitespace runs collapse to one space (before stripping), and
    whether it starts/ends with such a run: enough to join lengths without the text."""

    collapsed: int = 0
    starts: bool = False
    ends: bool = False

    @staticmethod
    def of(text: str | None) -> _Text:
        """What `_WS_RUN.sub(" ", text)` would measure: the collapsed text plus the one space
        each whitespace end leaves (a blank text is that one space)."""
        if not text:
            return _EMPTY
        words = norm_space(text)
        if not words:
            return _BLANK
        starts, ends = _is_space(text[0]), _is_space(text[-1])
        return _Text(len(words) + starts + ends, starts, ends)

    def __add__(self, other: _Text) -> _Text:
        if not self.collapsed:
            return other
        if not other.collapsed:
            return self
        merged = self.collapsed + other.collapsed - (self.ends and other.starts)
        return _Text(merged, self.starts, other.ends)

    def stripped(self) -> int:
        """len(norm_space(text))."""
        return max(0, self.collapsed - self.starts - self.ends)


_EMPTY = _Text()
_BLANK = _Text(1, True, True)


def _is_space(char: str) -> bool:
    """One character of a `_WS_RUN` run (`norm_space` whitespace)."""
    return char.isspace() or char == "\u200b" or char == "\ufeff"


@dataclass
class _Farm:
    """Link-farm evidence for one element's subtree (its `a` elements with text)."""

    text: _Text = _EMPTY
    anchors: int = 0
    link_chars: int = 0
    spammy: int = 0
    offsite: int = 0

    def add(self, other: _Farm) -> None:
        self.anchors += other.anchors
        self.link_chars += other.link_chars
        self.spammy += other.spammy
        self.offsite += other.offsite

    def verdict(self, strict: bool) -> bool:
        if self.anchors < FARM_MIN_LINKS:
            return False
        if self.link_chars < FARM_LINK_SHARE * max(self.text.stripped(), 1):
            return False
        if self.spammy * 2 >= self.anchors:
            return True
        return strict and self.offsite >= FARM_OFFSITE_SHARE * self.anchors


def _farm_evidence(root: HtmlElement, page_host: str) -> dict[HtmlElement, _Farm]:
    """`_Farm` of every element under `root` holding a link, children before parents.

    One pass, where asking each block about its own subtree cost O(elements × depth) (minutes
    for links under a few hundred nested divs). A link-free child is measured once, by its text.
    Only the anchors and their ancestors are visited: a big link-free table costs one text read.
    """
    found: dict[HtmlElement, _Farm] = {}
    anchors = list(root.iter("a"))
    if len(anchors) < FARM_MIN_LINKS:
        return found  # no block can be a farm
    kids = _link_holders(root, anchors)
    for el in reversed(kids):  # reversed pre-order: children first
        farm = _Farm()
        text = _EMPTY
        # Raw text since the last link-holding child, measured in one piece when one comes.
        pending = [el.text or ""]
        for child in kids[el]:
            sub = found.get(child)
            if sub is not None:
                text = text + _Text.of("".join(pending)) + sub.text
                pending = []
                farm.add(sub)
            elif isinstance(child.tag, str):
                pending.append(text_of(child))
            pending.append(child.tail or "")
        farm.text = text = text + _Text.of("".join(pending))
        if el.tag == "a" and text.stripped():
            _add_anchor(farm, el, page_host)
        found[el] = farm
    return found


def _link_holders(
    root: HtmlElement, anchors: list[HtmlElement]
) -> dict[HtmlElement, list[HtmlElement]]:
    """The anchors under `root` and their ancestors up to `root`, in document order, each with
    its children (comments too). Each climb stops at an element already found: linear."""
    holders: set[HtmlElement] = set()
    for anchor in anchors:
        node: HtmlElement | None = anchor
        while node is not None and node not in holders:
            holders.add(node)
            node = None if node is root else node.getparent()
    kids: dict[HtmlElement, list[HtmlElement]] = {}
    stack = [root]
    while stack:  # pre-order over the holders only
        el = stack.pop()
        kids[el] = children = list(el)
        stack.extend(c for c in reversed(children) if c in holders)
    return kids


def _add_anchor(farm: _Farm, anchor: HtmlElement, page_host: str) -> None:
    words = text_of(anchor)
    farm.anchors += 1
    farm.link_chars += farm.text.stripped()
    farm.spammy += has_spam(words) or weak_count(words) >= 2
    farm.offsite += _offsite_commercial(anchor.get("href") or "", page_host)


# Fewest spam-worded links a farm can hold: half of at least FARM_MIN_LINKS (rounded up).
_FARM_MIN_SPAMMY = -(-FARM_MIN_LINKS // 2)


def _farm_possible(root: HtmlElement, page_host: str, strict: bool) -> bool:
    """False when no element under `root` can pass `_Farm.verdict`, from counts over all its
    links: a farm needs FARM_MIN_LINKS links, half of them spam-worded (or, when `strict`,
    FARM_OFFSITE_SHARE of them offsite), and its links are among these. Most pages have no
    such words, and this spares measuring every link holder's text.

    The counts are upper bounds of any element's: links with blank text count too, and the
    spam tests run first over all link texts joined (a term in one text is in the join)."""
    anchors = list(root.iter("a"))
    if len(anchors) < FARM_MIN_LINKS:
        return False
    if strict:
        offsite = sum(_offsite_commercial(a.get("href") or "", page_host) for a in anchors)
        if offsite >= FARM_OFFSITE_SHARE * FARM_MIN_LINKS:
            return True
    texts = [text_of(a) for a in anchors]
    joined = "\n".join(texts)
    if not has_spam(joined) and weak_count(joined) < 2:
        return False  # no link text holds a strong term or two weak ones
    spammy = sum(has_spam(t) or weak_count(t) >= 2 for t in texts)
    return spammy >= _FARM_MIN_SPAMMY


def is_link_farm(el: HtmlElement, page_host: str, strict: bool) -> bool:
    """Many links, little else, and spam words — or, when `strict` (inside the report body), links
    that all leave for non-government hosts."""
    return _is_farm(_farm_evidence(el, page_host), el, strict)


def _is_farm(farms: dict[HtmlElement, _Farm], el: HtmlElement, strict: bool) -> bool:
    farm = farms.get(el)
    return farm is not None and farm.verdict(strict)


def _removal_texts(el: HtmlElement) -> list[str]:
    lines = element_lines(el)
    return lines or ([norm_space(text_of(el))] if norm_space(text_of(el)) else [])


def _hiding_candidates(root: HtmlElement, css: tuple[set[str], set[str]]) -> list[HtmlElement]:
    """Elements (root included, document order) carrying an attribute that can hide them,
    selected in C: most elements of a big page have none."""
    classes, ids = css
    found: list[HtmlElement] = _hiding_attributes(bool(classes), bool(ids))(root)
    return found


@lru_cache(maxsize=4)
def _hiding_attributes(classes: bool, ids: bool) -> etree.XPath:
    """The owners of hidden/style (and class, id) attributes: the elements of
    `descendant-or-self::*[@hidden or @style …]`, which libxml2 finds ~2.5x slower."""
    attrs = ["hidden", "style", *(["class"] if classes else []), *(["id"] if ids else [])]
    return etree.XPath(f"({' | '.join(f'descendant-or-self::*/@{a}' for a in attrs)})/..")


# The distinct inline styles under an element (EXSLT's set:distinct, in C), as plain strings
# (no element or smart-string objects), and whether any element carries a `hidden` attribute.
_STYLE_VALUES = etree.XPath(
    "set:distinct(descendant-or-self::*/@style)",
    namespaces={"set": "http://exslt.org/sets"},
    smart_strings=False,
)
_ANY_HIDDEN_ATTRIBUTE = etree.XPath("boolean(descendant-or-self::*/@hidden)")


def _may_hide(root: HtmlElement) -> bool:
    """False when no element under `root` (itself included) is hidden by an inline style or a
    `hidden` attribute: each distinct style is judged once, without a Python object per
    element (a Word export puts a style on every cell and paragraph)."""
    return any(hidden_style(style) for style in _STYLE_VALUES(root)) or bool(
        _ANY_HIDDEN_ATTRIBUTE(root)
    )


def _hidden_among(
    candidates: list[HtmlElement], classes: set[str], ids: set[str]
) -> list[HtmlElement]:
    """`[el for el in candidates if is_hidden(el, classes, ids)]`, each distinct inline style
    judged once: a Word export repeats a few styles on hundreds of elements, and a dict lookup
    here costs less than the call and the cache lookup of `hidden_style`."""
    hidden: list[HtmlElement] = []
    verdicts: dict[str, bool] = {}
    for el in candidates:
        style = el.get("style")
        if style:
            verdict = verdicts.get(style)
            if verdict is None:
                verdict = verdicts[style] = hidden_style(style)
        else:
            verdict = False
        if (
            verdict
            or el.get("hidden") is not None
            or (ids and el.get("id") in ids)
            or (classes and not classes.isdisjoint((el.get("class") or "").split()))
        ):
            hidden.append(el)
    return hidden


def remove_hidden(
    root: HtmlElement, css: tuple[set[str], set[str]], page_host: str
) -> list[Removal]:
    """Drop invisible elements from `root`; spam-bearing ones are recorded as kind `spam`."""
    classes, ids = css
    removed: list[Removal] = []
    dropped: list[HtmlElement] = []  # dropped together at the end: one at a time is quadratic
    if not classes and not ids and not _may_hide(root):
        return removed  # most pages: no style hides, no element is `hidden`
    hidden = _hidden_among(_hiding_candidates(root, css), classes, ids)
    top = outermost(hidden)
    for el in hidden:
        budget.check("remove_hidden")
        if el.getparent() is None or el not in top:
            continue  # an ancestor is dropped anyway
        if el.tag in ("script", "style", "template", "input"):
            continue
        text = norm_space(text_of(el))
        many_links = len(el.findall(".//a")) >= FARM_MIN_LINKS  # else neither test below can hold
        spam = has_spam(text) or (
            many_links and (is_link_farm(el, page_host, strict=False) or weak_count(text) >= 2)
        )
        for line in _removal_texts(el):
            removed.append(Removal("spam" if spam else "hidden", line))
        dropped.append(el)
    drop_trees(dropped)
    return removed


def remove_link_farms(root: HtmlElement, page_host: str, strict: bool) -> list[Removal]:
    """Drop visible link farms (smallest enclosing blocks first)."""
    removed: list[Removal] = []
    if not _farm_possible(root, page_host, strict):
        return removed
    # Computed once: dropping a farm changes only its ancestors' evidence, and those come
    # before it in document order, so every element still to be visited keeps exact figures.
    farms = _farm_evidence(root, page_host)
    dropped: list[HtmlElement] = []
    # Document order; an element holding no link (not in `farms`) is never a farm.
    for i, el in enumerate(reversed(farms)):
        if not i % _CHECK_EVERY:
            budget.check("remove_link_farms")
        if el.tag not in _FARM_TAGS or el.getparent() is None or not _is_farm(farms, el, strict):
            continue
        # Prefer the innermost farm: skip if a child block is itself the farm.
        if any(
            c.tag in ("div", "ul", "ol", "p", "span") and _is_farm(farms, c, strict) for c in el
        ):
            continue
        removed.extend(Removal("spam", line) for line in _removal_texts(el))
        dropped.append(el)
        budget.check("remove_link_farms")  # farms can nest: each one's text costs a walk
    drop_trees(dropped)  # together at the end: one at a time is quadratic in sibling tails
    return removed
