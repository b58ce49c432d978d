"""Consistency checks: broken identities are flagged with both sides, never corrected."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import lxml.html

from gxcrawl.extract.checks import Finding, check_consistency
from gxcrawl.extract.tables import Fact, parse_tables

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = sorted((FIXTURES / "seeds").glob("*.txt"))


def facts_of_seed(n: int) -> list[Fact]:
    return parse_tables(None, SEEDS[n].read_text(encoding="utf-8")).facts


def facts_of_html(name: str) -> list[Fact]:
    page = lxml.html.fromstring((FIXTURES / "tables" / f"{name}.html").read_bytes())
    return parse_tables(page.xpath('//div[@class="TRS_Editor"]')[0], "").facts


def summary(findings: list[Finding]) -> set[tuple]:
    return {(f.check, f.column_key, f.row_key, f.expected, f.actual) for f in findings}


def set_cell(facts: list[Fact], row: str, col: str, **changes: object) -> list[Fact]:
    out = [replace(f, **changes) if (f.row_key, f.column_key) == (row, col) else f for f in facts]
    assert out != facts, f"no cell {row}/{col}"
    return out


def test_seed_003_breaks_its_identities() -> None:
    findings = check_consistency(facts_of_seed(3))
    assert summary(findings) == {
        ("balance", "person", None, 9, 10),  # 9 + 0 ≠ 10 + 0
        ("balance", "total", None, 0, 9),  # 0 + 0 ≠ 8 + 1
        ("row_total", "total", "new_received", 9, 0),
        ("row_total", "total", "result.partly_disclosed", 2, 3),
        ("row_total", "total", "result.unavailable.not_held", 4, 1),
        ("row_total", "total", "result.total", 10, 8),
        ("row_total", "total", "carry_forward", 0, 1),
    }
    balance = next(f for f in findings if f.check == "balance" and f.column_key == "person")
    assert "9+0" in balance.detail and "10+0" in balance.detail  # both sides, as printed
    assert all(f.table == "applications" for f in findings)


def test_seed_003_outcome_rows_use_the_three_2021_other_rows() -> None:
    # 自然人: 4 + 2 + 4 = 10 = (七); 总计: 4 + 3 + 1 = 8 = (七) — the outcome identity holds.
    assert not [f for f in check_consistency(facts_of_seed(3)) if f.check == "outcomes"]


def test_consistent_reports_have_no_findings() -> None:
    assert check_consistency(facts_of_seed(0)) == []
    assert check_consistency(facts_of_html("html_2019")) == []
    assert check_consistency(facts_of_html("html_grid_2019")) == []


def test_unreadable_and_blank_html_cells_are_never_checked() -> None:
    # html_cells_2021 adds up wherever every cell is a number; its —, 见说明 and blank cells
    # (自然人 of 部分公开, the 法人 columns of 其他处理 2.) leave those identities unchecked.
    assert check_consistency(facts_of_html("html_cells_2021")) == []


def test_reports_without_checkable_tables_have_no_findings() -> None:
    assert check_consistency(facts_of_seed(1)) == []  # legacy table: no national identity
    assert check_consistency(facts_of_seed(2)) == []  # every cell unreadable: nothing to check
    assert check_consistency([]) == []


def test_html_2021_fixture_findings() -> None:
    findings = check_consistency(facts_of_html("html_2021"))
    assert summary(findings) == {
        ("balance", "person", None, 13, 15),
        ("outcomes", "person", None, 13, 15),
        ("row_total", "total", "result.total", 17, 15),
        ("appeals_total", "review.total", "cases", 3, 2),
    }
    appeals = next(f for f in findings if f.check == "appeals_total")
    assert appeals.table == "appeals" and "2+0+1+0" in appeals.detail


def test_a_changed_cell_is_flagged_and_not_corrected() -> None:
    facts = set_cell(facts_of_seed(0), "result.disclosed", "research", value=2, raw_text="2")
    before = [f.as_dict() for f in facts]
    findings = check_consistency(facts)
    assert summary(findings) == {  # 一+二 = 三（七）+四 still holds: only the parts changed
        ("outcomes", "research", None, 2, 0),
        ("row_total", "total", "result.disclosed", 2, 0),
    }
    assert [f.as_dict() for f in facts] == before


def test_2019_other_row_counts_in_outcomes() -> None:
    facts = set_cell(facts_of_seed(0), "result.other", "person", value=1, raw_text="1")
    assert ("outcomes", "person", None, 1, 0) in summary(check_consistency(facts))


def test_blank_or_unreadable_cells_skip_the_identity() -> None:
    facts = facts_of_seed(3)
    facts = set_cell(facts, "new_received", "person", value=None, status="blank")
    facts = set_cell(facts, "carry_forward", "total", value=None, status="unreadable")
    checks = summary(check_consistency(facts))
    assert not any(c[1] == "person" and c[0] == "balance" for c in checks)
    assert not any(c[2] in ("new_received", "carry_forward") for c in checks)
    assert ("row_total", "total", "result.total", 10, 8) in checks  # the rest still checked


def test_appeals_total_per_group() -> None:
    facts = set_cell(facts_of_seed(0), "cases", "litigation_after_review.total", value=4)
    findings = check_consistency(facts)
    assert summary(findings) == {("appeals_total", "litigation_after_review.total", "cases", 0, 4)}


def test_finding_as_dict() -> None:
    finding = check_consistency(facts_of_seed(3))[0]
    d = finding.as_dict()
    assert list(d)[:6] == ["check", "table", "column_key", "expected", "actual", "detail"]
    assert isinstance(d["expected"], float) and isinstance(d["actual"], float)


def test_finding_as_dict_is_every_field_in_order() -> None:
    # as_dict spells its keys out for speed: it must stay the dataclass's fields, in order.
    finding = Finding("row_total", "applications", "total", 3.0, 4.0, "detail", row_key="x")
    assert finding.as_dict() == {f.name: getattr(finding, f.name) for f in fields(finding)}
    assert list(finding.as_dict()) == [f.name for f in fields(finding)]
