"""One page in, one `PageResult` out: the extraction shared by the crawl pipelines and
`scrapy extract`.

Stages (each records what it takes out as a `Removal`):
1. `_locate`: parse; cut the Hanweb-marked body out if present; drop hidden elements (spam when
   they carry spam words or link farms); find the main content (registry selector, platform
   selectors, density fallback) and detach it, so the rest of the page is "outside";
2. `_take_metadata_tables`: key–value tables (outside and inside the body) and `<meta>` tags;
   body metadata tables leave the content;
3. `_strip_blocks`: chrome blocks and link farms; the cleaned content (statistics tables kept)
   is then final: the table parser reads it, and `PageResult.content_html` serialises it;
4. `_read_lines`: kv lines and header lines (outside and at the top of the body), chrome lines,
   spam words in visible text; everything left outside is recorded, classified;
5. metadata merged in the precedence documented in `metadata.py`;
6. `_choose_title`: `<title>`/headings/meta, else (or instead of a site-name `<title>`) the first
   title-shaped line of the body, which then leaves the text; `classify_title` → is_report /
   year / agency part;
7. `_choose_agency`: the title's agency → the body's heading and sign-off → 发布机构-type label →
   registry hint (`agency_from_registry`) → `agency_missing`; never a spam string.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from gxcrawl.extract import budget, chrome, content, metadata, sanitize, spam, titles
from gxcrawl.extract.types import PageResult, PortalHints, Removal, TitleVerdict

_TITLE_SPLIT = re.compile(r"\s*(?:[_|｜]|--|——|\s-\s)\s*")
_YEAR_SPAN = re.compile(r"统计期限.{0,20}?至\s*((?:19|20)\d{2})\s*年\s*12\s*月\s*31\s*日")
_YEAR_DEGREE = re.compile(r"((?:19|20)\d{2})\s*年度")
_TITLE_SELECTORS = (
    ".article-title",
    ".article_title",
    ".detail-title",
    ".xxgk_title",
    "#title",
    ".title",
    "h1",
    "h2",
)
# Metadata rows sit above the text; deeper down a "label：value" line is prose.
_METADATA_TOP_LINES = 12
# A body title sits in the first few lines (after an agency line or a date at most).
_TITLE_TOP_LINES = 6
# Shorter lines are labels or names, longer ones sentences; real titles fall between.
_TITLE_MIN_CHARS, _TITLE_MAX_CHARS = 4, 80
# How many of the body's first block elements are inspected for centred/bold/large styling.
_STYLED_BLOCKS = 15
# Font sizes at or above this (in px; 1pt = 4/3 px) mark a heading: Word prints body text at
# 16pt (三号, 21.3px) and titles at 18pt-22pt (小二 to 二号).
_LARGE_FONT_PX = 22.0
_PX_PER_PT = 4 / 3
_SENTENCE = re.compile(r"[。，；！？,;!?]|[:：]$| \| ")
_ENUMERATED = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、．])"
)
# Two Chinese characters in a row, 年/月/日 aside: a title has words, a date line has none.
_WORDS = re.compile(r"[\u4e00-\u9fff](?<![年月日])[\u4e00-\u9fff](?<![年月日])")
# Titles editors leave when nobody names the page: no title at all.
_PLACEHOLDER_TITLE = re.compile(
    r"^(?:无标题文档|无标题|未命名|新建网页\s*\d*|untitled(?: document)?|document|title|"
    r"microsoft word\s*-.*|网页标题)$",
    re.IGNORECASE,
)
_PAGE_SELECTORS = content.PLATFORM_SELECTORS + _TITLE_SELECTORS
_CENTRED_STYLE = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
_FONT_SIZE = re.compile(r"font-size\s*:\s*(\d+(?:\.\d+)?)\s*(px|pt)", re.IGNORECASE)
_STYLED_TAGS = ("p", "div", "center", "h1", "h2", "h3", "h4", "h5", "h6", "td", "span", "font")
_BOLD_TAGS = ("b", "strong")


@lru_cache(maxsize=64)
def classify_title(title: str) -> TitleVerdict:
    """`titles.classify_title`, each verdict made once per page: the same candidates are
    classified several times over (the stated title, then the body's top lines by `_body_title`,
    `_choose_title` and `_heading_agency`). `extract_page` clears it at the start of every page."""
    return titles.classify_title(title)


@dataclass
class _Work:
    """What the stages of one page's extraction hand each other."""

    root: HtmlElement
    body_el: HtmlElement
    page_host: str
    flags: list[str] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    table_pairs: list[dict[str, str]] = field(default_factory=list)
    text_pairs: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    body_lines: list[str] = field(default_factory=list)
    styled: set[str] = field(default_factory=set)  # centred/bold/large texts at the top
    links: set[str] = field(default_factory=set)  # link texts of the body
    # `select_each(root, _TITLE_SELECTORS)` before the body left the page: elements only leave
    # the tree later (nothing is added or renamed), so the title stage keeps those still in it.
    title_found: list[list[HtmlElement]] = field(default_factory=list)


