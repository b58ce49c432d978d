"""Spam injected into hacked government pages: hidden blocks, link farms, replaced words.

Spam is a finding, not only noise: every fragment taken out is returned as a `Removal` with kind
`spam` (or `hidden` for invisible text with no spam sign), and callers flag the page
`spam_injected`. The vocabulary lives in `spam_terms.txt` (data, easy to extend).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from gxcrawl.extract.content import element_lines, norm_space
from gxcrawl.extract.types import Removal

# Read through importlib.resources: inside a zipped egg (Scrapyd) there is no file path.
TERMS_FILE = resources.files("gxcrawl.extract").joinpath("spam_terms.txt")

# Inline styles that make an element invisible: display/visibility, zero font size, off-screen
# positioning or indent (hundreds of px), zero-size boxes that clip their overflow.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none"
    r"|visibility\s*:\s*hidden"
    r"|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|!|$)"
    r"|(?:left|top|right|text-indent|margin-left|margin-top)\s*:\s*-(?:[5-9]\d{2}|\d{4,})"
    r"|(?:^|;)\s*(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$)(?=.*overflow\s*:\s*hidden)",
    re.IGNORECASE,
)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"^[a-z0-9]*([.#])([\w-]+)$", re.IGNORECASE)


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
    strong, weak = spam_terms()
    atom = rf"(?:{_alt(strong)}|{_alt(weak)}|[A-Za-z0-9]+)"
    # A spam span: a strong term with the weak words / latin brand letters glued around it,
    # plus the separator the injector left behind ("bet365亚洲官网 办公室").
    span = rf"(?:{atom}[ \t·|_-]*)*(?:{_alt(strong)})(?:[ \t·|_-]*{atom})*[ \t]*"
    return re.compile(_alt(strong), re.IGNORECASE), re.compile(span, re.IGNORECASE)


def has_spam(text: str) -> bool:
    """True when `text` holds a strong spam term."""
    return bool(text) and _patterns()[0].search(text) is not None


def weak_count(text: str) -> int:
    _, weak = spam_terms()
    low = text.lower()
    return sum(1 for t in weak if t.lower() in low)


def strip_spam_text(text: str) -> tuple[str, list[str]]:
    """Remove spam spans from visible text: (clean text, removed spans)."""
    if not has_spam(text):
        return text, []
    spans: list[str] = []

    def cut(m: re.Match[str]) -> str:
        spans.append(m.group(0).strip())
        return ""

    clean = _patterns()[1].sub(cut, text)
    return norm_space(clean), spans


def hidden_css(root: HtmlElement) -> tuple[set[str], set[str]]:
    """Classes and ids that `<style>` blocks hide (hacks often hide links through a class)."""
    classes: set[str] = set()
    ids: set[str] = set()
    for style in root.iter("style"):
        for selectors, body in _CSS_RULE.findall(style.text or ""):
            if not _HIDDEN_STYLE.search(body):
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
    if style and _HIDDEN_STYLE.search(style):
        return True
    if ids and el.get("id") in ids:
        return True
    return bool(classes) and not classes.isdisjoint((el.get("class") or "").split())


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _offsite_commercial(href: str, page_host: str) -> bool:
    host = _host(href)
    return bool(host) and host != page_host and not host.endswith(".gov.cn")


def is_link_farm(el: HtmlElement, page_host: str, strict: bool) -> bool:
    """Many links, little else, and spam words — or, when `strict` (inside the report body), links
    that all leave for non-government hosts."""
    anchors = [a for a in el.iter("a") if norm_space(a.text_content())]
    if len(anchors) < 5:
        return False
    text = norm_space(el.text_content())
    link_chars = sum(len(norm_space(a.text_content())) for a in anchors)
    if link_chars < 0.7 * max(len(text), 1):
        return False
    spammy = sum(
        1 for a in anchors if has_spam(a.text_content()) or weak_count(a.text_content()) >= 2
    )
    if spammy * 2 >= len(anchors):
        return True
    if strict:
        off = sum(1 for a in anchors if _offsite_commercial(a.get("href") or "", page_host))
        return off >= 0.8 * len(anchors)
    return False


def _removal_texts(el: HtmlElement) -> list[str]:
    lines = element_lines(el)
    return lines or ([norm_space(el.text_content())] if norm_space(el.text_content()) else [])


def remove_hidden(
    root: HtmlElement, css: tuple[set[str], set[str]], page_host: str
) -> list[Removal]:
    """Drop invisible elements from `root`; spam-bearing ones are recorded as kind `spam`."""
    classes, ids = css
    removed: list[Removal] = []
    hidden = [el for el in root.iter() if isinstance(el.tag, str) and is_hidden(el, classes, ids)]
    for el in hidden:
        if el.getparent() is None or any(h is not el and h in el.iterancestors() for h in hidden):
            continue  # an ancestor is dropped anyway
        if el.tag in ("script", "style", "template", "input"):
            continue
        text = norm_space(el.text_content())
        spam = (
            has_spam(text)
            or is_link_farm(el, page_host, strict=False)
            or (len(el.findall(".//a")) >= 5 and weak_count(text) >= 2)
        )
        for line in _removal_texts(el):
            removed.append(Removal("spam" if spam else "hidden", line))
        el.drop_tree()
    return removed


def remove_link_farms(root: HtmlElement, page_host: str, strict: bool) -> list[Removal]:
    """Drop visible link farms (smallest enclosing blocks first)."""
    removed: list[Removal] = []
    for el in list(root.iter("div", "ul", "ol", "p", "td", "span", "marquee", "section")):
        if el.getparent() is None or not is_link_farm(el, page_host, strict):
            continue
        # Prefer the innermost farm: skip if a child block is itself the farm.
        if any(
            c.tag in ("div", "ul", "ol", "p", "span") and is_link_farm(c, page_host, strict)
            for c in el
        ):
            continue
        removed.extend(Removal("spam", line) for line in _removal_texts(el))
        el.drop_tree()
    return removed
