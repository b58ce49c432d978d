"""Issue 9: titles that live only in the body, the agency chain, region conflicts, revised
titles, the cleaned content handed to the table parser, and the fixture pages held exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gxcrawl.extract import metadata
from gxcrawl.extract.page import extract_page
from gxcrawl.extract.tables import parse_tables
from gxcrawl.extract.types import CONTRACT_FIELDS, PortalHints

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "fixtures" / "pages"
URL = "http://www.example.gov.cn/zwgk/nb/t1.html"
REPORT = "万载县自然资源局2023年政府信息公开工作年度报告"
PROSE = [
    "一、总体情况",
    "2023年，我局认真贯彻落实《中华人民共和国政府信息公开条例》，全年主动公开政府信息356条。",
    "二、主动公开政府信息情况",
    "本年度未发生政府信息公开行政复议、行政诉讼案件，政务公开工作稳步推进。",
]


def _paras(lines: list[str]) -> str:
    return "".join(f"<p>{x}</p>" for x in lines)


def _doc(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


# --------------------------------------------------------------------------- titles in the body
@pytest.mark.parametrize(
    "title_html",
    [
        f'<p align="center"><b>{REPORT}</b></p>',
        f'<p style="text-align:center"><strong>{REPORT}</strong></p>',
        f'<p style="font-size:22pt">{REPORT}</p>',
        f"<center>{REPORT}</center>",
        # Word splits a title over several runs.
        "<p class=MsoNormal align=center><b><span>万载县自然资源局</span></b>"
        "<b><span>2023年政府信息公开工作年度报告</span></b></p>",
    ],
)
def test_title_only_in_the_body(title_html: str) -> None:
    html = _doc(f'<div class="TRS_Editor">{title_html}{_paras(PROSE)}</div>')
    result = extract_page(html, URL)
    assert (result.title, result.is_report, result.year) == (REPORT, True, 2023)
    assert result.agency == "万载县自然资源局"
    assert REPORT not in result.text  # the title line is not kept twice
    assert result.text.splitlines()[0] == "一、总体情况"
    assert ("title", REPORT) in [(r.kind, r.text) for r in result.removed]


@pytest.mark.parametrize(
    "body",
    [
        '<p>宜春市政务公开</p><p align="center"><b>市财政局召开政务公开工作会议</b></p>',
        # Word's body text is 16pt (三号); its titles are larger.
        "<p><span style='font-size:16.0pt'>宜春市政务公开</span></p>"
        "<p><span style='font-size:22.0pt'>市财政局召开政务公开工作会议</span></p>",
        '<p>宜春市政务公开</p><p style="font-size:24px">市财政局召开政务公开工作会议</p>',
    ],
)
def test_styled_line_preferred_when_no_line_is_a_report_title(body: str) -> None:
    result = extract_page(_doc(f'<div class="TRS_Editor">{body}{_paras(PROSE)}</div>'), URL)
    assert result.title == "市财政局召开政务公开工作会议"
    assert not result.is_report


def test_report_line_in_the_body_beats_a_site_name_title() -> None:
    html = _doc(
        f'<div class="TRS_Editor"><p>{REPORT}</p>{_paras(PROSE)}</div>',
        head="<title>万载县人民政府</title>",
    )
    result = extract_page(html, URL)
    assert (result.title, result.is_report) == (REPORT, True)


def test_a_stated_title_is_kept() -> None:
    """A report <title> wins; a notice's <title> is not replaced by a report line in its body."""
    stated = "万载县自然资源局2023年政府信息公开工作年度报告（图解）"
    html = _doc(
        f'<div class="TRS_Editor"><p>{REPORT}</p>{_paras(PROSE)}</div>',
        head=f"<title>{stated}</title>",
    )
    assert extract_page(html, URL).title == stated
    notice = "关于做好2023年度政府信息公开工作年度报告编制发布工作的通知"
    html = _doc(
        f'<div class="TRS_Editor"><p>{REPORT}</p>{_paras(PROSE)}</div>',
        head=f"<title>{notice}</title>",
    )
    result = extract_page(html, URL)
    assert (result.title, result.is_report) == (notice, False)


