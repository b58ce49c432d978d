"""One raw response in, the parsed fields out: the path the crawl, extract and reparse share."""

from __future__ import annotations

import io

from docx import Document

from gxcrawl.extract.process import process_attachment
from gxcrawl.extract.types import PortalHints

HINTS = PortalHints(portal_id="p", agency="安溪县人民政府", region_code="350524")


def _docx(lines: list[str]) -> bytes:
    doc = Document()
    for line in lines:
        doc.add_paragraph(line)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def test_attachment_only_report_reads_its_own_metadata() -> None:
    body = _docx([
        "安溪县教育局2020年政府信息公开工作年度报告",
        "索引号：350524-001/2021-00012",
        "一、总体情况",
        "2020年，我局主动公开政府信息85条。",
        "安溪县教育局",
        "2021年1月15日",
    ])  # fmt: skip
    out = process_attachment(
        body,
        url="http://www.fjax.gov.cn/nb/P020210115.docx",
        link_title="安溪县教育局2020年政府信息公开工作年度报告",
        hints=HINTS,
        standalone=True,
    )
    report = out.report
    assert report is not None and report.is_report
    assert (report.agency, report.year) == ("安溪县教育局", 2020)
    assert report.index_no == "350524-001/2021-00012"
    assert report.written_date == "2021-01-15"  # from the sign-off in the file
    assert "attachment_only" in report.flags and "agency_missing" not in report.flags
    assert "主动公开政府信息85条" in report.text


def test_attachment_without_agency_in_title_falls_back_to_registry() -> None:
    out = process_attachment(
        _docx(["一、总体情况", "本年度无依申请公开。"]),
        url="http://www.fjax.gov.cn/nb/P2.docx",
        link_title="2020年政府信息公开工作年度报告",
        hints=HINTS,
        standalone=True,
    )
    assert out.report is not None
    assert out.report.agency == "安溪县人民政府"
    assert "agency_from_registry" in out.report.flags
    assert out.report.region_code == "350524"


def test_linked_file_of_a_report_page_is_not_a_report_itself() -> None:
    out = process_attachment(
        _docx(["附件内容"]), url="http://x.example/a.docx", link_title="年度报告", standalone=False
    )
    assert out.report is None and out.file_kind == "docx" and "附件内容" in out.text


def test_stub_page_merges_the_text_of_its_files() -> None:
    from gxcrawl.extract.process import merge_attachment_texts
    from gxcrawl.extract.types import PageResult

    stub = PageResult(url="u", is_report=True, title="t", text="详见附件。")
    long_text = "一、总体情况\n" + "本年度主动公开政府信息120条。" * 10
    assert merge_attachment_texts(stub, ["短", long_text])
    assert stub.text.startswith("详见附件。\n一、总体情况") and "短" not in stub.text
    assert "text_from_attachment" in stub.flags
    full = PageResult(url="u", is_report=True, title="t", text="正文" * 400)
    assert not merge_attachment_texts(full, [long_text * 5]) and full.text == "正文" * 400
