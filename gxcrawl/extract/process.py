"""One raw response in, everything extraction knows about it out.

The crawl pipeline, `scrapy extract` and `scrapy reparse` all call these two functions, so the same
bytes always give the same parsed fields, whichever path they took.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from gxcrawl.extract.checks import check_consistency
from gxcrawl.extract.encoding import decode_html
from gxcrawl.extract.page import extract_page
from gxcrawl.extract.tables import parse_tables
from gxcrawl.extract.titles import classify_title
from gxcrawl.extract.types import PageResult, PortalHints

# Recorded on every parsed row: bump when extraction output changes, then `scrapy reparse`.
PARSER_VERSION = "0.3.0"


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
        verdict = classify_title(link_title)
        hints = hints or PortalHints()
        report = PageResult(
            url=url,
            is_report=verdict.is_report,
            title=link_title,
            agency=verdict.agency or hints.agency,
            year=verdict.year,
            region_code=hints.region_code,
            text=att.text,
            flags=sorted({"attachment_only", *att.flags}),
        )
        if not verdict.agency:
            report.flags = sorted(
                {*report.flags, "agency_from_registry" if hints.agency else "agency_missing"}
            )
        add_tables(report, None)
        out.report = report
    return out


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
