"""Text of report attachments (PDF, DOCX; DOC/WPS/XLS flagged for conversion).

Many reports are published only as a file linked from the page ("PDF下载", "附件：…"). The file
type is decided by its bytes first (servers often send `application/octet-stream` and download
servlets hide the name), then by the file name, then by the Content-Type. Nothing raises: a file
that cannot be read comes back with the flag `unreadable`, so one bad attachment never stops a
crawl or a reparse.

Flags: `needs_ocr` (a PDF with pages but no text layer: scanned images), `needs_conversion`
(DOC/WPS/XLS/XLSX/OFD: binary or unsupported formats stored for a later converter),
`unreadable` (corrupt, truncated, encrypted or not a document at all).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

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
    # Walk the body in document order so tables stay where they were between paragraphs.
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            lines.extend(_table_rows(Table(child, document)))
    return AttachmentText(_clean(lines), "docx", [])


def _table_rows(table: Any) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                continue
            seen.add(id(cell._tc))
            cells.append(re.sub(r"\s+", " ", cell.text).strip())
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