def _locate(html: str, url: str, hints: PortalHints) -> _Work:
    """Stage 1: the parsed page and its detached main content, hidden elements gone."""
    # Sanitised before anything parses it (the Hanweb body too): see extract/sanitize.py.
    rest, hanweb_body = content.split_hanweb(sanitize.clean_markup(html))
    # Cleaned already: `split_hanweb` only cuts the text and puts an ASCII slot in.
    root, flags = sanitize.parse_document(rest, xml_compatible=True)
    body_el = None
    if hanweb_body is not None:
        body_el, body_flags = sanitize.parse_fragment(hanweb_body)
        flags += body_flags
    page_host = (urlsplit(url).hostname or "").lower()
    removed: list[Removal] = []
    # Hidden elements, using the page's own CSS classes for both parts.
    css = spam.hidden_css(root)
    removed += spam.remove_hidden(root, css, page_host)
    if body_el is not None:
        removed += spam.remove_hidden(body_el, css, page_host)
    # The platform and the title selectors in one pass over the page's classes and ids.
    selected = content.select_each(root, _PAGE_SELECTORS)
    platform = selected[: len(content.PLATFORM_SELECTORS)]
    title_found = selected[len(content.PLATFORM_SELECTORS) :]
    if body_el is None:
        body_el = content.find_by_selectors(root, hints.content_selector, platform)
        if body_el is None:
            body_el = content.find_by_density(root)
            flags.append("content_fallback")
        if body_el is None:
            body = root.find("body")
            body_el = body if body is not None else root
            flags.append("no_main_content")
        else:
            content.detach(body_el)
    return _Work(root, body_el, page_host, flags, removed, title_found=title_found)


def _take_metadata_tables(work: _Work) -> None:
    """Stage 2: `<meta>` tags and key–value tables; the body's leave the content."""
    work.meta = metadata.meta_tags(work.root)
    work.table_pairs = [d for t in work.root.iter("table") if (d := metadata.table_pairs(t))]
    for table, pairs in metadata.metadata_table_pairs(work.body_el):
        work.table_pairs.append(pairs)
        if table.getparent() is None:
            continue  # the body is itself that table (broken markup): it stays the text
        work.removed += [Removal("metadata", line) for line in content.element_lines(table)]
        table.drop_tree()


def _strip_blocks(work: _Work) -> None:
    """Stage 3: chrome blocks and link farms, in the body and outside."""
    work.removed += chrome.strip_chrome_blocks(work.body_el)
    work.removed += spam.remove_link_farms(work.body_el, work.page_host, strict=True)
    work.removed += spam.remove_link_farms(work.root, work.page_host, strict=False)


def _outside_kind(line: str, has_pairs: bool, may_spam: bool, chrome_kind: str | None) -> str:
    """What an outside line is. `has_pairs`: `metadata.pairs_from_line(line)` found some;
    `may_spam`: False when the line is known to hold no spam term; `chrome_kind`: its
    `chrome.classify_line`."""
    if may_spam and spam.has_spam(line):
        return "spam"
    if chrome_kind:
        return chrome_kind
    if has_pairs or metadata.is_metadata_line(line):
        return "metadata"  # also label rows with an empty or unmapped value (文号： | , 关键词)
    return "boilerplate"


