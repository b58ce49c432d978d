"""One page in, one `PageResult` out: the extraction shared by the crawl pipelines and
`scrapy extract`.

Order of work (each step records what it takes out as a `Removal`):
1. parse; cut the Hanweb-marked body out if present;
2. drop hidden elements (spam when they carry spam words or link farms);
3. find the main content (registry selector, platform selectors, density fallback) and detach
   it, so the rest of the page is "outside";
4. read metadata from key–value tables, kv lines, `<meta>` tags, header lines (anywhere) and the
   sign-off (end of body), merged in the precedence documented in `metadata.py`;
5. clean the body: chrome blocks and lines, link farms, metadata rows, spam words in visible text;
6. title → `classify_title` → is_report / year / agency part; the agency falls back to
   publisher, sign-off, registry hint, and is never a spam string.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from gxcrawl.extract import chrome, content, metadata, sanitize, spam
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


def _classifier() -> Callable[[str], TitleVerdict]:
    try:
        from gxcrawl.extract.titles import classify_title  # another engineer's module
    except ImportError:  # pragma: no cover - only until titles.py lands
        return _fallback_classify
    return classify_title


_FALLBACK_TITLE = re.compile(
    r"^(?P<agency>.*?)\s*(?P<year>(?:19|20)\d{2})\s*年度?.*(?:信息公开|政务公开).*(?:年度报告|年报|工作报告)"
)


def _fallback_classify(title: str) -> TitleVerdict:
    m = _FALLBACK_TITLE.search(title)
    if not m or re.search(r"关于|通知|要点", title):
        return TitleVerdict(False, None, None, "fallback_no_match")
    return TitleVerdict(True, int(m.group("year")), m.group("agency") or None, "fallback")


def _page_title(root: HtmlElement, meta: dict[str, str], kv_title: str | None) -> str | None:
    if meta.get("title"):
        return meta["title"]
    if kv_title:
        return kv_title
    node = root.find(".//title")
    head = content.norm_space(node.text_content()) if node is not None else ""
    candidates = [
        text
        for css in _TITLE_SELECTORS
        for el in root.cssselect(css)
        if 4 <= len(text := content.norm_space(el.text_content())) <= 200
    ]
    # A heading that the <title> repeats is the document's; a lone site logo <h1> is not.
    for text in candidates:
        if head and (text in head or head in text):
            return text
    if head:
        parts = [p for p in _TITLE_SPLIT.split(head) if p]
        if parts:
            return max(parts, key=len) if len(parts[0]) < 6 else parts[0]
    return candidates[0] if candidates else None


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


def _outside_kind(line: str) -> str:
    if spam.has_spam(line):
        return "spam"
    kind = chrome.classify_line(line)
    if kind:
        return kind
    if metadata.pairs_from_line(line) or metadata.is_metadata_line(line):
        return "metadata"  # also label rows with an empty or unmapped value (文号： | , 关键词)
    return "boilerplate"


def extract_page(html: str, url: str, hints: PortalHints | None = None) -> PageResult:
    hints = hints or PortalHints()
    flags: list[str] = []
    removed: list[Removal] = []
    page_host = (urlsplit(url).hostname or "").lower()

    # Sanitised before anything parses it (the Hanweb body too): see extract/sanitize.py.
    rest, hanweb_body = content.split_hanweb(sanitize.clean_markup(html))
    root, parse_flags = sanitize.parse_document(rest)
    flags += parse_flags
    body_el = None
    if hanweb_body is not None:
        body_el, body_flags = sanitize.parse_fragment(hanweb_body)
        flags += body_flags

    # Hidden elements, using the page's own CSS classes for both parts.
    css = spam.hidden_css(root)
    removed += spam.remove_hidden(root, css, page_host)
    if body_el is not None:
        removed += spam.remove_hidden(body_el, css, page_host)

    # Main content.
    if body_el is None:
        body_el = content.find_by_selectors(root, hints.content_selector)
        if body_el is None:
            body_el = content.find_by_density(root)
            flags.append("content_fallback")
        if body_el is None:
            body = root.find("body")
            body_el = body if body is not None else root
            flags.append("no_main_content")
        else:
            content.detach(body_el)

    # Metadata from tables (outside and inside the body); body metadata tables leave the text.
    meta = metadata.meta_tags(root)
    table_pairs = [d for t in root.iter("table") if (d := metadata.table_pairs(t))]
    for table in metadata.metadata_tables(body_el):
        table_pairs.append(metadata.table_pairs(table))
        if table.getparent() is None:
            continue  # the body is itself that table (broken markup): it stays the text
        removed += [Removal("metadata", line) for line in content.element_lines(table)]
        table.drop_tree()

    removed += chrome.strip_chrome_blocks(body_el)
    removed += spam.remove_link_farms(body_el, page_host, strict=True)
    outside_farms = spam.remove_link_farms(root, page_host, strict=False)
    removed += outside_farms

    outside_lines = content.element_lines(root) if body_el.getparent() is None else []
    body_lines = content.element_lines(body_el)

    # Metadata from text lines: kv lines and header lines, outside and at the top of the body.
    text_pairs: list[dict[str, str]] = []
    headers: list[dict[str, str]] = []
    for line in outside_lines:
        pairs = metadata.pairs_from_line(line)
        if pairs:
            text_pairs.append(pairs)
        header = metadata.header_line(line)
        if header:
            headers.append(header)

    kept: list[str] = []
    for i, line in enumerate(body_lines):
        header = metadata.header_line(line)
        if header:
            headers.append(header)
            removed.append(Removal("header", line))
            continue
        if i < 12 and metadata.is_metadata_line(line):
            pairs = metadata.pairs_from_line(line)
            if pairs or "|" in line:
                text_pairs.append(pairs)
                removed.append(Removal("metadata", line))
                continue
        kept.append(line)
    body_lines, chrome_removed = chrome.strip_chrome_lines(kept)
    removed += chrome_removed

    # Spam words inside visible text.
    clean_lines: list[str] = []
    for line in body_lines:
        clean, spans = spam.strip_spam_text(line)
        removed += [Removal("spam", s) for s in spans]
        if clean.strip(" ,，.。;；:：、"):
            clean_lines.append(clean)
        elif spans:
            removed.append(Removal("spam", line))
    body_lines = clean_lines

    # Everything else outside the body is recorded, classified, so nothing is silently lost.
    for line in outside_lines:
        removed.append(Removal(_outside_kind(line), line))

    md = metadata.merge(
        table_pairs,
        text_pairs,
        meta,
        headers,
        metadata.signoff(body_lines),
        region_hint=hints.region_code,
    )

    # Title: spam cut out, the agency part distrusted when spam was in it.
    raw_title = _page_title(root, meta, md.get("title"))
    title_spam = False
    title = raw_title
    if raw_title:
        title, spans = spam.strip_spam_text(raw_title)
        title_spam = bool(spans)
        removed += [Removal("spam", s) for s in spans]
        title = title or None
    body_lines = _drop_repeated(body_lines, removed, title)

    verdict = _classifier()(title) if title else TitleVerdict(False, None, None, "no_title")
    year = verdict.year or _body_year(body_lines)

    agency: str | None = None
    if verdict.agency and not title_spam and not spam.has_spam(verdict.agency):
        agency = verdict.agency
    elif title_spam:
        flags.append("title_agency_spam")
    # A 来源 label ("鲤城区-政府") is a CMS source tag, weaker evidence than the registry entry.
    labelled = None if md.publisher_from_source else md.get("publisher")
    for candidate, flag in (
        (labelled, None),
        (md.signoff_agency, None),
        (hints.agency, "agency_from_registry"),
        (md.get("publisher"), "agency_from_source_label"),
    ):
        if agency is None and candidate and not spam.has_spam(candidate):
            agency = candidate
            if flag:
                flags.append(flag)
    if agency is None:
        flags.append("agency_missing")

    if any(r.kind == "spam" for r in removed):
        flags.append("spam_injected")
    if not body_lines:
        flags.append("empty_text")

    return PageResult(
        url=url,
        is_report=verdict.is_report,
        title=title,
        agency=agency,
        year=year,
        index_no=md.get("index_no"),
        publisher=md.get("publisher"),
        written_date=md.get("written_date"),
        publish_date=md.get("publish_date"),
        doc_no=md.get("doc_no"),
        disclosure_mode=md.get("disclosure_mode"),
        validity=md.get("validity"),
        category=md.get("category"),
        region_code=md.region_code,
        flags=sorted(set(flags)),
        removed=removed,
        text="\n".join(body_lines),
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
