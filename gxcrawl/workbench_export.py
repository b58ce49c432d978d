"""`scrapy export` for the workbench: the quality, findings, edits (with a unified diff) and
coverage views in CSV, JSON lines or Parquet — lists as real Arrow lists (`list<string>`), never
JSON strings — and the raw snapshots as WARC.

Hooks for `gxcrawl/commands/export.py`: `export_workbench(session, out, fmt, portal=…, year=…)`
after the four core views, and `--format warc` → `export_warc(session, out, portal=…)`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from gxcrawl.coverage import coverage_grid
from gxcrawl.extract.versions import text_diff
from gxcrawl.store.quality import SECTION_SEPARATOR
from gxcrawl.store.workbench import (
    coverage_reports,
    iter_raw_snapshots,
    iter_workbench_view,
    workbench_view_columns,
)
from gxcrawl.warc import write_warc

WORKBENCH_FORMATS = ("csv", "jsonl", "parquet")
PARQUET_BATCH = 2000  # rows per Parquet row group write: bounded memory on a national store

# column -> (type, meaning); types: int, float, bool, string, date, datetime, list (of strings).
_R = {
    "report_id": ("int", "parsed report id (the row of `reports`)"),
    "url": ("string", "URL of the report"),
    "portal_id": ("string", "registry id of the portal it was found on"),
    "agency": ("string", "reporting agency"),
    "year": ("int", "the year the report covers"),
}
WORKBENCH_DICTIONARY: dict[str, dict[str, tuple[str, str]]] = {
    "report_quality": {
        **_R,
        "title": ("string", "report title"),
        "publish_date": ("date", "发布日期: when the report was published"),
        "reporter_type": ("string", "government, government_office, department, township, other"),
        "deadline": ("date", "last day to publish (条例 2019 Art. 49; 2007 Art. 31 before 2019)"),
        "days_late": ("int", "publish date minus deadline in days (≤ 0 on time; null undated)"),
        "sections_missing": ("list", "parts 一…六 absent (empty: none; null: text unread)"),
        "n_sections_missing": ("int", "how many required parts are absent"),
        "similar_url": ("string", "the most similar other report (null: none ≥ 0.5)"),
        "similarity": ("float", "MinHash Jaccard of the template-stripped prose, 0–1"),
        "carry_forward_ok": (
            "bool",
            "last year's 结转下年度 = this year's 上年结转 (null: no data)",
        ),
        "n_shingles": ("int", "distinct 5-character n-grams of the report's own prose"),
        "computed_at": ("datetime", "when the measures were computed (UTC)"),
    },
    "report_findings": {
        **_R,
        "rule": ("string", "consistency check that failed: balance, outcomes, row_total, …"),
        "table_key": ("string", "table of the failed check"),
        "row_key": ("string", "row of the failed check"),
        "column_key": ("string", "column of the failed check"),
        "expected": ("float", "the value the identity requires"),
        "actual": ("float", "the value printed"),
        "detail": ("string", "the check in words"),
    },
    "report_edits": {
        "change_id": ("int", "change id"),
        "document_id": ("int", "document (URL) id"),
        "url": ("string", "URL of the edited report"),
        "kind": ("string", "always edited"),
        "detected_at": ("datetime", "when the edit was noticed (UTC)"),
        "old_snapshot_id": ("int", "snapshot before the edit"),
        "new_snapshot_id": ("int", "snapshot after the edit"),
        "old_title": ("string", "title before"),
        "new_title": ("string", "title after"),
        "old_text": ("string", "clean text before"),
        "new_text": ("string", "clean text after"),
        "diff": ("string", "unified diff of the clean texts (old → new)"),
    },
    "coverage": {
        "agency": ("string", "agency"),
        "year": ("int", "report year"),
        "status": ("string", "on_time, late, undated (no publish date) or missing"),
        "days_late": ("int", "days after the deadline (≤ 0 on time)"),
        "publish_date": ("date", "publish date"),
        "url": ("string", "the report (null when missing)"),
        "portal_id": ("string", "portal"),
        "province": ("string", "province of the portal"),
    },
}
_ARROW = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "string": pa.string(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "list": pa.list_(pa.string()),
}


def as_list(value: Any) -> list[str] | None:
    """A list column's value as a list: JSON arrays, comma-joined strings ("五,六") and lists."""
    if value is None:
        return None
    if isinstance(value, list):
        return [str(v) for v in value]
    raw = str(value).strip()
    if raw.startswith("["):
        return [str(v) for v in json.loads(raw)]
    return [part for part in raw.split(SECTION_SEPARATOR) if part]


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "list":
        return as_list(value)
    if kind == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if kind == "datetime" and not isinstance(value, dt.datetime):
        return dt.datetime.fromisoformat(str(value))
    if kind == "bool":
        return bool(value)
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    return value