def test_linked_report_titles_and_section_headings_are_not_the_title() -> None:
    links = f'<ul><li><a href="/nb/1.html">{REPORT}</a><span>2024-01-20</span></li></ul>'
    html = _doc(f'<div class="TRS_Editor">{links}{_paras(PROSE)}</div>')
    result = extract_page(html, URL)
    assert result.title != REPORT and not result.is_report
    only_sections = _doc(f'<div class="TRS_Editor">{_paras(PROSE)}</div>')
    assert extract_page(only_sections, URL).title is None


def test_report_heading_outside_the_content_beats_a_site_name_title() -> None:
    html = _doc(
        f'<h1 class="article-title">{REPORT}</h1><div class="TRS_Editor">{_paras(PROSE)}</div>',
        head="<title>万载县人民政府</title>",
    )
    assert extract_page(html, URL).title == REPORT
    # A report title in a list of related links names another page.
    related = f'<ul class="related"><li class="title"><a href="/nb/2.html">{REPORT}</a></li></ul>'
    html = _doc(
        f'<div class="TRS_Editor">{_paras(PROSE)}</div>{related}',
        head="<title>万载县人民政府</title>",
    )
    result = extract_page(html, URL)
    assert (result.title, result.is_report) == ("万载县人民政府", False)


@pytest.mark.parametrize(
    ("head", "title_html"),
    [
        (
            "",
            '<p align="center"><b>万载县自然资源局</b></p>'
            '<p align="center"><b>2023年政府信息公开工作年度报告</b></p>',
        ),
        (
            "<title>无标题文档</title>",
            '<p align="center"><b>万载县自然资源局<br>2023年政府信息公开工作年度报告</b></p>',
        ),
        ("<title>Untitled Document</title>", f'<p style="text-align:center">{REPORT}</p>'),
        ("<title>Microsoft Word - 年报.docx</title>", f"<p><b>{REPORT}</b></p>"),
    ],
)
def test_title_over_two_lines_or_under_a_placeholder_title(head: str, title_html: str) -> None:
    html = _doc(f'<div class="TRS_Editor">{title_html}{_paras(PROSE)}</div>', head=head)
    result = extract_page(html, URL)
    assert (result.title, result.agency, result.is_report) == (REPORT, "万载县自然资源局", True)
    assert result.text.splitlines()[0] == "一、总体情况"


def test_a_date_line_is_not_a_title() -> None:
    for date in ("2024年1月20日", "二〇二四年一月二十日", "2024-01-20 10:30"):
        html = _doc(f'<div class="TRS_Editor"><p>{date}</p>{_paras(PROSE)}</div>')
        assert extract_page(html, URL).title is None, date


# --------------------------------------------------------------------------- the agency chain
def _dept_page(heading: str, signoff: str = "", publisher: str = "宜春市人民政府") -> str:
    meta = (
        '<table class="xxgk_table"><tr><th>索引号：</th><td>360900-0101/2024-00011</td>'
        f"<th>发布机构：</th><td>{publisher}</td></tr></table>"
    )
    return _doc(
        f'{meta}<h1>2023年政府信息公开工作年度报告</h1><div class="TRS_Editor">{heading}'
        f"{_paras(PROSE)}{signoff}</div>",
        head="<title>2023年政府信息公开工作年度报告-宜春市人民政府</title>",
    )


HINTS = PortalHints(agency="宜春市人民政府", region_code="360900")