def _read_outside(work: _Work, outside_lines: list[str]) -> list[bool]:
    """kv and header lines anywhere outside the body (every outside line is recorded): for
    each line, whether it held kv pairs."""
    has_pairs: list[bool] = []
    for line in outside_lines:
        pairs = metadata.pairs_from_line(line)
        if pairs:
            work.text_pairs.append(pairs)
        has_pairs.append(bool(pairs))
        header = metadata.header_line(line)
        if header:
            work.headers.append(header)
    return has_pairs


def _read_body(work: _Work, body_lines: list[str]) -> list[str]:
    """Header and kv lines at the top of the body leave the text; chrome lines too."""
    kept: list[str] = []
    for i, line in enumerate(body_lines):
        header = metadata.header_line(line)
        if header:
            work.headers.append(header)
            work.removed.append(Removal("header", line))
            continue
        if i < _METADATA_TOP_LINES and metadata.is_metadata_line(line):
            pairs = metadata.pairs_from_line(line)
            if pairs or "|" in line:
                work.text_pairs.append(pairs)
                work.removed.append(Removal("metadata", line))
                continue
        kept.append(line)
    lines, chrome_removed = chrome.strip_chrome_lines(kept)
    work.removed += chrome_removed
    return lines


# A line of nothing but these (once spam is cut out of it) is dropped.
_PUNCTUATION = " ,，.。;；:：、"


def _strip_spam_lines(work: _Work, lines: list[str]) -> list[str]:
    """Spam words inside visible text are cut out; a line of nothing but spam goes."""
    if not spam.any_spam(lines):  # most pages: every line as `strip_spam_text` returns it
        return [line for line in lines if line.strip(_PUNCTUATION)]
    clean_lines: list[str] = []
    for line in lines:
        if not spam.has_spam(line):  # most lines: what `strip_spam_text` returns them as
            if line.strip(_PUNCTUATION):
                clean_lines.append(line)
            continue
        clean, spans = spam.strip_spam_text(line)
        work.removed += [Removal("spam", s) for s in spans]
        if clean.strip(_PUNCTUATION):
            clean_lines.append(clean)
        elif spans:
            work.removed.append(Removal("spam", line))
    return clean_lines


def _read_lines(work: _Work) -> None:
    """Stage 4: the body's clean lines, and the metadata lines of the body and outside."""
    outside_lines = content.element_lines(work.root) if work.body_el.getparent() is None else []
    body_lines = content.element_lines(work.body_el)
    has_pairs = _read_outside(work, outside_lines)
    body_lines = _read_body(work, body_lines)
    work.body_lines = _strip_spam_lines(work, body_lines)
    # Everything else outside the body is recorded, classified, so nothing is silently lost.
    may_spam = spam.any_spam(outside_lines)
    kinds = chrome.classify_lines(outside_lines)
    work.removed += [
        Removal(_outside_kind(line, pairs, may_spam, kind), line)
        for line, pairs, kind in zip(outside_lines, has_pairs, kinds, strict=True)
    ]


