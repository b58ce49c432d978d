"""Issue 15, item 4: the workbench views exported — quality, findings, edits with a unified diff,
coverage — in CSV, JSON lines and Parquet, with lists as real Arrow lists."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gxcrawl.store.quality import refresh_quality_scores
from gxcrawl.workbench_export import as_list, dictionary_rows, export_workbench

from .workbench_store import EDU, build_store, record_page, render


@pytest.fixture
def exported(sqlite_url: str, tmp_path: Path) -> Path:
    db, pages = build_store(sqlite_url)
    page = pages[2]  # 江城市教育局 2022 edited: part 五 restored
    page.drop_part_five = False
    record_page(db, page.url, render(page), when=dt.datetime(2024, 6, 1))
    with db.transaction() as session:
        refresh_quality_scores(session)
    with db.sessions() as session:
        for fmt in ("csv", "jsonl", "parquet"):
            export_workbench(session, tmp_path, fmt)
    db.close()
    return tmp_path


def test_parquet_lists_are_lists(exported: Path) -> None:
    table = pq.read_table(exported / "report_quality.parquet")
    assert table.schema.field("sections_missing").type == pa.list_(pa.string())
    assert table.schema.field("days_late").type == pa.int64()
    assert table.schema.field("carry_forward_ok").type == pa.bool_()
    rows = {(r["agency"], r["year"]): r for r in table.to_pylist()}
    assert rows[(EDU, 2021)]["days_late"] == 10
    assert rows[(EDU, 2022)]["sections_missing"] == []  # complete since the edit
    assert rows[(EDU, 2021)]["similar_url"] == rows[(EDU, 2020)]["url"]


def test_edits_carry_a_unified_diff(exported: Path) -> None:
    edits = [json.loads(line) for line in (exported / "report_edits.jsonl").open()]
    assert len(edits) == 1
    diff = edits[0]["diff"].splitlines()
    assert diff[0].startswith("--- snapshot ") and diff[1].startswith("+++ snapshot ")
    assert "+五、存在的主要问题及改进情况" in diff


def test_coverage_and_findings_exported(exported: Path) -> None:
    with (exported / "coverage.csv").open(encoding="utf-8") as fh:
        cov = {(r["agency"], r["year"]): r["status"] for r in csv.DictReader(fh)}
    assert cov[(EDU, "2021")] == "late" and cov[(EDU, "2019")] == "missing"
    findings = pq.read_table(exported / "report_findings.parquet")
    assert set(findings.column_names) >= {"report_id", "rule", "expected", "actual"}


def test_csv_lists_are_json_arrays_and_dictionary_covers_columns(exported: Path) -> None:
    with (exported / "report_quality.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    described = {(v, c) for v, c, _k, _m in dictionary_rows()}
    assert all(("report_quality", c) in described for c in header)
    assert as_list("五,六") == ["五", "六"] and as_list("") == [] and as_list('["a"]') == ["a"]


def test_dictionary_appended(tmp_path: Path) -> None:
    from gxcrawl.workbench_export import append_dictionary

    path = tmp_path / "data_dictionary.csv"
    path.write_text("view,column,type,meaning\n", encoding="utf-8")
    append_dictionary(path)
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {"view": "report_quality", "column": "days_late", "type": "int"}.items() <= next(
        r for r in rows if r["column"] == "days_late"
    ).items()