@pytest.mark.parametrize(
    ("heading", "signoff"),
    [
        ("<p>宜春市财政局2023年政府信息公开工作年度报告</p>", ""),
        ("<p>宜春市财政局</p><p>2023年政府信息公开工作年度报告</p>", ""),
        ("", "<p>宜春市财政局</p><p>2024年1月20日</p>"),
        (
            "<p>宜春市财政局2023年政府信息公开工作年度报告</p>",
            "<p>宜春市财政局</p><p>2024年1月20日</p>",
        ),
    ],
)
def test_department_named_by_the_body_beats_a_portal_publisher(heading: str, signoff: str) -> None:
    result = extract_page(_dept_page(heading, signoff), URL, HINTS)
    assert (result.agency, result.publisher) == ("宜春市财政局", "宜春市人民政府")
    assert result.flags == []


def test_publisher_then_registry_then_missing() -> None:
    assert extract_page(_dept_page(""), URL, HINTS).agency == "宜春市人民政府"
    no_label = _dept_page("", publisher="")
    registry = extract_page(no_label, URL, HINTS)
    assert (registry.agency, registry.flags) == ("宜春市人民政府", ["agency_from_registry"])
    missing = extract_page(no_label, URL, PortalHints(region_code="360900"))
    assert (missing.agency, missing.flags) == (None, ["agency_missing"])


def test_spam_is_never_the_agency() -> None:
    heading = "<p>bet365亚洲官网2023年政府信息公开工作年度报告</p>"
    result = extract_page(_dept_page(heading, publisher="澳门葡京官网"), URL, HINTS)
    assert result.agency == "宜春市人民政府"
    assert {"agency_from_registry", "spam_injected"} <= set(result.flags)


# --------------------------------------------------------------------------- label:value lines
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("来源：宜丰县教育体育局 时间：2025-03-10 15:35", ("宜丰县教育体育局", None, "2025-03-10")),
        ("来源：宜丰县教育体育局时间：2025-03-10 15:35", ("宜丰县教育体育局", None, "2025-03-10")),
        ("发布时间：2024-01-05 来源：市政府办 浏览次数：12", ("市政府办", None, "2024-01-05")),
        ("信息来源：宜春日报|发布日期：2024-03-13", ("宜春日报", None, "2024-03-13")),
        (
            "信息来源：宜春日报 | 发布时间：2024-03-13 09:20 | 浏览次数：56",
            ("宜春日报", None, "2024-03-13"),
        ),
        ("文章来源：市财政局 作者：李明 日期：2024-01-22", ("市财政局", None, "2024-01-22")),
        (
            "发布机构：宜春市财政局 来源：宜春市人民政府网",
            ("宜春市人民政府网", "宜春市财政局", None),
        ),
        ("发文机关：宜春市财政局　发布日期：2024-01-22", (None, "宜春市财政局", "2024-01-22")),
        ("发布单位：市财政局发布时间：2024-01-22 责任编辑：王芳", (None, "市财政局", "2024-01-22")),
        ("作者：张三来源：宜春日报时间：2025-03-10 15:35", ("宜春日报", None, "2025-03-10")),
        ("【来源：宜春日报】【时间：2025-03-10】", ("宜春日报", None, "2025-03-10")),
        ("浏览次数：12 发布时间：2024-01-05 来源：市政府办", ("市政府办", None, "2024-01-05")),
    ],
)
def test_pairs_sharing_one_line_are_split(
    line: str, expected: tuple[str | None, str | None, str | None]
) -> None:
    pairs = metadata.pairs_from_line(line)
    assert (pairs.get("source"), pairs.get("publisher"), pairs.get("publish_date")) == expected
    assert metadata.is_metadata_line(line)


def test_source_is_a_field_of_its_own_right_after_publisher() -> None:
    assert CONTRACT_FIELDS.index("source") == CONTRACT_FIELDS.index("publisher") + 1
    html = _doc(
        '<div class="info">来源：宜丰县教育体育局 时间：2025-03-10 15:35</div>'
        f'<div class="TRS_Editor">{_paras(PROSE)}</div>',
        head=f"<title>{REPORT}</title>",
    )
    result = extract_page(html, URL)
    data = result.to_json_dict()
    assert (data["source"], data["publisher"], data["publish_date"]) == (
        "宜丰县教育体育局",
        None,
        "2025-03-10",
    )


