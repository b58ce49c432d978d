"""One raw response in, everything extraction knows about it out.

The crawl pipeline, `scrapy extract` and `scrapy reparse` all call these two functions, so the same
bytes always give the same parsed fields, whichever path they took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from gxcrawl.extract.checks import check_consistency
from gxcrawl.extract.encoding import decode_html
from gxcrawl.extract.page import extract_page, extract_text_page
from gxcrawl.extract.tables import parse_tables
from gxcrawl.extract.titles import classify_title
from gxcrawl.extract.types import METADATA_FIELDS, PageResult, PortalHints

# Recorded on every parsed row: bump when extraction output changes, then `scrapy reparse`.
PARSER_VERSION = "0.5.0"


def process_html(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    hints: PortalHints | None = None,
    encoding: str | None = None,
) -> tuple[PageResult, str]:
    """Extract a report page. Returns the result and the encoding the body was read with."""
    if encoding:
        text, used = body.decode(encoding, errors="replace"), encoding
    else:
        text, used = decode_html(body, content_type)
    result = extract_page(text, url, hints)
    add_tables(result, result.content_html)
    return result, used


@dataclass
class AttachmentResult:
    file_kind: str
    text: str
    flags: list[str] = field(default_factory=list)
    report: PageResult | None = None  # set when the file is itself the report


def process_attachment(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    link_title: str | None = None,
    hints: PortalHints | None = None,
    standalone: bool = False,
) -> AttachmentResult:
    """Extract text from a PDF/DOCX/… file. A `standalone` file (linked straight from a list, no
    report page around it) also becomes a report when its link title is a report title."""
    # Imported here: pdfplumber and python-docx are heavy, and most pages are HTML.
    from gxcrawl.extract.attachments import extract_attachment

    filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    att = extract_attachment(body, filename, content_type)
    out = AttachmentResult(att.kind, att.text, list(att.flags))
    if standalone and link_title:
        out.report = _attachment_report(
            att.text, att.flags, url, link_title, hints or PortalHints()
        )
    return out


_WEAK_AGENCY = {"agency_from_registry", "agency_from_source_label", "agency_missing"}


def _attachment_report(
    text: str, file_flags: list[str], url: str, link_title: str, hints: PortalHints
) -> PageResult:
    """A file linked straight from a list: the link title says what it is, its text the rest."""
    verdict = classify_title(link_title)
    found = extract_text_page(text, url, hints) if text.strip() else None
    report = PageResult(
        url=url,
        is_report=verdict.is_report,
        title=link_title,
        year=verdict.year or (found.year if found else None),
        text=text,  # a file has no site chrome: its text is kept whole
        flags=sorted({"attachment_only", *file_flags}),
    )
    for name in METADATA_FIELDS:  # what the file states about itself
        setattr(report, name, getattr(found, name) if found else None)
    report.region_code = report.region_code or hints.region_code
    strong = found.agency if found and not _WEAK_AGENCY & set(found.flags) else None
    report.agency = verdict.agency or strong or hints.agency
    if not (verdict.agency or strong):
        report.flags = sorted(
            {*report.flags, "agency_from_registry" if hints.agency else "agency_missing"}
        )
    add_tables(report, None)
    return report


# A report page with less text than this that links files is a stub: "详见附件".
STUB_CHARS = 500


def merge_attachment_texts(result: PageResult, texts: list[str]) -> bool:
    """Give a stub report page the text (and tables) of the files it links. True if merged."""
    if not result.is_report or len(result.text) >= STUB_CHARS:
        return False
    longer = [t.strip() for t in texts if len(t.strip()) > len(result.text)]
    if not longer:
        return False
    result.text = "\n".join([result.text.strip(), *longer]).strip()
    result.flags = sorted({*result.flags, "text_from_attachment"})
    add_tables(result, None)
    return True


def add_tables(result: PageResult, html: str | None) -> None:
    """Fill the statistics-table fields of a report result (cheap when there are no tables)."""
    if not result.is_report:
        return
    tables = parse_tables(html, result.text)
    result.template = tables.template
    result.tables = [fact.as_dict() for fact in tables.facts]
    result.findings = [finding.as_dict() for finding in check_consistency(tables.facts)]
    if result.findings and "inconsistent_tables" not in result.flags:
        result.flags.append("inconsistent_tables")
