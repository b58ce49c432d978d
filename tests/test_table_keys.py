"""One key vocabulary: every cell the parser emits, and every gold fixture, uses table_keys."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from gxcrawl.extract import tables
from gxcrawl.extract.table_keys import (
    APPEAL_COLUMNS,
    APPLICATION_COLUMNS,
    APPLICATION_ROWS,
    ART20_COLUMNS,
    ART20_ROWS,
    wide_column,
)

GOLD = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "tables").glob("*.facts.json"))
PG_IDENTIFIER = 63  # PostgreSQL truncates longer names silently
GROUP_SUBTOTALS = {"result.withheld", "result.unavailable", "result.not_processed"}


def known(table: str, template: str) -> tuple[set[str], set[str]]:
    """(row keys, column keys) the vocabulary defines for a table of a template."""
    if table == "applications":
        return set(APPLICATION_ROWS) | GROUP_SUBTOTALS, set(APPLICATION_COLUMNS)
    if table == "appeals":
        return {"cases"}, set(APPEAL_COLUMNS)
    return set(ART20_ROWS[table]), set(ART20_COLUMNS[template][table])


@pytest.mark.parametrize("path", GOLD, ids=lambda p: p.name)
def test_gold_fixtures_use_the_vocabulary(path: Path) -> None:
    for fact in json.loads(path.read_text(encoding="utf-8")):
        if fact["template"] == "legacy_stats":
            continue  # legacy keys are the printed indicator names
        rows, cols = known(fact["table"], fact["template"])
        assert fact["row_key"] in rows and fact["column_key"] in cols, fact


def test_every_template_label_is_recognised_by_the_parser() -> None:
    for tpl, by_table in ART20_COLUMNS.items():
        for table, columns in by_table.items():
            specs = dict(
                (k, p) for k, p, _ in tables._ART20_COLS[table.removeprefix("art20_")][tpl]
            )
            assert set(specs) == set(columns)
            for key, label in columns.items():
                norm = unicodedata.normalize("NFKC", label)
                assert re.search(specs[key], norm), (key, label)
    for table, rows in ART20_ROWS.items():
        assert all(tables._names_row(label) for label in rows.values()), table
    for key, path in APPLICATION_ROWS.items():
        assert tables._names_row(path.rsplit("/", 1)[-1]), key


def test_wide_view_names_fit_postgresql() -> None:
    names = [wide_column(r, c) for r in APPLICATION_ROWS for c in APPLICATION_COLUMNS]
    assert max(map(len, names)) <= PG_IDENTIFIER
    assert len(set(names)) == len(names)
    assert wide_column("result.partly_disclosed", "ngo") == "result_partly_disclosed__ngo"