def _head_title(
    root: HtmlElement,
    meta: dict[str, str],
    kv_title: str | None,
    title_found: list[list[HtmlElement]],
) -> str | None:
    """The title the page states: ArticleTitle, a 标题 label, a heading, `<title>`.
    `title_found`: what `_TITLE_SELECTORS` found in the page before elements left it."""
    if meta.get("title"):
        return meta["title"]
    if kv_title:
        return kv_title
    node = root.find(".//title")
    head = content.norm_space(content.text_of(node)) if node is not None else ""
    if _PLACEHOLDER_TITLE.match(head):
        head = ""
    # What `content.select_each(root, _TITLE_SELECTORS)` finds now: the early matches still in
    # the page.
    selected = [[el for el in found if content.within(el, root)] for found in title_found]
    candidates = [
        text
        for found in selected
        for el in found
        if 4 <= len(text := content.norm_space(content.text_of(el))) <= 200
    ]
    # A heading that the <title> repeats is the document's; a lone site logo <h1> is not.
    for text in candidates:
        if head and (text in head or head in text):
            return text
    parts = [p for p in _TITLE_SPLIT.split(head) if p]
    stated = (max(parts, key=len) if len(parts[0]) < 6 else parts[0]) if parts else None
    if stated is None or classify_title(stated).reason == "unrelated":
        # A site-name <title>: a heading that is a report title is the document's.
        for el in _heading_elements(selected):
            text = content.norm_space(content.text_of(el))
            if _title_shaped(text) and classify_title(text).is_report:
                return text
    return stated or (candidates[0] if candidates else None)


def _heading_elements(selected: list[list[HtmlElement]]) -> list[HtmlElement]:
    """Title-like elements (found by `_TITLE_SELECTORS`) that are not links (a list of related
    links names other pages)."""
    return [
        el
        for found in selected
        for el in found
        if el.find(".//a") is None and not any(a.tag == "a" for a in el.iterancestors())
    ]


def _is_styled(el: HtmlElement, text: str) -> bool:
    """Centred, bold or large: how Word exports and editors print a title paragraph. `text` is
    `norm_space(text_of(el))`, which the caller has read already."""
    if _styled_markup(el):
        return True
    if not len(el) and el.tag not in _BOLD_TAGS:  # no <b>/<strong>: the bold text is ""
        return bool(text) and not text.replace(" ", "")
    bold = "".join(content.norm_space(content.text_of(b)) for b in el.iter(*_BOLD_TAGS))
    return bool(text) and bold.replace(" ", "") == text.replace(" ", "")


def _styled_markup(el: HtmlElement) -> bool:
    """Centred, bold or large by its tag, `align` or inline style (whatever its text)."""
    if el.tag in ("center", "h1", "h2", "h3", "h4", "h5", "h6"):
        return True
    if (el.get("align") or "").lower() == "center":
        return True
    style = el.get("style")
    return bool(style) and _styled_style(style)


# Inline styles up to this long have their verdict cached: editors repeat a few styles on
# every paragraph. (Longer ones are searched each time, so the cache stays small.)
_CACHED_STYLE_CHARS = 200


def _styled_style(style: str) -> bool:
    """True when an inline style centres, bolds or enlarges the text."""
    if len(style) <= _CACHED_STYLE_CHARS:
        return _cached_styled_style(style)
    return _search_styled_style(style)


@lru_cache(maxsize=1024)
def _cached_styled_style(style: str) -> bool:
    return _search_styled_style(style)


def _search_styled_style(style: str) -> bool:
    if _CENTRED_STYLE.search(style) or _BOLD_STYLE.search(style):
        return True
    size = _FONT_SIZE.search(style)
    if size:
        scale = _PX_PER_PT if size.group(2).lower() == "pt" else 1.0
        if float(size.group(1)) * scale >= _LARGE_FONT_PX:
            return True
    return False


def _blank(text: str) -> bool:
    """`not norm_space(text)`, without collapsing a text that is plainly not blank."""
    if not text or text.isspace():
        return True
    return ("\u200b" in text or "\ufeff" in text) and not content.norm_space(text)


def _holds_bold(el: HtmlElement) -> bool:
    """`el` is or holds a <b>/<strong>: else its bold text is "" and a text is not all bold."""
    return next(el.iter(*_BOLD_TAGS), None) is not None


