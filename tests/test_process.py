"""The one extraction entry point: raw bytes in, the parsed fields out — the path the crawl,
`scrapy extract`, `scrapy reparse` and the evaluation gate share."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document

from gxcrawl.extract.process import LinkedFile, RawDocument, extract_document
from gxcrawl.extract.types import PortalHints

HINTS = PortalHints(portal_id="p", agency="安溪县人民政府", region_code="350524")


def _docx(lines: list[str]) -> bytes:
    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _file(body: bytes, url: str, title: str, *, standalone: bool = True) -> RawDocument:
    return RawDocument(
        body, url, kind="attachment", link_title=title, standalone=standalone, hints=HINTS
    )


def test_attachment_only_report_reads_its_own_metadata() -> None:
    body = _docx([
        "安溪县教育局2020年政府信息公开工作年度报告",
        "索引号：350524-001/2021-00012",
        "一、总体情况",
        "2020年，我局主动公开政府信息85条。",
        "安溪县教育局",
        "2021年1月15日",
    ])  # fmt: skip
    out = extract_document(
        _file(
            body,
            "http://www.fjax.gov.cn/nb/P020210115.docx",
            "安溪县教育局2020年政府信息公开工作年度报告",
        )
    )
    report = out.result
    assert out.is_report and out.source_kind == "attachment"
    assert (report.agency, report.year) == ("安溪县教育局", 2020)
    assert report.index_no == "350524-001/2021-00012"
    assert report.written_date == "2021-01-15"  # from the sign-off in the file
    assert "attachment_only" in report.flags and "agency_missing" not in report.flags
    assert "主动公开政府信息85条" in report.text


def test_attachment_without_agency_in_title_falls_back_to_registry() -> None:
    out = extract_document(
        _file(
            _docx(["一、总体情况", "本年度无依申请公开。"]),
            "http://www.fjax.gov.cn/nb/P2.docx",
            "2020年政府信息公开工作年度报告",
        )
    )
    assert out.is_report
    assert out.result.agency == "安溪县人民政府"
    assert "agency_from_registry" in out.result.flags
    assert out.result.region_code == "350524"


def test_linked_file_of_a_report_page_is_not_a_report_itself() -> None:
    out = extract_document(
        _file(_docx(["附件内容"]), "http://x.example/a.docx", "年度报告", standalone=False)
    )
    assert not out.is_report and out.file_kind == "docx" and "附件内容" in (out.file_text or "")


STUB = (
    "<html><head><title>某县财政局2020年政府信息公开工作年度报告</title></head><body>"
    '<div class="TRS_Editor"><p>某县财政局2020年政府信息公开工作年度报告详见附件。</p></div>'
    "</body></html>"
).encode()


def test_stub_page_merges_the_text_of_its_files() -> None:
    long_text = "一、总体情况\n" + "本年度主动公开政府信息120条。" * 10
    files = [LinkedFile("短"), LinkedFile(long_text)]
    out = extract_document(RawDocument(STUB, "http://x.example/a.html", linked_files=files))
    assert out.is_report and "text_from_attachment" in out.result.flags
    assert "一、总体情况" in out.result.text and "短" not in out.result.text.splitlines()


def test_full_page_keeps_its_own_text() -> None:
    body = STUB.replace("详见附件。".encode(), ("正文" * 400).encode())
    files = [LinkedFile("附件" * 2000)]
    out = extract_document(RawDocument(body, "http://x.example/a.html", linked_files=files))
    assert "text_from_attachment" not in out.result.flags and "附件附件" not in out.result.text


def test_same_bytes_same_result_whatever_the_header_case() -> None:
    a = extract_document(
        RawDocument(STUB, "http://x.example/a.html", {"Content-Type": "text/html"})
    )
    b = extract_document(
        RawDocument(STUB, "http://x.example/a.html", {"content-type": "text/html"})
    )
    assert a.to_json_dict() == b.to_json_dict()


def test_html_table_cells_are_read_from_the_structure() -> None:
    """The issue's row `<td>规范性文件</td><td>8</td><td></td><td>83</td>` through the entry point:
    two values and one blank cell, never three unreadable cells."""
    root = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
    body = (root / "seed002_share_nav.html").read_bytes()
    out = extract_document(
        RawDocument(body, "http://www.lixin.gov.example/public/6598481/1000.html")
    )
    cells = {
        f["column_key"]: (f["value"], f["status"])
        for f in out.result.tables
        if (f["table"], f["row_key"]) == ("art20_1", "normative")
    }
    assert cells == {
        "new_made": (8, "ok"),
        "new_published": (None, "blank"),
        "total_published": (83, "ok"),
    }
