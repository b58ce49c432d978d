"""Writers for `scrapy export`: the researcher views as CSV, JSON lines or Parquet, plus a data
dictionary (column, type, meaning) and the fact keys with their printed labels beside them."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from gxcrawl.extract.table_keys import (
    APPEAL_COLUMNS,
    APPLICATION_COLUMNS,
    APPLICATION_ROWS,
    wide_column,
)

FORMATS = ("csv", "jsonl", "parquet")

# column -> (type, meaning). Types: int, float, string, date, datetime, json (a JSON text).
_REPORT_ID = ("int", "parsed report id (latest parsed version of the report)")
_COMMON: dict[str, tuple[str, str]] = {
    "report_id": _REPORT_ID,
    "url": ("string", "URL of the report page (or of the file, for attachment-only reports)"),
    "portal_id": ("string", "registry id of the portal it was found on"),
    "agency": ("string", "reporting agency as printed (never a spam string; null when unknown)"),
    "agency_id": ("int", "agency entity id (agencies table); null when the agency is unknown"),
    "agency_name": (
        "string",
        "the agency entity's canonical name: relative names qualified by the portal's region,"
        " suffix variants unified (市财政局 on a 宜春 portal → 宜春市财政局)",
    ),
    "year": ("int", "the year the report covers"),
    "template": ("string", "statistics-table template detected: gb2019, gb2021, legacy_stats"),
}
_REPORT_COLUMNS: dict[str, tuple[str, str]] = {
    **_COMMON,
    "document_id": ("int", "document (canonical URL) id"),
    "snapshot_id": ("int", "raw snapshot the row was parsed from"),
    "title": ("string", "report title"),
    "index_no": ("string", "索引号"),
    "agency_type": (
        "string",
        "government, government_office, department, township or other",
    ),
    "agency_region_code": ("string", "6-digit division code of the agency entity"),
    "province_name": ("string", "province of the agency entity (division code list)"),
    "prefecture_name": (
        "string",
        "prefecture-level city of the agency entity (a municipality for its districts)",
    ),
    "county_name": ("string", "county-level division of the agency entity"),
    "agency_in_title": (
        "int",
        "1 when the title names the agency; 0 when it came from 发布单位, a sign-off or the"
        " registry (such a report is never merged with another in `reports`)",
    ),
    "publisher": ("string", "发布单位 / 发布机构"),
    "source": ("string", "来源"),
    "written_date": ("date", "成文日期 / 发文日期"),
    "publish_date": ("date", "发布日期 / 公开日期"),
    "doc_no": ("string", "文号 / 文件编号"),
    "disclosure_mode": ("string", "公开方式"),
    "validity": ("string", "有效性 / 时效"),
    "category": ("string", "分类 / 主题分类"),
    "region_code": ("string", "6-digit administrative division code"),
    "source_kind": ("string", "html (a report page) or attachment (the report is a file)"),
    "flags": ("json", "extraction flags, e.g. spam_injected, agency_missing"),
    "version": ("int", "version number of the document this row was parsed from"),
    "fetched_at": ("datetime", "when that version was fetched (UTC)"),
    "document_state": ("string", "live, gone, redirected, blocked: the URL's state now"),
    "version_status": (
        "string",
        "current (this is the document's newest version), or what its newer version is:"
        " no_longer_report, parse_failed (see report_changes), not_parsed",
    ),
    "parser_version": ("string", "gxcrawl extraction version that produced the row"),
    "n_findings": ("int", "number of failed table consistency checks"),
    "text": ("string", "clean text of the report, one paragraph or table row per line"),
}
DICTIONARY: dict[str, dict[str, tuple[str, str]]] = {
    "reports": {
        **_REPORT_COLUMNS,
        "n_copies": (
            "int",
            "how many report documents (URLs) carry this agency entity's report of that year",
        ),
    },
    "report_documents": _REPORT_COLUMNS,
    "report_facts": {
        **_COMMON,
        "table_key": (
            "string",
            "stable table id: art20_1 … art20_9, applications, appeals, legacy",
        ),
        "row_key": ("string", "stable row id within the template"),
        "column_key": ("string", "stable column id within the template"),
        "row_label": ("string", "row label as printed in the report"),
        "column_label": ("string", "column header path as printed (joined by /)"),
        "value": ("float", "the number; null when blank or unreadable (never zero-filled)"),
        "unit": ("string", "unit: 件, 条, 万元, 元, …"),
        "raw_text": ("string", "the printed text of an unreadable cell"),
        "status": ("string", "ok, blank or unreadable"),
    },
    "application_table": dict(_COMMON),
    "appeals_table": dict(_COMMON),
    "report_changes": {
        "change_id": ("int", "change id"),
        "document_id": ("int", "document (canonical URL) id"),
        "report_id": _REPORT_ID,
        "url": _COMMON["url"],
        "portal_id": _COMMON["portal_id"],
        "agency": _COMMON["agency"],
        "agency_id": _COMMON["agency_id"],
        "agency_name": _COMMON["agency_name"],
        "year": _COMMON["year"],
        "kind": (
            "string",
            "new, edited, attachment_changed, redirected, gone, reappeared, no_longer_report"
            " (a new version is no report), parse_failed (a new version did not parse)",
        ),
        "detail": ("string", "what changed, or why the new version is no report / failed"),
        "detected_at": ("datetime", "when the change was noticed (UTC)"),
        "from_snapshot_id": ("int", "snapshot before the change"),
        "from_version": ("int", "its version number"),
        "to_snapshot_id": ("int", "snapshot after the change"),
        "to_version": ("int", "its version number"),
    },
}


@dataclass(frozen=True)
class FactKey:
    """One cell of a template table: its keys, its labels as printed, its wide column."""

    table_key: str
    row_key: str
    column_key: str
    row_label: str
    column_label: str
    view: str
    column: str


def fact_keys() -> list[FactKey]:
    """Every cell of the application and appeals tables (gxcrawl/extract/table_keys.py)."""
    cells = [
        FactKey("applications", row, col, row_label, col_label, "application_table",
                wide_column(row, col))
        for row, row_label in APPLICATION_ROWS.items()
        for col, col_label in APPLICATION_COLUMNS.items()
    ]  # fmt: skip
    cells += [
        FactKey("appeals", "cases", col, "", col_label, "appeals_table", wide_column("cases", col))
        for col, col_label in APPEAL_COLUMNS.items()
    ]
    return cells


_WIDE: dict[tuple[str, str], FactKey] = {(k.view, k.column): k for k in fact_keys()}
_TABLE_NAMES = {"applications": "application table (section 三)", "appeals": "appeals (section 四)"}


def describe(view: str, column: str) -> tuple[str, str]:
    known = DICTIONARY.get(view, {}).get(column)
    if known:
        return known
    cell = _WIDE.get((view, column))
    if cell is not None:
        printed = " × ".join(label for label in (cell.row_label, cell.column_label) if label)
        return "float", (
            f"{_TABLE_NAMES[cell.table_key]}: {printed}"
            f" (row_key {cell.row_key}, column_key {cell.column_key})"
        )
    return "string", ""


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "json":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if kind == "datetime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    if kind == "float" and not isinstance(value, float):
        return float(value)
    return value


_ARROW = {
    "int": pa.int64(),
    "float": pa.float64(),
    "string": pa.string(),
    "json": pa.string(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
}


def write_view(
    rows: Iterable[dict[str, Any]],
    columns: list[str],
    view: str,
    fmt: str,
    out_dir: Path,
    on_row: Callable[[], None] = lambda: None,
) -> Path:
    kinds = [describe(view, c)[0] for c in columns]
    path = out_dir / f"{view}.{fmt}"
    typed: Iterator[list[Any]] = (
        [_plain(row.get(c), k) for c, k in zip(columns, kinds, strict=True)] for row in rows
    )
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for values in typed:
                writer.writerow(["" if v is None else v for v in values])
                on_row()
    elif fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for values in typed:
                fh.write(
                    json.dumps(
                        dict(zip(columns, values, strict=True)), ensure_ascii=False, default=str
                    )
                )
                fh.write("\n")
                on_row()
    elif fmt == "parquet":
        schema = pa.schema([(c, _ARROW[k]) for c, k in zip(columns, kinds, strict=True)])
        with pq.ParquetWriter(path, schema) as writer:
            batch: list[list[Any]] = []
            for values in typed:
                batch.append(values)
                on_row()
                if len(batch) >= 2000:
                    writer.write_table(_table(batch, columns, schema))
                    batch = []
            writer.write_table(_table(batch, columns, schema))
    else:
        raise ValueError(f"unknown format {fmt!r}; choose from {FORMATS}")
    return path


def _table(batch: list[list[Any]], columns: list[str], schema: pa.Schema) -> pa.Table:
    arrays = [
        pa.array([row[i] for row in batch], type=schema.field(i).type) for i in range(len(columns))
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_fact_keys(out_dir: Path) -> Path:
    """fact_keys.csv: each cell key of report_facts with its labels as the template prints
    them and the wide-view column that holds it."""
    path = out_dir / "fact_keys.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.name for f in fields(FactKey)])
        for key in fact_keys():
            writer.writerow([getattr(key, f.name) for f in fields(FactKey)])
    return path


def write_dictionary(out_dir: Path, views: dict[str, list[str]]) -> Path:
    path = out_dir / "data_dictionary.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["view", "column", "type", "meaning"])
        for view, columns in views.items():
            for column in columns:
                kind, meaning = describe(view, column)
                writer.writerow([view, column, kind, meaning])
    return path