def _styled_texts(body_el: HtmlElement) -> tuple[set[str], set[str]]:
    """(texts of styled blocks, texts of links) among the first blocks of the body."""
    styled: set[str] = set()
    seen = 0
    for el in body_el.iter(*_STYLED_TAGS):
        text: str | None
        if len(el) and not _styled_markup(el) and not _holds_bold(el):
            # Not styled whatever its text, which need not be read then (a container of the
            # whole body, often): only whether it has any, from its first text pieces.
            if all(_blank(piece) for piece in el.itertext()):
                continue
            text = None
        else:
            # A childless element's text is its `.text`: no serialiser call.
            text = content.norm_space(content.text_of(el) if len(el) else el.text)
            if not text:
                continue
        seen += 1
        if seen > _STYLED_BLOCKS:
            break
        if text is not None and _is_styled(el, text):
            styled.add(text)
    links = {content.norm_space(content.text_of(a)) for a in body_el.iter("a")}
    return styled, links


@lru_cache(maxsize=64)
def _title_shaped(line: str) -> bool:
    """Short, no sentence punctuation, words (not a date), not a numbered section or a label.
    Made once per page and line (`_heading_agency` and `_body_title` ask about the same top
    lines); `extract_page` clears it at the start of every page."""
    return (
        _TITLE_MIN_CHARS <= len(line) <= _TITLE_MAX_CHARS
        and _WORDS.search(line) is not None
        and not _SENTENCE.search(line)
        and not _ENUMERATED.match(line)
        and metadata.date_only(line) is None  # after the cheap tests: it parses dates
        and not metadata.is_metadata_line(line)
    )


def _is_link_line(line: str, links: set[str]) -> bool:
    """Mostly the text of one link (a list entry, "title + date"): never a page's own title."""
    return any(text and len(text) * 2 >= len(line) and text in line for text in links)


def _body_title(lines: list[str], styled: set[str], links: set[str]) -> int | None:
    """Index of the body's title line: a report title first, else a styled line, else the first
    title-shaped one (link texts never: a list of links is not a title)."""
    shaped = [
        i
        for i, line in enumerate(lines[:_TITLE_TOP_LINES])
        if _title_shaped(line) and not _is_link_line(line, links)
    ]
    for i in shaped:
        if classify_title(lines[i]).is_report:
            return i
    for i in shaped:
        if lines[i] in styled:
            return i
    return shaped[0] if shaped else None


def _choose_title(work: _Work, kv_title: str | None) -> str | None:
    """Stage 6: the page's stated title, unless missing or a site name while the body opens
    with a report title; a title taken from the body leaves the text."""
    head = _head_title(work.root, work.meta, kv_title, work.title_found)
    idx = _body_title(work.body_lines, work.styled, work.links)
    if idx is None:
        return head
    line = work.body_lines[idx]
    verdict = classify_title(line)
    site_name = head is not None and classify_title(head).reason == "unrelated"
    if not (head is None or (site_name and verdict.is_report)):
        return head
    first = idx
    # A title printed on two lines, the agency above the rest: one title.
    if verdict.is_report and not verdict.agency and idx > 0:
        above = work.body_lines[idx - 1]
        if metadata.looks_like_agency(above):
            first, line = idx - 1, above + line
    for taken in work.body_lines[first : idx + 1]:
        work.removed.append(Removal("title", taken))
    del work.body_lines[first : idx + 1]
    return line


def _clean_title(work: _Work, raw_title: str | None) -> tuple[str | None, bool]:
    """(title with spam cut out, whether spam was in it)."""
    if not raw_title:
        return None, False
    title, spans = spam.strip_spam_text(raw_title)
    work.removed += [Removal("spam", s) for s in spans]
    return title or None, bool(spans)


def _body_year(lines: list[str]) -> int | None:
    for line in lines:
        m = _YEAR_SPAN.search(line)
        if m:
            return int(m.group(1))
    counts = Counter(int(y) for line in lines[:15] for y in _YEAR_DEGREE.findall(line))
    return counts.most_common(1)[0][0] if counts else None


def _drop_repeated(lines: list[str], removed: list[Removal], title: str | None) -> list[str]:
    """Lines equal to the title right at the top repeat the heading; keep one."""
    if not title:
        return lines
    out = list(lines)
    while len(out) > 1 and out[0] == title and out[1] == title:
        removed.append(Removal("duplicate", out.pop(0)))
    return out


