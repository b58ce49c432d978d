"""Consistency checks over the facts of a report's statistics tables.

The national templates define identities a correct table satisfies. Published reports break
them; a broken identity becomes a `Finding` with both sides — values are flagged, never
corrected. A check runs only when every cell it needs is an ``ok`` number, so lost or blank
cells never produce a finding.

Checks (``Finding.check``)
    ``balance``    applications, per column: 一 + 二 = 三（七）+ 四
                   (new_received + carried_over = result.total + carry_forward)
    ``outcomes``   applications, per column: 三（七）= sum of the outcome rows
                   (gb2019: one ``result.other`` row; gb2021: its three sub-rows)
    ``row_total``  applications, per row: 总计 = sum of the six applicant columns
    ``appeals_total``  appeals, per group: 总计 = 结果维持 + 结果纠正 + 其他结果 + 尚未审结

``expected`` is the sum computed from the parts (left side), ``actual`` the other side as printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from gxcrawl.extract.table_keys import (
    APPEAL_GROUPS,
    APPEAL_RESULTS,
    APPLICATION_COLUMNS,
    APPLICATION_ROWS,
)
from gxcrawl.extract.tables import Fact

__all__ = ["Finding", "check_consistency"]


@dataclass(frozen=True)
class Finding:
    check: str
    table: str
    column_key: str | None
    expected: float
    actual: float
    detail: str
    row_key: str | None = None  # set by per-row checks (row_total)

    def as_dict(self) -> dict[str, Any]:
        # Spelled out, in field order (not dataclasses.asdict, which deep-copies, nor a loop
        # over dataclasses.fields, which is slow); a test checks the keys.
        return {
            "check": self.check, "table": self.table, "column_key": self.column_key,
            "expected": self.expected, "actual": self.actual, "detail": self.detail,
            "row_key": self.row_key,
        }  # fmt: skip


APP_COLUMNS = tuple(APPLICATION_COLUMNS)
APPLICANT_COLUMNS = tuple(k for k in APP_COLUMNS if k != "total")
# The outcome rows whose sum is 三（七）: every result row but the total and the 其他处理 forms.
_OUTCOME_FIXED = tuple(
    k
    for k in APPLICATION_ROWS
    if k.startswith("result.") and not k.startswith(("result.other", "result.total"))
)
_OTHER_2021 = tuple(k for k in APPLICATION_ROWS if k.startswith("result.other."))
_APPEAL_PARTS = tuple(k for k in APPEAL_RESULTS if k != "total")
_CHECKED = frozenset({"applications", "appeals"})


class _Cells(dict[tuple[str, str], Fact]):
    """A table's facts by (row_key, column_key), with the ok numbers among them as floats
    (looked up hundreds of times per report by the checks)."""

    def __init__(self) -> None:
        super().__init__()
        self.nums: dict[tuple[str, str], float] = {}

    def add(self, fact: Fact) -> None:
        key = (fact.row_key, fact.column_key)
        self[key] = fact
        if fact.status == "ok" and fact.value is not None:
            self.nums[key] = float(fact.value)
        else:
            self.nums.pop(key, None)  # a later fact for the same cell replaces the earlier


def _num(cells: _Cells, row: str, col: str) -> float | None:
    return cells.nums.get((row, col))


def _sum(cells: _Cells, keys: Sequence[tuple[str, str]]) -> float | None:
    """Sum of the cells, or None when any of them is not an ok number."""
    nums = cells.nums
    total = 0.0
    for key in keys:
        v = nums.get(key)
        if v is None:
            return None
        total += v
    return total


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _differs(a: float, b: float) -> bool:
    return abs(a - b) > 1e-6


def _labels(cells: _Cells, row: str, col: str) -> tuple[str, str]:
    f = cells.get((row, col))
    return (f.row_label, f.column_label) if f else (row, col)


@lru_cache(maxsize=64)  # two forms of the outcome rows × seven columns
def _outcome_keys(outcome_rows: tuple[str, ...], col: str) -> tuple[tuple[str, str], ...]:
    return tuple((r, col) for r in outcome_rows)


# The cells each identity reads, built once (the checks run on every report with tables).
_LEFT_KEYS = {c: (("new_received", c), ("carried_over", c)) for c in APP_COLUMNS}  # 一 + 二
_RIGHT_KEYS = {c: (("result.total", c), ("carry_forward", c)) for c in APP_COLUMNS}  # 三（七）+ 四


@lru_cache(maxsize=256)  # the template's rows, plus the few odd keys some reports add
def _applicant_keys(row: str) -> tuple[tuple[str, str], ...]:
    return tuple((row, c) for c in APPLICANT_COLUMNS)


def _applications(cells: _Cells) -> list[Finding]:
    out: list[Finding] = []
    row_set = dict.fromkeys(map(itemgetter(0), cells))  # the row keys in document order
    rows = list(row_set)
    other_rows = _OTHER_2021 if any(r in row_set for r in _OTHER_2021) else ("result.other",)
    outcome_rows = (*_OUTCOME_FIXED, *other_rows)
    nums = cells.nums
    for col in APP_COLUMNS:
        left = _sum(cells, _LEFT_KEYS[col])
        right = _sum(cells, _RIGHT_KEYS[col])
        if left is not None and right is not None and _differs(left, right):
            col_label = _labels(cells, "result.total", col)[1]
            parts_l = [_fmt(_num(cells, r, col) or 0) for r in ("new_received", "carried_over")]
            parts_r = [_fmt(_num(cells, r, col) or 0) for r in ("result.total", "carry_forward")]
            out.append(Finding(
                "balance", "applications", col, left, right,
                f"{col_label}: 一+二 = {'+'.join(parts_l)} = {_fmt(left)} ≠ "
                f"三（七）+四 = {'+'.join(parts_r)} = {_fmt(right)}",
            ))  # fmt: skip
        stated = nums.get(("result.total", col))
        if stated is None:
            continue  # nothing to compare the outcome rows with: not worth summing them
        parts = _sum(cells, _outcome_keys(outcome_rows, col))
        if parts is not None and _differs(parts, stated):
            col_label = _labels(cells, "result.total", col)[1]
            nonzero = [
                f"{_labels(cells, r, col)[0]} {_fmt(v)}"
                for r in outcome_rows
                if (v := _num(cells, r, col))
            ]
            out.append(Finding(
                "outcomes", "applications", col, parts, stated,
                f"{col_label}: sum of outcome rows = {' + '.join(nonzero) or '0'} = "
                f"{_fmt(parts)} ≠ 三（七）总计 = {_fmt(stated)}",
            ))  # fmt: skip
    for row in rows:
        stated = nums.get((row, "total"))
        if stated is None:
            continue  # a row without a total (or an unreadable one) has nothing to check
        parts = _sum(cells, _applicant_keys(row))
        if parts is not None and _differs(parts, stated):
            row_label = _labels(cells, row, "total")[0]
            out.append(Finding(
                "row_total", "applications", "total", parts, stated,
                f"{row_label}: sum of applicant columns = {_fmt(parts)} ≠ 总计 = {_fmt(stated)}",
                row_key=row,
            ))  # fmt: skip
    return out


def _appeals(cells: _Cells) -> list[Finding]:
    out: list[Finding] = []
    for (row, col), fact in cells.items():
        group, _, part = col.partition(".")
        if part != "total" or group not in APPEAL_GROUPS:
            continue
        parts = _sum(cells, [(row, f"{group}.{p}") for p in _APPEAL_PARTS])
        stated = _num(cells, row, col)
        if parts is not None and stated is not None and _differs(parts, stated):
            values = "+".join(_fmt(_num(cells, row, f"{group}.{p}") or 0) for p in _APPEAL_PARTS)
            out.append(Finding(
                "appeals_total", "appeals", col, parts, stated,
                f"{fact.column_label}: {values} = {_fmt(parts)} ≠ 总计 = {_fmt(stated)}",
                row_key=row,
            ))  # fmt: skip
    return out


def check_consistency(facts: list[Fact]) -> list[Finding]:
    """Every broken identity among the facts (empty when all checkable identities hold)."""
    by_table: dict[str, _Cells] = {}
    # Facts come table by table: the maps are looked up when the table changes, not per fact.
    last_table = ""
    cells = _Cells()
    nums: dict[tuple[str, str], float] = {}
    for f in facts:
        table = f.table
        if table != last_table:
            if table not in _CHECKED:
                continue  # the 第二十条 and legacy tables have no identities to check
            found = by_table.get(table)
            cells = by_table[table] = _Cells() if found is None else found
            nums, last_table = cells.nums, table
        # `cells.add(f)`, inline: run for every fact of every report
        key = (f.row_key, f.column_key)
        cells[key] = f
        if f.status == "ok" and (value := f.value) is not None:
            nums[key] = float(value)
        elif key in nums:
            del nums[key]  # a later fact for the same cell replaces the earlier
    findings: list[Finding] = []
    if "applications" in by_table:
        findings.extend(_applications(by_table["applications"]))
    if "appeals" in by_table:
        findings.extend(_appeals(by_table["appeals"]))
    return findings
