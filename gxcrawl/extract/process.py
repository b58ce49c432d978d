"""The one extraction entry point: raw bytes + URL + headers + registry hints (+ the texts of the
files a stub page links) → one `Extraction`.

The crawl pipeline, `scrapy reparse`, `scrapy extract` and the evaluation gate all call
`extract_document`, so the same bytes give the same parsed row whichever path they took.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from gxcrawl.extract import budget
from gxcrawl.extract.budget import PAGE_SECONDS, Budget
from gxcrawl.extract.checks import check_consistency
from gxcrawl.extract.encoding import decode_html
from gxcrawl.extract.page import extract_page, extract_text_page
from gxcrawl.extract.tables import parse_tables
from gxcrawl.extract.titles import classify_title
from gxcrawl.extract.types import METADATA_FIELDS, PageResult, PortalHints
from gxcrawl.vocab import DocumentKind

__all__ = [
    "PARSER_VERSION",
    "STUB_CHARS",
    "Extraction",
    "LinkedFile",
    "RawDocument",
    "extract_document",
]

# Recorded on every parsed row: bump when extraction output changes, then `scrapy reparse`.
PARSER_VERSION = "0.6.0"

# A report page with less text than this that links files is a stub: "详见附件".
STUB_CHARS = 500


@dataclass(frozen=True)
class LinkedFile:
    """What extraction made of a file a report page links (for stub pages: "详见附件")."""

    text: str
    html: str | None = None  # the file's body as HTML with real <table>s (DOCX), if any


@dataclass(frozen=True)
class RawDocument:
    """One stored or fetched response, and what the crawl knew when it asked for it."""

    body: bytes
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    kind: str = DocumentKind.REPORT  # an HTML page, or DocumentKind.ATTACHMENT: a PDF/DOCX/… file
    link_title: str | None = None  # the list's anchor text for the link
    standalone: bool = True  # False for a file linked from a report page
    hints: PortalHints = field(default_factory=PortalHints)
    linked_files: Sequence[LinkedFile] = ()
    encoding: str | None = None  # force a decoding (`scrapy extract --encoding`)
    # Seconds of extraction before ParseTimeout (reason parse_timeout); None = no budget.
    time_budget: float | None = PAGE_SECONDS

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((str(v) for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass
class Extraction:
    """Everything extraction knows about one document.

    `result` always carries the whole public contract (a page that is not a report too);
    `file_*` describe an attachment's own text, which is stored even when the file is not a report.
    """

    result: PageResult
    source_kind: str  # html | attachment
    encoding: str | None = None
    file_kind: str | None = None
    file_text: str | None = None
    file_html: str | None = None
    file_flags: list[str] = field(default_factory=list)

    @property
    def is_report(self) -> bool:
        return self.result.is_report

    def to_json_dict(self) -> dict[str, Any]:
        return self.result.to_json_dict()


def extract_document(doc: RawDocument) -> Extraction:
    """Extract one document (HTML page or attached file) into the contract fields.

    Raises `ParseTimeout` (its `reason` is `parse_timeout`) when the page runs past its time
    budget; the caller keeps the raw snapshot and records the reason."""
    if doc.time_budget is None:
        return _extract(doc)
    with Budget(doc.time_budget).active():
        return _extract(doc)


def _extract(doc: RawDocument) -> Extraction:
    if doc.kind == DocumentKind.ATTACHMENT:
        return _extract_file(doc)
    return _extract_html(doc)


def _extract_html(doc: RawDocument) -> Extraction:
    if doc.encoding:
        text, used = doc.body.decode(doc.encoding, errors="replace"), doc.encoding
    else:
        text, used = decode_html(doc.body, doc.header("content-type"))
    result = extract_page(text, doc.url, doc.hints)
    budget.check("page")
    if not _merge_linked_files(result, doc.linked_files):
        # The content element itself: the table parser reads the tree extract_page built.
        _add_tables(result, result.content_root, result.text)
    return Extraction(result, "html", encoding=used)


def _extract_file(doc: RawDocument) -> Extraction:
    # Imported here: pdfplumber and python-docx are heavy, and most documents are HTML.
    from gxcrawl.extract.attachments import extract_attachment

    filename = unquote(urlsplit(doc.url).path.rsplit("/", 1)[-1])
    att = extract_attachment(doc.body, filename, doc.header("content-type"))
    html = att.html  # DOCX tables as <table>s: read from their structure
    if doc.standalone and doc.link_title:
        result = _file_report(att.text, html, att.flags, doc)
    else:  # a file linked from a report page: its text is stored, the page is the report
        result = PageResult(url=doc.url, is_report=False, text=att.text, flags=list(att.flags))
    return Extraction(
        result,
        "attachment",
        file_kind=att.kind,
        file_text=att.text,
        file_html=html,
        file_flags=list(att.flags),
    )


_WEAK_AGENCY = {"agency_from_registry", "agency_missing"}


def _file_report(
    text: str, html: str | None, file_flags: list[str], doc: RawDocument
) -> PageResult:
    """A file linked straight from a list: the link title says what it is, its text the rest."""
    link_title = doc.link_title or ""
    verdict = classify_title(link_title)
    found = extract_text_page(text, doc.url, doc.hints) if text.strip() else None
    report = PageResult(
        url=doc.url,
        is_report=verdict.is_report,
        title=link_title,
        year=verdict.year or (found.year if found else None),
        text=text,  # a file has no site chrome: its text is kept whole
        flags=sorted({"attachment_only", *file_flags}),
    )
    for name in METADATA_FIELDS:  # what the file states about itself
        setattr(report, name, getattr(found, name) if found else None)
    report.region_code = report.region_code or doc.hints.region_code
    strong = found.agency if found and not _WEAK_AGENCY & set(found.flags) else None
    report.agency = verdict.agency or strong or doc.hints.agency
    if not (verdict.agency or strong):
        flag = "agency_from_registry" if doc.hints.agency else "agency_missing"
        report.flags = sorted({*report.flags, flag})
    _add_tables(report, html, text)
    return report


def _merge_linked_files(result: PageResult, files: Sequence[LinkedFile]) -> bool:
    """Give a stub report page the text and tables of the files it links. True if merged."""
    if not result.is_report or len(result.text) >= STUB_CHARS:
        return False
    longer = [f for f in files if len(f.text.strip()) > len(result.text)]
    if not longer:
        return False
    result.text = "\n".join([result.text.strip(), *(f.text.strip() for f in longer)]).strip()
    result.flags = sorted({*result.flags, "text_from_attachment"})
    html = "".join(f.html for f in longer if f.html) or None
    _add_tables(result, html, result.text)
    return True


def _add_tables(result: PageResult, html: Any, text: str) -> None:
    """Fill the statistics-table fields of a report (cheap when there are no tables). `html` is
    the content as HTML or an element: tables are read from their structure when it has any."""
    if not result.is_report:
        return
    tables = parse_tables(html, text)
    result.template = tables.template
    result.tables = [fact.as_dict() for fact in tables.facts]
    result.findings = [finding.as_dict() for finding in check_consistency(tables.facts)]
    if result.findings and "inconsistent_tables" not in result.flags:
        result.flags = sorted({*result.flags, "inconsistent_tables"})
