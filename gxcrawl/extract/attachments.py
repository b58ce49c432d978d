"""Text of report attachments (PDF, DOCX; DOC/WPS/XLS flagged for conversion).

Many reports are published only as a file linked from the page ("PDF下载", "附件：…"). The file
type is decided by its bytes first (servers often send `application/octet-stream` and download
servlets hide the name), then by the file name, then by the Content-Type. Nothing raises: a file
that cannot be read comes back with the flag `unreadable`, so one bad attachment never stops a
crawl or a reparse.

A DOCX also comes back as an HTML fragment (`AttachmentText.html`): paragraphs as `<p>`, tables
as `<table>` with `colspan`/`rowspan` from Word's `w:gridSpan`/`w:vMerge`, so the table parser
reads DOCX tables from their structure like any web page's.

Flags: `needs_ocr` (a PDF with pages but no text layer: scanned images), `needs_conversion`
(DOC/WPS/XLS/XLSX/OFD: binary or unsupported formats stored for a later converter),
`unreadable` (corrupt, truncated, encrypted or not a document at all).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import lxml.html
from lxml import etree

from gxcrawl.textutil import collapse_whitespace

__all__ = ["AttachmentText", "detect_kind", "extract_attachment"]

NEEDS_OCR = "needs_ocr"
NEEDS_CONVERSION = "needs_conversion"
UNREADABLE = "unreadable"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CONVERT_KINDS = frozenset({"doc", "wps", "xls", "xlsx", "et", "ofd"})
_CONTENT_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/vnd.ms-works": "wps",
    "application/kswps": "wps",
    "application/wps-office.wps": "wps",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/ofd": "ofd",
}

log = logging.getLogger(__name__)


@dataclass
class AttachmentText:
    text: str
    kind: str  # pdf | docx | doc | wps | xls | xlsx | et | ofd | unknown
    flags: list[str] = field(default_factory=list)
    html: str | None = None  # the body as an HTML fragment (DOCX only: PDFs keep no tables)


def _extension(filename: str) -> str:
    match = re.search(r"\.([A-Za-z0-9]{1,5})$", (filename or "").split("?")[0].strip())
    return match.group(1).lower() if match else ""


def detect_kind(body: bytes, filename: str = "", content_type: str | None = None) -> str:
    """File type from magic bytes, then file name, then Content-Type."""
    ext = _extension(filename)
    head = body[:8]
    if body.lstrip()[:5] == b"%PDF-":
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            names = set()  # truncated zip: trust the name below
        if "word/document.xml" in names:
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
        return ext if ext in ("docx", "xlsx", "ofd") else "unknown"
    if head == _OLE_MAGIC:  # legacy Office/WPS container
        return ext if ext in ("doc", "wps", "xls", "et") else "doc"
    if ext in ("pdf", "docx", "doc", "wps", "xls", "xlsx", "et", "ofd"):
        return ext
    mime = (content_type or "").split(";")[0].strip().lower()
    return _CONTENT_TYPES.get(mime, "unknown")


def _clean(lines: list[str]) -> str:
    out = [re.sub(r"[ \t\u3000]+", " ", line).strip() for line in lines]
    return "\n".join(line for line in out if line)


def _pdf_text(body: bytes) -> AttachmentText:
    import pdfplumber  # heavy import, only when a PDF arrives

    with pdfplumber.open(io.BytesIO(body)) as pdf:
        if not pdf.pages:
            return AttachmentText("", "pdf", [UNREADABLE])
        lines: list[str] = []
        for page in pdf.pages:
            lines.extend((page.extract_text() or "").splitlines())
        text = _clean(lines)
    # pages but no text layer: scanned images (or vector outlines) that need OCR
    return AttachmentText(text, "pdf", [] if text else [NEEDS_OCR])


def _docx_text(body: bytes) -> AttachmentText:
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(body))
    lines: list[str] = []
    fragment = lxml.html.Element("div")
    # Walk the body in document order so tables stay where they were between paragraphs.
    for child in _body_blocks(document.element.body):
        if child.tag == _W + "p":
            text = Paragraph(child, document).text
            lines.append(text)
            etree.SubElement(fragment, "p").text = text
        else:
            lines.extend(_table_rows(Table(child, document)))
            fragment.append(_table_html(child))
    html = lxml.html.tostring(fragment, encoding="unicode")
    return AttachmentText(_clean(lines), "docx", [], html=html)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _body_blocks(parent: Any) -> Iterator[Any]:
    """Paragraphs and tables of the body in order, looking inside content controls (w:sdt)."""
    for child in parent.iterchildren():
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag == _W + "sdt":
            for content in child.iterchildren(_W + "sdtContent"):
                yield from _body_blocks(content)


def _w_int(el: Any, path: str, default: int) -> int:
    found = el.find(path)
    try:
        return max(1, int(found.get(_W + "val"))) if found is not None else default
    except (TypeError, ValueError):
        return default


def _table_html(tbl: Any) -> etree._Element:
    """A Word table as an HTML <table>: `w:gridSpan` → colspan; a `w:vMerge` run of cells →
    one cell with a rowspan (the continuation cells are dropped, as HTML does)."""
    table = lxml.html.Element("table")
    open_merges: dict[int, etree._Element] = {}  # grid column → the cell a vMerge started
    for tr in tbl.iterchildren(_W + "tr"):
        row = etree.SubElement(table, "tr")
        col = _w_int(tr, f"{_W}trPr/{_W}gridBefore", 0)
        for tc in tr.iterchildren(_W + "tc"):
            span = _w_int(tc, f"{_W}tcPr/{_W}gridSpan", 1)
            merge = tc.find(f"{_W}tcPr/{_W}vMerge")
            if merge is not None and merge.get(_W + "val") != "restart" and col in open_merges:
                origin = open_merges[col]
                origin.set("rowspan", str(int(origin.get("rowspan", "1")) + 1))
            else:
                row.append(_cell_html(tc, span))
                if merge is not None:
                    open_merges[col] = row[-1]
                else:
                    open_merges.pop(col, None)
            col += span
    return table


def _cell_html(tc: Any, span: int) -> etree._Element:
    cell = lxml.html.Element("td")
    if span > 1:
        cell.set("colspan", str(span))
    for para in tc.iter(_W + "p"):  # nested tables' paragraphs too: their text stays in the cell
        etree.SubElement(cell, "p").text = "".join(t.text or "" for t in para.iter(_W + "t"))
    return cell


def _table_rows(table: Any) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            cells.append(collapse_whitespace(cell.text))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows


def extract_attachment(body: bytes, filename: str, content_type: str | None) -> AttachmentText:
    """Text and flags for one downloaded file; never raises on bad input."""
    kind = detect_kind(body or b"", filename, content_type)
    if not body:
        return AttachmentText("", kind, [UNREADABLE])
    if kind in _CONVERT_KINDS:
        return AttachmentText("", kind, [NEEDS_CONVERSION])
    try:
        if kind == "pdf":
            return _pdf_text(body)
        if kind == "docx":
            return _docx_text(body)
    except Exception as exc:  # corrupt files raise anything from zipfile, lxml, pdfminer
        log.debug("unreadable %s attachment %s: %r", kind, filename, exc)
        return AttachmentText("", kind, [UNREADABLE])
    return AttachmentText("", kind, [UNREADABLE])
