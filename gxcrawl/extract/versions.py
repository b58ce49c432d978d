"""What changed between two parsed versions of a report: a unified diff of the clean text, the
metadata fields that differ and the table cells whose value changed. Pure: data in, data out."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DIFF_CONTEXT_LINES = 2  # a report line is a paragraph: two around a change are enough to place it
# The metadata a researcher cites; an edit of any of these is reported.
COMPARED_FIELDS = ("title", "agency", "year", "publish_date", "written_date", "doc_no", "index_no")

CellKey = tuple[str, str, str]  # (table_key, row_key, column_key)


@dataclass(frozen=True)
class CellChange:
    table_key: str
    row_key: str
    column_key: str
    old: float | None  # None: blank, unreadable or absent in that version
    new: float | None

    def describe(self) -> str:
        cell = f"{self.table_key} {self.row_key} × {self.column_key}"
        return f"{cell}: {_num(self.old)} → {_num(self.new)}"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else str(value)


def text_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """A unified diff of two clean texts, line by line; "" when they are equal."""
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        fromfile=old_label,
        tofile=new_label,
        n=DIFF_CONTEXT_LINES,
        lineterm="",
    )
    return "\n".join(lines)


def field_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for the compared metadata fields that differ."""
    out = []
    for name in COMPARED_FIELDS:
        a, b = old.get(name), new.get(name)
        if (None if a is None else str(a)) != (None if b is None else str(b)):
            out.append((name, a, b))
    return out


def cell_changes(
    old: Mapping[CellKey, float | None], new: Mapping[CellKey, float | None]
) -> list[CellChange]:
    """Every table cell whose value differs (a cell present in one version only included)."""
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if (None if a is None else float(a)) != (None if b is None else float(b)):
            changes.append(CellChange(*key, old=a, new=b))
    return changes