# --------------------------------------------------------------------------- region code
@pytest.mark.parametrize(
    ("from_index", "hint", "expected"),
    [
        ("440103", "440103", ("440103", False)),
        ("440103", "440100", ("440103", False)),  # inside the hint's city: more specific
        ("440103", "440000", ("440103", False)),  # inside the hint's province
        ("440100", "440103", ("440103", False)),  # the hint is the more specific
        ("360902", "360981", ("360981", True)),  # contradiction: registry kept, flagged
        ("440103", "350100", ("350100", True)),
        ("440103", None, ("440103", False)),
        (None, "360900", ("360900", False)),
        (None, None, (None, False)),
    ],
)
def test_region_code_from_registry_unless_the_index_agrees(
    from_index: str | None, hint: str | None, expected: tuple[str | None, bool]
) -> None:
    assert metadata.resolve_region(from_index, hint) == expected


def test_region_conflict_is_flagged_on_the_page() -> None:
    page = _dept_page("<p>宜春市财政局2023年政府信息公开工作年度报告</p>")
    result = extract_page(page, URL, PortalHints(region_code="440100"))
    assert (result.region_code, result.index_no) == ("440100", "360900-0101/2024-00011")
    assert "region_code_conflict" in result.flags
    for hint, code in (("360000", "360900"), ("360981", "360981")):  # 丰城市 lies in 宜春市
        agreeing = extract_page(page, URL, PortalHints(region_code=hint))
        assert agreeing.region_code == code and "region_code_conflict" not in agreeing.flags


# --------------------------------------------------------------------------- revised titles
def test_report_republished_as_revised_is_still_a_report() -> None:
    title = "上高县卫生健康委员会2023年政府信息公开工作年度报告（修订稿）"
    html = _doc(f'<div class="TRS_Editor">{_paras(PROSE)}</div>', head=f"<title>{title}</title>")
    result = extract_page(html, URL)
    assert (result.is_report, result.year, result.agency) == (True, 2023, "上高县卫生健康委员会")


# --------------------------------------------------------------------------- content for tables
def test_content_html_is_the_cleaned_content_with_statistics_tables() -> None:
    meta = (
        "<table><tr><td>索引号：</td><td>360900-0101/2024-00011</td><td>发布机构：</td>"
        "<td>宜春市财政局</td></tr></table>"
    )
    stats = (
        "<table><tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td>"
        "</tr><tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr></table>"
    )
    share = '<div class="share">分享到：<a href="#">微信</a></div>'
    html = _doc(
        f'<div class="TRS_Editor">{meta}{_paras(PROSE)}{stats}{share}</div>',
        head=f"<title>{REPORT}</title>",
    )
    result = extract_page(html, URL)
    assert result.content_html is not None and result.content_root is not None
    assert "规章" in result.content_html and "本年制发件数" in result.content_html
    assert "索引号" not in result.content_html and "分享到" not in result.content_html
    assert "content_root" not in result.to_json_dict()
    assert "规章 | 0 | 0 | 0" in result.text
    # The parser reads the same facts from the HTML as from the serialised fragment.
    assert (
        parse_tables(result.content_html, result.text).facts
        == parse_tables(result.content_html, "").facts
    )


# --------------------------------------------------------------------------- fixture pages, exact
NAMES = sorted(p.name.removesuffix(".gold.json") for p in PAGES.glob("*.gold.json"))
TEXT_KEYS = ("flags", "must_contain", "must_not_contain")


# Each page at full score through the entry point: tests/test_eval_gate.py.


def test_every_gold_states_every_metadata_field() -> None:
    for name in NAMES:
        gold = json.loads((PAGES / f"{name}.gold.json").read_text(encoding="utf-8"))
        assert "source" in gold and "is_report" in gold, name
