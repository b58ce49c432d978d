"""Statistics tables → facts: every seed and HTML fixture against its hand-written gold."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from gxcrawl.extract.tables import Fact, parse_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = sorted((FIXTURES / "seeds").glob("*.txt"))
TABLES = FIXTURES / "tables"


def seed_text(n: int) -> str:
    return SEEDS[n].read_text(encoding="utf-8")


def gold(name: str) -> list[dict]:
    return json.loads((TABLES / f"{name}.facts.json").read_text(encoding="utf-8"))


def html_fixture(name: str) -> str:
    return (TABLES / f"{name}.html").read_text(encoding="utf-8")


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


@pytest.mark.parametrize(("name", "template"), [("html_2019", "gb2019"), ("html_2021", "gb2021")])
def test_html_fixture_parses_to_gold(name: str, template: str) -> None:
    result = parse_tables(html_fixture(name), "")
    assert result.template == template
    assert as_dicts(result.facts) == gold(name)


def test_html_blank_dash_and_unreadable_cells() -> None:
    facts = {(f.table, f.row_key, f.column_key): f
             for f in parse_tables(html_fixture("html_2019"), "").facts}  # fmt: skip
    blank = facts[("applications", "result.partly_disclosed", "law_firm")]
    assert (blank.status, blank.value, blank.raw_text) == ("blank", None, None)
    dash = facts[("art20_6", "enforcement", "decisions")]
    assert (dash.status, dash.value, dash.raw_text) == ("unreadable", None, "—")
    note = facts[("art20_8", "fees", "change")]
    assert (note.status, note.value, note.raw_text) == ("unreadable", None, "见说明")
    assert facts[("art20_5", "licensing", "decisions")].value == 1024
    assert facts[("art20_9", "central_procurement", "procurement_amount")].unit == "万元"


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


def test_prose_without_tables_gives_no_facts() -> None:
    # Speed on such pages is measured by `make bench`, not asserted here.
    page = seed_text(4) * 20  # ~100 KB of report prose, no table
    assert parse_tables(f"<div><p>{page}</p></div>", page).facts == []
