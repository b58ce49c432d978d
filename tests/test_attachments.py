"""Attachment text: PDFs and DOCX files built here, legacy formats flagged, bad files survive.

The PDFs are written by hand (no PDF library needed). Chinese text uses the non-embedded
`STSong-Light` CID font with the predefined `UniGB-UCS2-H` CMap, which every PDF reader (and
pdfminer) resolves without font files, so the test covers CJK extraction too.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import docx
import lxml.html
import pytest

from gxcrawl.extract.attachments import AttachmentText, detect_kind, extract_attachment
from gxcrawl.extract.tables import Fact, parse_tables

TITLE = "示例县2020年政府信息公开工作年度报告"


def build_pdf(objects: list[bytes]) -> bytes:
    """A PDF from numbered objects (1 = catalog) with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _cjk(text: str) -> bytes:
    return b"<" + text.encode("utf-16-be").hex().upper().encode() + b">"


PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources %s >>"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def text_pdf() -> bytes:
    content = (
        b"BT /F1 12 Tf 72 720 Td (Total applications: 146) Tj ET\n"
        b"BT /F2 12 Tf 72 700 Td " + _cjk(TITLE) + b" Tj ET\n"
        b"BT /F2 12 Tf 72 680 Td " + _cjk("本年新收申请数量 3 件") + b" Tj ET"
    )
    return build_pdf(
        [
            CATALOG,
            PAGES,
            PAGE % b"<< /Font << /F1 5 0 R /F2 6 0 R >> >>",
            _stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
            b"/DescendantFonts [7 0 R] >>",
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo "
            b"<< /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 8 0 R >>",
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900]"
            b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
        ]
    )


def image_pdf() -> bytes:
    """One page showing a 2x2 grey image and no text: a scanned report."""
    pixels = bytes([0, 128, 255, 64])
    image = _stream(
        pixels,
        b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 ",
    )
    return build_pdf(
        [
            CATALOG,
            PAGES,
            PAGE % b"<< /XObject << /Im1 5 0 R >> >>",
            _stream(b"q 400 0 0 500 100 150 cm /Im1 Do Q"),
            image,
        ]
    )


def report_docx() -> bytes:
    document = docx.Document()
    document.add_heading(TITLE, level=1)
    document.add_paragraph("一、总体情况")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "信息内容"
    table.cell(0, 2).text = "本年新制作数量"
    table.cell(1, 0).text = "规章"
    table.cell(1, 1).text = "0"
    table.cell(1, 2).text = "2"
    table.cell(2, 0).text = "规范性文件"
    table.cell(2, 2).text = "5"
    document.add_paragraph("二、主动公开政府信息情况")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_text_pdf() -> None:
    result = extract_attachment(text_pdf(), "P020210120.pdf", "application/pdf")
    assert result.kind == "pdf"
    assert result.flags == []
    assert result.text.splitlines() == [
        "Total applications: 146",
        TITLE,
        "本年新收申请数量 3 件",
    ]


def test_image_only_pdf_needs_ocr() -> None:
    result = extract_attachment(image_pdf(), "scan.pdf", None)
    assert result == AttachmentText("", "pdf", ["needs_ocr"])


def test_docx_paragraphs_and_tables_in_order() -> None:
    result = extract_attachment(report_docx(), "年报.docx", "application/octet-stream")
    assert result.kind == "docx"
    assert result.flags == []
    assert result.text.splitlines() == [
        TITLE,
        "一、总体情况",
        "信息内容 | 本年新制作数量",  # the merged cell appears once
        "规章 | 0 | 2",
        "规范性文件 | | 5",
        "二、主动公开政府信息情况",
    ]


def test_kind_comes_from_the_bytes_before_the_name() -> None:
    # a download servlet with no useful name or type still yields the PDF's text
    result = extract_attachment(text_pdf(), "downfile.jsp", "application/octet-stream")
    assert result.kind == "pdf" and TITLE in result.text
    assert detect_kind(report_docx(), "", None) == "docx"
    assert detect_kind(b"", "x.wps", None) == "wps"
    assert detect_kind(b"", "file", "application/msword; charset=binary") == "doc"


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


@pytest.mark.parametrize(
    ("body", "filename", "kind"),
    [
        (OLE, "报告.doc", "doc"),
        (OLE, "报告.wps", "wps"),
        (OLE, "统计表.xls", "xls"),
        (OLE, "download.jsp", "doc"),
        (b"PK\x03\x04rest-of-a-truncated-zip", "表.xlsx", "xlsx"),
    ],
)
def test_legacy_formats_need_conversion(body: bytes, filename: str, kind: str) -> None:
    assert extract_attachment(body, filename, None) == AttachmentText(
        "", kind, ["needs_conversion"]
    )