def write_rows(
    rows: Iterable[dict[str, Any]], view: str, columns: list[str], fmt: str, out_dir: Path
) -> tuple[Path, int]:
    """Write one view's rows with its dictionary's types; the file and the row count."""
    kinds = [WORKBENCH_DICTIONARY[view].get(c, ("string", ""))[0] for c in columns]
    typed = ([_typed(r.get(c), k) for c, k in zip(columns, kinds, strict=True)] for r in rows)
    path = out_dir / f"{view}.{fmt}"
    if fmt == "csv":
        return path, _write_csv(typed, columns, kinds, path)
    if fmt == "jsonl":
        return path, _write_jsonl(typed, columns, path)
    if fmt == "parquet":
        return path, _write_parquet(typed, columns, kinds, path)
    raise ValueError(f"unknown format {fmt!r}; choose from {WORKBENCH_FORMATS}")


def _write_csv(rows: Iterator[list[Any]], columns: list[str], kinds: list[str], path: Path) -> int:
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for values in rows:
            writer.writerow([_csv_cell(v, k) for v, k in zip(values, kinds, strict=True)])
            n += 1
    return n


def _csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "list":
        return json.dumps(value, ensure_ascii=False)  # CSV has no lists: a JSON array
    return value


def _write_jsonl(rows: Iterator[list[Any]], columns: list[str], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for values in rows:
            record = dict(zip(columns, values, strict=True))
            fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            n += 1
    return n


def _write_parquet(
    rows: Iterator[list[Any]], columns: list[str], kinds: list[str], path: Path
) -> int:
    schema = pa.schema([(c, _ARROW[k]) for c, k in zip(columns, kinds, strict=True)])
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[list[Any]] = []
        for values in rows:
            batch.append(values)
            n += 1
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(_table(batch, schema))
                batch = []
        writer.write_table(_table(batch, schema))
    return n


def _table(batch: list[list[Any]], schema: pa.Schema) -> pa.Table:
    arrays = [pa.array([row[i] for row in batch], type=f.type) for i, f in enumerate(schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def _with_diff(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        old, new = f"snapshot {row['old_snapshot_id']}", f"snapshot {row['new_snapshot_id']}"
        yield {**row, "diff": text_diff(row["old_text"] or "", row["new_text"] or "", old, new)}


def _filtered(
    rows: Iterable[dict[str, Any]], portal: str | None, year: int | None
) -> Iterator[dict[str, Any]]:
    for row in rows:
        if portal and "portal_id" in row and row["portal_id"] != portal:
            continue
        if year and "year" in row and row["year"] != year:
            continue
        yield row


def export_workbench(
    session: Session, out_dir: Path, fmt: str, *, portal: str | None = None, year: int | None = None
) -> dict[str, tuple[Path, int]]:
    """Write report_quality, report_findings, report_edits (with diff) and coverage."""
    written: dict[str, tuple[Path, int]] = {}
    for view in ("report_quality", "report_findings", "report_edits"):
        columns = workbench_view_columns(session, view)
        rows: Iterable[dict[str, Any]] = _filtered(iter_workbench_view(session, view), portal, year)
        if view == "report_edits":
            columns, rows = [*columns, "diff"], _with_diff(rows)
        written[view] = write_rows(rows, view, columns, fmt, out_dir)
    cells = coverage_grid(coverage_reports(session, portal=portal), [year] if year else None)
    grid = (
        {"agency": c.agency, "year": c.year, "status": c.status,
         **({k: getattr(c.report, k) for k in
             ("days_late", "publish_date", "url", "portal_id", "province")} if c.report else {})}
        for c in cells
    )  # fmt: skip
    written["coverage"] = write_rows(
        grid, "coverage", list(WORKBENCH_DICTIONARY["coverage"]), fmt, out_dir
    )
    return written


def export_warc(session: Session, out_dir: Path, *, portal: str | None = None) -> tuple[Path, int]:
    """Every stored response (all versions) as one gzipped WARC file."""
    return write_warc(iter_raw_snapshots(session, portal=portal), out_dir)


def dictionary_rows() -> Iterator[tuple[str, str, str, str]]:
    """(view, column, type, meaning) of the workbench views, for data_dictionary.csv."""
    for view, columns in WORKBENCH_DICTIONARY.items():
        for column, (kind, meaning) in columns.items():
            yield view, column, kind, meaning


def append_dictionary(path: Path) -> Path:
    """Add the workbench views' columns to an existing data_dictionary.csv."""
    with path.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(dictionary_rows())
    return path
