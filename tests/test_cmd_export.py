"""`scrapy export` as a command line (issue 6, item 4): after a real crawl, every format writes the
three views and a data dictionary that pandas reads back with the documented columns."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from gxcrawl.store.db import make_engine
from gxcrawl.testing.fixtureserver import serve

from .conftest import FIXTURES, crawl_fixture, run_scrapy

VIEWS = (
    "reports",
    "report_documents",
    "report_facts",
    "application_table",
    "appeals_table",
    "report_changes",
)
# Written beside them by the research workbench (gxcrawl/workbench_export.py).
WORKBENCH = ("report_quality", "report_findings", "report_edits", "coverage")
PORTAL = "fixture-demo"  # the id in fixtures/portals/demo/portal.toml


@dataclass
class Crawled:
    db_url: str
    columns: dict[str, list[str]]  # view -> its columns, from the database


def _count(db_url: str, view: str, where: str = "", **params: object) -> int:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT COUNT(*) FROM {view} {where}"), params).scalar_one()
    engine.dispose()
    return int(n)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('export') / 'crawl.db'}"
    with serve(FIXTURES / "portals" / "demo") as server:
        proc = crawl_fixture("demo", server.base_url, db_url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        columns = {
            v: list(conn.execute(text(f"SELECT * FROM {v} WHERE 1 = 0")).keys()) for v in VIEWS
        }
    engine.dispose()
    return Crawled(db_url, columns)


def _read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_parquet(path)


def _export(crawled: Crawled, out: Path, *args: str) -> None:
    proc = run_scrapy(["export", "--out", str(out), "--quiet", *args], crawled.db_url)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module", params=["csv", "jsonl", "parquet"])
def exported(
    request: pytest.FixtureRequest, crawled: Crawled, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(f"out_{request.param}")
    _export(crawled, out, "--format", request.param)
    return request.param, out


def test_writes_every_view_and_the_dictionary(exported: tuple[str, Path]) -> None:
    fmt, out = exported
    names = {p.name for p in out.iterdir()}
    assert names == {f"{v}.{fmt}" for v in (*VIEWS, *WORKBENCH)} | {
        "data_dictionary.csv",
        "fact_keys.csv",
    }


def test_pandas_reads_back_the_documented_columns(
    exported: tuple[str, Path], crawled: Crawled
) -> None:
    fmt, out = exported
    dictionary = pd.read_csv(out / "data_dictionary.csv", keep_default_na=False)
    assert list(dictionary.columns) == ["view", "column", "type", "meaning"]
    assert set(dictionary["view"]) == {*VIEWS, *WORKBENCH}
    undocumented = dictionary[dictionary["meaning"].str.strip() == ""]
    assert undocumented.empty, f"columns without a meaning: {undocumented[['view', 'column']]}"
    for view in VIEWS:
        frame = _read(out / f"{view}.{fmt}", fmt)
        documented = list(dictionary.loc[dictionary["view"] == view, "column"])
        assert list(frame.columns) == documented == crawled.columns[view], view
        assert len(frame) == _count(crawled.db_url, view) > 0, view


def test_cell_columns_carry_the_view_values(exported: tuple[str, Path], crawled: Crawled) -> None:
    """A spot check of the values: the wide table's total per report, as the database has it."""
    fmt, out = exported
    frame = _read(out / f"application_table.{fmt}", fmt)
    engine = make_engine(crawled.db_url)
    with engine.connect() as conn:
        want: dict[str, float | None] = dict(
            conn.execute(text("SELECT url, new_received__total FROM application_table")).all()
        )
    engine.dispose()
    got = dict(zip(frame["url"], frame["new_received__total"], strict=True))
    assert got.keys() == want.keys()
    for url, value in want.items():
        assert (pd.isna(got[url]) and value is None) or got[url] == value, url


def test_year_filter(crawled: Crawled, tmp_path: Path) -> None:
    _export(crawled, tmp_path, "--format", "csv", "--year", "2020")
    reports = pd.read_csv(tmp_path / "reports.csv")
    total = _count(crawled.db_url, "reports")
    assert 0 < len(reports) == _count(crawled.db_url, "reports", "WHERE year = :y", y=2020) < total
    assert set(reports["year"]) == {2020}
    facts = pd.read_csv(tmp_path / "report_facts.csv")
    assert len(facts) == _count(crawled.db_url, "report_facts", "WHERE year = :y", y=2020)
    assert set(facts["year"]) == {2020}


def test_portal_filter(crawled: Crawled, tmp_path: Path) -> None:
    mine, other = tmp_path / "mine", tmp_path / "other"
    _export(crawled, mine, "--format", "csv", "--portal", PORTAL)
    _export(crawled, other, "--format", "csv", "--portal", "no-such-portal")
    for view in VIEWS:
        kept = pd.read_csv(mine / f"{view}.csv")
        assert len(kept) == _count(crawled.db_url, view) > 0
        assert set(kept["portal_id"]) == {PORTAL}
        none = pd.read_csv(other / f"{view}.csv")
        assert none.empty and list(none.columns) == crawled.columns[view]


def test_unknown_format_is_a_usage_error(crawled: Crawled, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run_scrapy(["export", "--format", "xlsx", "--out", str(out)], crawled.db_url)
    assert proc.returncode != 0
    assert "xlsx" in proc.stderr
    assert not out.exists(), "nothing written on a usage error"


def test_fact_keys_give_each_cell_its_printed_labels_and_wide_column(
    exported: tuple[str, Path], crawled: Crawled
) -> None:
    _, out = exported
    keys = pd.read_csv(out / "fact_keys.csv", keep_default_na=False)
    person = keys[(keys["row_key"] == "new_received") & (keys["column_key"] == "person")]
    assert person[["row_label", "column_label", "view", "column"]].values.tolist() == [
        ["一、本年新收政府信息公开申请数量", "自然人", "application_table", "new_received__person"]
    ]
    for view in ("application_table", "appeals_table"):
        wide = {c for c in crawled.columns[view] if "__" in c}
        assert wide == set(keys.loc[keys["view"] == view, "column"]), view
    dictionary = pd.read_csv(out / "data_dictionary.csv", keep_default_na=False)
    meaning = dictionary.loc[dictionary["column"] == "result_partly_disclosed__ngo", "meaning"]
    assert "部分公开" in meaning.item() and "社会公益组织" in meaning.item()


def test_facts_use_the_keys_of_the_wide_views(crawled: Crawled) -> None:
    """One key scheme: every applications fact of the crawl has its wide column."""
    engine = make_engine(crawled.db_url)
    with engine.connect() as conn:
        cells = conn.execute(
            text("SELECT DISTINCT row_key, column_key FROM report_facts"
                 " WHERE table_key = 'applications'")
        ).all()  # fmt: skip
    engine.dispose()
    assert cells
    wide = set(crawled.columns["application_table"])
    missing = {f"{r.replace('.', '_')}__{c}" for r, c in cells} - wide
    assert not missing