def _heading_agency(lines: list[str], links: set[str]) -> str | None:
    """The agency the body's heading names: a report title repeated with its agency, or an
    agency-only line right above a report title (a linked title names another document)."""
    top = lines[:_TITLE_TOP_LINES]
    for i, line in enumerate(top):
        if not _title_shaped(line) or _is_link_line(line, links):
            continue
        verdict = classify_title(line)
        if not verdict.is_report:
            continue
        if verdict.agency:
            return verdict.agency
        above = top[i - 1] if i > 0 else ""
        if metadata.looks_like_agency(above):
            return above
    return None


def _choose_agency(
    work: _Work,
    verdict: TitleVerdict,
    title_spam: bool,
    heading: str | None,
    md: metadata.Metadata,
    hints: PortalHints,
) -> str | None:
    """Stage 7: the title's agency → body heading → sign-off → 发布机构 → registry."""
    if verdict.agency and not title_spam and not spam.has_spam(verdict.agency):
        return verdict.agency
    if title_spam:
        work.flags.append("title_agency_spam")
        if heading == verdict.agency:
            heading = None  # the body repeats the tainted title: its agency part is no better
    for candidate, flag in (
        (heading, None),
        (md.signoff_agency, None),
        (md.get("publisher"), None),
        (hints.agency, "agency_from_registry"),
    ):
        if candidate and not spam.has_spam(candidate):
            if flag:
                work.flags.append(flag)
            return candidate
    work.flags.append("agency_missing")
    return None


def extract_page(html: str, url: str, hints: PortalHints | None = None) -> PageResult:
    hints = hints or PortalHints()
    classify_title.cache_clear()  # verdicts are shared within a page only
    _title_shaped.cache_clear()
    work = _locate(html, url, hints)
    budget.check("locate")
    _take_metadata_tables(work)
    _strip_blocks(work)
    budget.check("strip_blocks")
    _read_lines(work)
    budget.check("read_lines")
    work.styled, work.links = _styled_texts(work.body_el)
    # Read before a body title line leaves the text.
    heading = _heading_agency(work.body_lines, work.links)
    md = metadata.merge(
        work.table_pairs,
        work.text_pairs,
        work.meta,
        work.headers,
        metadata.signoff(work.body_lines),
        region_hint=hints.region_code,
    )
    title, title_spam = _clean_title(work, _choose_title(work, md.get("title")))
    work.body_lines = _drop_repeated(work.body_lines, work.removed, title)
    verdict = classify_title(title) if title else TitleVerdict(False, None, None, "no_title")
    agency = _choose_agency(work, verdict, title_spam, heading, md, hints)
    if md.region_conflict:
        work.flags.append("region_code_conflict")
    if any(r.kind == "spam" for r in work.removed):
        work.flags.append("spam_injected")
    if not work.body_lines:
        work.flags.append("empty_text")
    return PageResult(
        url=url,
        is_report=verdict.is_report,
        title=title,
        agency=agency,
        year=verdict.year or _body_year(work.body_lines),
        index_no=md.get("index_no"),
        publisher=md.get("publisher"),
        source=md.get("source"),
        written_date=md.get("written_date"),
        publish_date=md.get("publish_date"),
        doc_no=md.get("doc_no"),
        disclosure_mode=md.get("disclosure_mode"),
        validity=md.get("validity"),
        category=md.get("category"),
        region_code=md.region_code,
        flags=sorted(set(work.flags)),
        removed=work.removed,
        text="\n".join(work.body_lines),
        content_root=work.body_el,
    )


def extract_text_page(text: str, url: str, hints: PortalHints | None = None) -> PageResult:
    """The same extraction for a plain-text rendering (one line per paragraph/row)."""
    from html import escape

    lines = [ln for ln in (content.norm_space(x) for x in text.splitlines()) if ln]
    title = lines[0] if lines else ""
    body = "".join(f"<p>{escape(ln)}</p>" for ln in lines)
    html = (
        f"<html><head><title>{escape(title)}</title></head>"
        f"<body><div class=content>{body}</div></body></html>"
    )
    return extract_page(html, url, hints)