@pytest.mark.parametrize(
    ("body", "filename"),
    [
        (text_pdf()[:300], "truncated.pdf"),
        (b"%PDF-1.4\n garbage garbage", "broken.pdf"),
        (b"not a pdf at all", "fake.pdf"),
        (report_docx()[:400], "truncated.docx"),
        (b"PK\x03\x04 broken", "broken.docx"),
        (b"<html><body>404</body></html>", "report.pdf"),
        (b"", "empty.pdf"),
        (b"\x00\x01\x02", "mystery.bin"),
    ],
)
def test_bad_files_are_unreadable_not_errors(body: bytes, filename: str) -> None:
    result = extract_attachment(body, filename, None)
    assert result.flags == ["unreadable"]
    assert result.text == ""


# --------------------------------------------------------------------------- DOCX tables as HTML

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tables"
APPLICANTS = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]


def application_docx(values: list[str]) -> bytes:
    """A real application-table head as Word merges it: 申请人情况 over 2 rows, 自然人 and 总计
    over 2 rows, 法人或其他组织 over five columns; then the 新收 row."""
    document = docx.Document()
    document.add_paragraph("三、收到和处理政府信息公开申请情况")
    t = document.add_table(rows=3, cols=8)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "申请人情况"
    t.cell(0, 1).merge(t.cell(1, 1)).text = "自然人"
    t.cell(0, 2).merge(t.cell(0, 6)).text = "法人或其他组织"
    t.cell(0, 7).merge(t.cell(1, 7)).text = "总计"
    for c, text in enumerate(APPLICANTS):
        t.cell(1, 2 + c).text = text
    for c, text in enumerate(["一、本年新收政府信息公开申请数量", *values]):
        t.cell(2, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def facts_of(att: AttachmentText) -> dict[tuple[str, str, str], Fact]:
    return {(f.table, f.row_key, f.column_key): f for f in parse_tables(att.html, att.text).facts}


def test_docx_table_merges_become_rowspan_and_colspan() -> None:
    att = extract_attachment(application_docx(["3", "0", "0", "0", "0", "0", "3"]), "a.docx", None)
    assert att.html is not None
    table = lxml.html.fragment_fromstring(att.html).find("table")
    first = [(td.text_content(), td.get("rowspan"), td.get("colspan")) for td in table[0]]
    assert first == [
        ("申请人情况", "2", None), ("自然人", "2", None), ("法人或其他组织", None, "5"),
        ("总计", "2", None),
    ]  # fmt: skip
    assert [td.text_content() for td in table[1]] == APPLICANTS  # merged cells not repeated


def test_docx_application_table_cells_are_ok_with_their_keys() -> None:
    att = extract_attachment(application_docx(["3", "0", "0", "1", "0", "", "3"]), "a.docx", None)
    facts = facts_of(att)
    row = {k[2]: (f.value, f.status) for k, f in facts.items() if k[1] == "new_received"}
    assert row == {
        "person": (3, "ok"), "business": (0, "ok"), "research": (0, "ok"), "ngo": (1, "ok"),
        "law_firm": (0, "ok"), "org_other": (None, "blank"), "total": (3, "ok"),
    }  # fmt: skip


def test_docx_table_with_only_some_applicant_columns() -> None:
    # The table 申请人情况 | 自然人 | 总计 / 新收 | 3 | 3: the columns it prints are read,
    # the ones it does not print are blank (missing, never zero).
    document = docx.Document()
    t = document.add_table(rows=2, cols=3)
    for c, text in enumerate(["申请人情况", "自然人", "总计"]):
        t.cell(0, c).text = text
    for c, text in enumerate(["一、本年新收政府信息公开申请数量", "3", "3"]):
        t.cell(1, c).text = text
    out = io.BytesIO()
    document.save(out)
    facts = facts_of(extract_attachment(out.getvalue(), "a.docx", None))
    person = facts[("applications", "new_received", "person")]
    assert (person.value, person.status) == (3, "ok")
    assert facts[("applications", "new_received", "total")].value == 3
    assert facts[("applications", "new_received", "business")].status == "blank"


def test_docx_fixture_parses_to_gold() -> None:
    body = (FIXTURES / "docx_2021.docx").read_bytes()
    att = extract_attachment(body, "docx_2021.docx", None)
    result = parse_tables(att.html, att.text)
    gold = json.loads((FIXTURES / "docx_2021.facts.json").read_text(encoding="utf-8"))
    assert result.template == "gb2021"
    assert [f.as_dict() for f in result.facts] == gold


def test_pdf_has_no_html() -> None:
    assert extract_attachment(text_pdf(), "a.pdf", None).html is None
