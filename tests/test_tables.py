"""Statistics tables → facts: every seed and HTML fixture against its hand-written gold."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import lxml.html
import pytest

from gxcrawl.extract.process import RawDocument, extract_document
from gxcrawl.extract.tables import Fact, parse_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = sorted((FIXTURES / "seeds").glob("*.txt"))
TABLES = FIXTURES / "tables"


def seed_text(n: int) -> str:
    return SEEDS[n].read_text(encoding="utf-8")


def gold(name: str) -> list[dict]:
    return json.loads((TABLES / f"{name}.facts.json").read_text(encoding="utf-8"))


HTML_FIXTURES = {  # fixture page → the template its tables are printed in
    "html_2019": "gb2019",
    "html_2021": "gb2021",
    "html_cells_2021": "gb2021",
    "html_grid_2019": "gb2019",
}


def content_element(name: str) -> lxml.html.HtmlElement:
    """The report body of a fixture page, parsed once, as the entry point hands it over."""
    root = lxml.html.fromstring((TABLES / f"{name}.html").read_bytes())
    return root.xpath('//div[@class="TRS_Editor"]')[0]


def html_fixture(name: str) -> str:
    """The report body of a fixture page as an HTML string."""
    return lxml.html.tostring(content_element(name), encoding="unicode")


def cells(html: object, text: str = "") -> dict[tuple[str, str, str], Fact]:
    facts = parse_tables(html, text).facts  # type: ignore[arg-type]
    return {(f.table, f.row_key, f.column_key): f for f in facts}


def status(fact: Fact) -> tuple[object, str | None, str]:
    return fact.value, fact.raw_text, fact.status


def as_dicts(facts: list[Fact]) -> list[dict]:
    return [f.as_dict() for f in facts]


def test_five_seeds_are_present() -> None:
    assert [p.name[:3] for p in SEEDS] == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize(
    ("n", "template"),
    [(0, "gb2019"), (1, "legacy_stats"), (2, "gb2019"), (3, "gb2021"), (4, None)],
)
def test_seed_parses_to_gold_cell_exact(n: int, template: str | None) -> None:
    result = parse_tables(None, seed_text(n))
    assert result.template == template
    assert as_dicts(result.facts) == gold(f"seed_{n:03d}")
    assert all(f.template == template for f in result.facts)


def test_seed_000_one_cell_per_line_without_blank_lines() -> None:
    # The cleaner may or may not keep the blank lines between cells.
    text = "\n".join(line for line in seed_text(0).splitlines() if line.strip())
    assert as_dicts(parse_tables(None, text).facts) == gold("seed_000")


def test_seed_000_keeps_multi_line_headers_and_the_procurement_amount() -> None:
    facts = {(f.table, f.row_key, f.column_key): f for f in parse_tables(None, seed_text(0)).facts}
    made = facts[("art20_1", "rules", "new_made")]
    assert made.column_label == "本年新制作数量"  # printed over two lines: 本年新 / 制作数量
    amount = facts[("art20_9", "central_procurement", "procurement_amount")]
    assert (amount.value, amount.unit) == (1827190, None)  # no unit printed: none invented
    assert facts[("art20_5", "other_services", "decisions")].value == 3600


def test_seed_001_legacy_units_and_keys() -> None:
    facts = {f.row_key: f for f in parse_tables(None, seed_text(1)).facts}
    assert facts["主动公开情况/政府网站公开政府信息数"].value == 120
    assert facts["主动公开情况/政府网站公开政府信息数"].unit == "条"
    assert facts["依申请公开信息收取的费用"].unit == "万元"
    assert facts["政府信息公开会议和培训情况/接受培训人员数"].unit == "人次"
    # the same printed item under two sections keeps two keys
    assert "行政复议数量/被依法纠错数" in facts and "行政诉讼数量/被依法纠错数" in facts
    assert not any(
        k.startswith("主动公开情况") and facts[k].row_label == "一、主动公开情况" for k in facts
    )  # section rows (unit ——) are headings, not cells


def test_seed_002_lost_cells_are_unreadable_never_misplaced() -> None:
    result = parse_tables(None, seed_text(2))
    assert result.facts, "the tables are recorded, not dropped"
    assert {f.status for f in result.facts} == {"unreadable"}
    assert all(f.value is None for f in result.facts)
    normative = [f for f in result.facts if f.row_key == "normative"]
    assert {f.raw_text for f in normative} == {"8 83"}  # the surviving values are kept


def test_seed_003_pipe_rendering_2021_rows() -> None:
    facts = {(f.table, f.row_key, f.column_key): f for f in parse_tables(None, seed_text(3)).facts}
    assert facts[("applications", "result.total", "total")].value == 8
    assert facts[("applications", "result.total", "person")].value == 10
    other = {k[1] for k in facts if k[1].startswith("result.other")}
    assert other == {"result.other.overdue_correction", "result.other.overdue_fee",
                     "result.other.other"}  # fmt: skip
    fee = facts[("art20_8", "fees", "fee_amount")]
    assert fee.unit == "万元" and fee.column_label == "本年收费金额(单位:万元)"
    assert facts[("applications", "new_received", "business")].column_label == (
        "法人或其他组织/商业企业"  # printed split as "商业 企业"
    )


def test_seed_004_has_no_tables() -> None:
    result = parse_tables(None, seed_text(4))
    assert result.facts == [] and result.template is None


@pytest.mark.parametrize(("name", "template"), HTML_FIXTURES.items())
def test_html_fixture_page_parses_to_gold(name: str, template: str) -> None:
    result = parse_tables(content_element(name), "")
    assert result.template == template
    assert as_dicts(result.facts) == gold(name)


@pytest.mark.parametrize("name", HTML_FIXTURES)
def test_html_string_and_element_give_the_same_facts(name: str) -> None:
    assert as_dicts(parse_tables(html_fixture(name), "").facts) == gold(name)


def test_parsing_the_element_leaves_it_untouched() -> None:
    content = content_element("html_cells_2021")
    before = lxml.html.tostring(content)
    parse_tables(content, "")
    assert lxml.html.tostring(content) == before


def test_html_blank_dash_and_unreadable_cells() -> None:
    facts = cells(content_element("html_2019"))
    blank = facts[("applications", "result.partly_disclosed", "law_firm")]
    assert status(blank) == (None, None, "blank")
    assert status(facts[("art20_6", "enforcement", "decisions")]) == (None, "—", "unreadable")
    assert status(facts[("art20_8", "fees", "change")]) == (None, "见说明", "unreadable")
    assert facts[("art20_5", "licensing", "decisions")].value == 1024
    assert facts[("art20_9", "central_procurement", "procurement_amount")].unit == "万元"


def test_the_issue_row_blank_between_two_numbers() -> None:
    # <td>行政规范性文件</td><td>8</td><td></td><td>83</td>: three cells, each in its column.
    facts = cells(content_element("html_cells_2021"))
    row = [facts[("art20_1", "normative", k)] for k in ("issued", "repealed", "in_force")]
    assert [status(f) for f in row] == [(8, "8", "ok"), (None, None, "blank"), (83, "83", "ok")]


@pytest.mark.parametrize(
    ("table", "row", "col", "raw"),
    [
        ("art20_5", "licensing", "decisions", "见说明"),  # the only value cell, and text
        ("art20_6", "penalty", "decisions", "-"),
        ("art20_6", "enforcement", "decisions", "/"),
        ("art20_8", "fees", "fee_amount", "无"),
        ("applications", "new_received", "business", "—"),
        ("appeals", "cases", "litigation_after_review.upheld", "—"),
    ],
)
def test_text_where_a_number_belongs_is_unreadable_for_that_cell_only(
    table: str, row: str, col: str, raw: str
) -> None:
    facts = cells(content_element("html_cells_2021"))
    assert status(facts[(table, row, col)]) == (None, raw, "unreadable")
    neighbours = [f for k, f in facts.items() if k[:2] == (table, row) and k[2] != col]
    assert all(f.status != "unreadable" for f in neighbours), "only that cell"


def test_a_cell_merged_over_several_columns_is_unreadable_in_each() -> None:
    facts = cells(content_element("html_cells_2021"))
    row = {
        k[2]: f for k, f in facts.items() if k[:2] == ("applications", "result.other.overdue_fee")
    }
    assert {c for c, f in row.items() if f.status == "unreadable"} == {
        "business", "research", "ngo", "law_firm", "org_other"
    }  # fmt: skip
    assert {f.raw_text for f in row.values() if f.status == "unreadable"} == {"见说明"}
    assert status(row["person"]) == (0, "0", "ok") and status(row["total"]) == (0, "0", "ok")


def test_split_header_columns_resolved_by_label() -> None:
    # 申请人情况 over three header rows, 法人或其他组织 over five, 商业<br>企业, 公益组织.
    facts = cells(content_element("html_cells_2021"))
    labels = {
        k[2]: f.column_label for k, f in facts.items() if k[:2] == ("applications", "new_received")
    }
    assert labels == {
        "person": "自然人",
        "business": "法人或其他组织/商业企业",
        "research": "法人或其他组织/科研机构",
        "ngo": "法人或其他组织/公益组织",
        "law_firm": "法人或其他组织/法律服务机构",
        "org_other": "法人或其他组织/其他",
        "total": "总计",
    }
    assert status(facts[("applications", "result.partly_disclosed", "person")])[2] == "blank"


def test_columns_in_another_order_follow_their_header() -> None:
    # 总计 printed before 自然人: each value goes to the column whose header is above it.
    html = """<table>
    <tr><td>申请人情况</td><td>总计</td><td>自然人</td><td>商业企业</td><td>科研机构</td>
        <td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
    <tr><td>一、本年新收政府信息公开申请数量</td><td>9</td><td>7</td><td>2</td><td>0</td><td>0</td>
        <td>0</td><td>0</td></tr></table>"""
    facts = cells(html)
    assert facts[("applications", "new_received", "total")].value == 9
    assert facts[("applications", "new_received", "person")].value == 7
    assert facts[("applications", "new_received", "business")].value == 2


def test_a_column_with_an_unknown_header_is_unreadable_not_guessed() -> None:
    html = """<table>
    <tr><td>申请人情况</td><td>自然人</td><td>商业企业</td><td>科研机构</td><td>公益性团体</td>
        <td>法律服务机构</td><td>其他</td><td>总计</td></tr>
    <tr><td>一、本年新收政府信息公开申请数量</td><td>7</td><td>0</td><td>0</td><td>2</td><td>0</td>
        <td>0</td><td>9</td></tr></table>"""
    facts = cells(html)
    assert status(facts[("applications", "new_received", "ngo")]) == (None, "2", "unreadable")
    assert status(facts[("applications", "new_received", "total")]) == (9, "9", "ok")


def test_a_short_row_leaves_the_missing_cells_blank_and_never_shifts() -> None:
    html = """<table><tr><td>第二十条第（一）项</td></tr>
    <tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>
    <tr><td>规章</td><td>1</td><td>2</td><td>3</td></tr>
    <tr><td>行政规范性文件</td><td>见说明</td><td>5</td></tr></table>"""
    facts = cells(html)
    row = [facts[("art20_1", "normative", k)] for k in ("issued", "repealed", "in_force")]
    assert [status(f) for f in row] == [
        (None, "见说明", "unreadable"), (5, "5", "ok"), (None, None, "blank")
    ]  # fmt: skip


def test_padding_columns_wider_than_the_block_are_ignored() -> None:
    facts = cells(content_element("html_grid_2019"))
    assert {k[2] for k in facts if k[0] == "art20_8"} == {"prev_count", "change"}
    procurement = ("procurement_count", "procurement_amount")
    row = [status(facts[("art20_9", "central_procurement", k)]) for k in procurement]
    assert row == [(2, "2", "ok"), (128.6, "128.6", "ok")]
    # values printed over two or three grid columns, under headers as wide
    assert facts[("art20_5", "licensing", "decisions")].value == 230


def test_a_dash_in_a_text_rendering_is_unreadable_too() -> None:
    text = (
        "第二十条第（六）项\n信息内容\n上一年项目数量\n本年增/减\n处理决定数量\n行政处罚\n0\n—\n5"
    )
    facts = cells(None, text)
    assert status(facts[("art20_6", "penalty", "change")]) == (None, "—", "unreadable")
    assert status(facts[("art20_6", "penalty", "decisions")]) == (5, "5", "ok")


def test_html_is_preferred_over_text() -> None:
    result = parse_tables(html_fixture("html_2021"), seed_text(0))
    assert as_dicts(result.facts) == gold("html_2021")


def test_html_without_table_falls_back_to_text() -> None:
    result = parse_tables("<div><p>一、总体情况</p></div>", seed_text(3))
    assert as_dicts(result.facts) == gold("seed_003")


def test_text_rendering_of_a_table_gives_the_same_facts_as_its_html() -> None:
    # One cell per line, as a text dump of the same page would show it (no blank cells here).
    root = lxml.html.fromstring(html_fixture("html_2021"))
    cells = {td for td in root.iter("td") if not td.xpath(".//table")}
    lines = []
    for el in root.iter("p", "td"):
        if el in cells or (el.tag == "p" and not any(a in cells for a in el.iterancestors())):
            text = "".join(el.itertext()).strip()
            if text:
                lines.append(text)
    from_text = parse_tables(None, "\n".join(lines))
    assert as_dicts(from_text.facts) == gold("html_2021")


def test_pdf_style_rows_with_space_separated_cells() -> None:
    # PDF text extraction puts a whole table row on one line, cells separated by spaces.
    root = lxml.html.fromstring(html_fixture("html_2021"))
    cells = {td for td in root.iter("td") if not td.xpath(".//table")}
    lines = []
    for el in root.iter("p", "tr"):
        if el.tag == "tr":
            lines.append(" ".join("".join(td.itertext()).strip() for td in el if td in cells))
        elif not any(a in cells for a in el.iterancestors()):
            lines.append("".join(el.itertext()).strip())
    assert "（三）不予公开 1.属于国家秘密 0 0 0 0 0 0 0" in lines
    assert as_dicts(parse_tables(None, "\n".join(lines)).facts) == gold("html_2021")


def test_keys_are_shared_across_reports_of_a_template() -> None:
    def keys(facts: list[Fact], table: str) -> set[tuple[str, str]]:
        return {(f.row_key, f.column_key) for f in facts if f.table == table}

    seed0 = parse_tables(None, seed_text(0)).facts
    html19 = parse_tables(html_fixture("html_2019"), "").facts
    for table in ("art20_1", "art20_5", "applications", "appeals"):
        assert keys(seed0, table) == keys(html19, table)
    seed3 = parse_tables(None, seed_text(3)).facts
    html21 = parse_tables(html_fixture("html_2021"), "").facts
    assert keys(seed3, "applications") == keys(html21, "applications")
    assert len(keys(seed3, "applications")) == 25 * 7


def test_prose_mentioning_table_words_yields_no_facts() -> None:
    text = "本年新收政府信息公开申请9件，其中行政复议0件。\n第二十条第（一）项规定的信息已公开。"
    assert parse_tables(None, text).facts == []


def test_content_element_without_table_gives_no_facts() -> None:
    root = lxml.html.fromstring("<div><p>本年新收政府信息公开申请9件。</p></div>")
    assert parse_tables(root, "本年新收政府信息公开申请9件。").facts == []


def test_layout_table_without_statistics_gives_no_facts() -> None:
    root = lxml.html.fromstring(
        "<div><table><tr><td><p>2021年，我局依法公开信息。</p></td></tr></table></div>"
    )
    assert parse_tables(root, "2021年，我局依法公开信息。").facts == []


def test_prose_without_tables_gives_no_facts() -> None:
    # Speed on such pages is measured by `make bench`, not asserted here.
    page = seed_text(4) * 20  # ~100 KB of report prose, no table
    assert parse_tables(f"<div><p>{page}</p></div>", page).facts == []


@pytest.mark.parametrize("name", [n for n in HTML_FIXTURES])
def test_fixture_page_through_the_entry_point(name: str) -> None:
    body = (TABLES / f"{name}.html").read_bytes()
    url = f"http://www.example.gov.cn/xxgk/ndbg/{name}.html"
    headers = {"Content-Type": "text/html; charset=utf-8"}
    result = extract_document(RawDocument(body, url, headers)).result
    assert result.is_report and result.title and result.title.endswith("工作年度报告")
    if result.content_html is None:
        pytest.skip("extract_page does not hand over PageResult.content_html yet (lead wires it)")
    assert result.tables == gold(name)


def test_fact_as_dict_is_every_field_in_order() -> None:
    # as_dict spells its keys out for speed: it must stay the dataclass's fields, in order.
    fact = Fact("gb2021", "applications", "new_received", "person", "一、本年新收", "自然人",
                3, "件", "3", "ok")  # fmt: skip
    assert fact.as_dict() == {f.name: getattr(fact, f.name) for f in dataclasses.fields(fact)}
    assert list(fact.as_dict()) == [f.name for f in dataclasses.fields(fact)]
