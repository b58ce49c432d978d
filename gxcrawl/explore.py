"""`make explore`: the store in Datasette, for researchers — titles, descriptions and units, the
Chinese label of every table key, canned queries for the questions evaluations ask, and
full-text search over report text that works for Chinese (SQLite FTS5 trigram tokenizer).

`python -m gxcrawl.explore [--db PATH_OR_SQLITE_URL] [--port 8001] [--prepare-only]` adds the
derived search index and label table to the SQLite store (rebuilt on each start, never part of
the Alembic schema) and serves it on 127.0.0.1. PostgreSQL stores are exported, not served.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from gxcrawl.extract.table_keys import (
    APPEAL_COLUMNS,
    APPLICATION_COLUMNS,
    APPLICATION_ROWS,
    wide_column,
)
from gxcrawl.store import search_index as store_search
from gxcrawl.workbench_export import WORKBENCH_DICTIONARY

DEFAULT_DB = "data/gxcrawl.db"
DEFAULT_PORT = 8001
HOST = "127.0.0.1"  # researchers' own machine; put a proxy in front to share it
FTS_TABLE, LABELS_TABLE = store_search.FTS_TABLE, store_search.LABELS_TABLE
NEAR_COPY_DEFAULT = 0.9  # the published evaluations' threshold for a copied report
# Datasette settings that keep every page under a second on wide views (application_table has
# 188 columns: facet suggestions over them took 30 s) and long texts.
SETTINGS = {
    "suggest_facets": "off",
    "facet_time_limit_ms": "200",
    "sql_time_limit_ms": "1000",  # no query holds a page longer; slow counts are dropped
    "default_page_size": "50",
    "truncate_cells_html": "160",
    "allow_download": "off",
}


# application_table has 188 columns: 20 rows a page keep its HTML (and the page) fast.
WIDE_PAGE_SIZE = 20


def sqlite_path(db: str) -> Path:
    """The SQLite file of a path or a `sqlite:///` URL; other databases are refused."""
    if "://" in db:
        if not db.startswith("sqlite:///"):
            raise SystemExit(
                f"explore serves SQLite stores only; export {db.split('://')[0]} with "
                "`scrapy export` or copy it to SQLite"
            )
        db = db[len("sqlite:///") :]
    path = Path(db)
    if not path.is_file():
        raise SystemExit(f"no SQLite store at {path}: run `make demo` or a crawl first")
    return path


def key_labels() -> list[tuple[str, str, str, str]]:
    """(table_key, kind, key, label as printed) for every row and column key, plus the wide
    column names of application_table."""
    out = [("applications", "row", k, v) for k, v in APPLICATION_ROWS.items()]
    out += [("applications", "column", k, v) for k, v in APPLICATION_COLUMNS.items()]
    out += [("appeals", "column", k, v) for k, v in APPEAL_COLUMNS.items()]
    out += [
        ("applications", "wide_column", wide_column(r, c), f"{rl} × {cl}")
        for r, rl in APPLICATION_ROWS.items()
        for c, cl in APPLICATION_COLUMNS.items()
    ]
    return out


def prepare(path: Path) -> int:
    """Add the derived search index and label table; the number of reports indexed."""
    return store_search.prepare(path, key_labels())


CANNED_QUERIES: dict[str, dict[str, str]] = {
    "reports_by_region_year": {
        "title": "Reports by region × year",
        "sql": (
            "SELECT p.province, r.region_code, r.year, COUNT(*) AS reports\n"
            "FROM reports r LEFT JOIN portals p ON p.id = r.portal_id\n"
            "GROUP BY p.province, r.region_code, r.year ORDER BY p.province, r.region_code, r.year"
        ),
    },
    "late_reports": {
        "title": "Late reports (published after the deadline)",
        "sql": (
            "SELECT agency, year, reporter_type, publish_date, deadline, days_late, url\n"
            "FROM report_quality WHERE days_late > 0 ORDER BY days_late DESC, agency"
        ),
    },
    "missing_sections": {
        "title": "Reports missing a required part (一…六)",
        "sql": (
            "SELECT agency, year, sections_missing, url FROM report_quality\n"
            "WHERE n_sections_missing > 0 ORDER BY n_sections_missing DESC, agency, year"
        ),
    },
    "near_copies": {
        "title": "Near-copies: reports whose prose repeats another's",
        "sql": (
            "SELECT agency, year, similarity, similar_url, url FROM report_quality\n"
            "WHERE similarity >= COALESCE(NULLIF(:min_similarity, ''), "
            f"{NEAR_COPY_DEFAULT})\nORDER BY similarity DESC, agency, year"
        ),
    },
    "failed_checks": {
        "title": "Failed consistency checks of the statistics tables",
        "sql": (
            "SELECT r.agency, r.year, f.rule, f.table_key, f.row_key, f.column_key, f.expected,"
            " f.actual, f.detail, r.url\nFROM report_findings f "
            "JOIN reports r ON r.report_id = f.parsed_report_id ORDER BY r.agency, r.year"
        ),
    },
    "edited_reports": {
        "title": "Reports edited after publication",
        "sql": (
            "SELECT url, detected_at, old_title, new_title, old_snapshot_id, new_snapshot_id\n"
            "FROM report_edits ORDER BY detected_at DESC"
        ),
    },
    "spam_injected": {
        "title": "Report pages with injected gambling/SEO spam",
        "sql": (
            "SELECT agency, year, title, url FROM report_documents\n"
            "WHERE flags LIKE '%spam_injected%' ORDER BY agency, year"
        ),
    },
    "search_text": {
        "title": "Full-text search of report text (three or more characters)",
        "sql": (
            "SELECT r.agency, r.year, r.title, r.url,\n"
            f"       snippet({FTS_TABLE}, 2, '【', '】', '…', 16) AS snippet\n"
            f"FROM {FTS_TABLE} JOIN reports r ON r.report_id = {FTS_TABLE}.rowid\n"
            f"WHERE {FTS_TABLE} MATCH :q ORDER BY rank LIMIT 100"
        ),
    },
}


def _application_columns() -> dict[str, str]:
    return {
        wide_column(r, c): f"{rl} × {cl} (件)"
        for r, rl in APPLICATION_ROWS.items()
        for c, cl in APPLICATION_COLUMNS.items()
    }


def _report_columns() -> dict[str, str]:
    from gxcrawl.export import DICTIONARY

    return {col: meaning for col, (_kind, meaning) in DICTIONARY["reports"].items()}


def metadata(db_name: str) -> dict[str, Any]:
    """Datasette metadata: titles, descriptions, units, labels, search and canned queries."""
    quality = {c: m for c, (_k, m) in WORKBENCH_DICTIONARY["report_quality"].items()}
    tables: dict[str, Any] = {
        "reports": {
            "description": "One row per agency × year report (copies collapsed).",
            "columns": _report_columns(),
            "fts_table": FTS_TABLE,
            "fts_pk": "report_id",
        },
        "report_quality": {
            "description": "Lateness, missing parts, nearest other report, carry-over check.",
            "columns": quality,
            "units": {"days_late": "day"},
        },
        "application_table": {
            "description": "Section 三 wide: one column per cell, <row>__<column>.",
            "size": WIDE_PAGE_SIZE,
            "columns": _application_columns(),
        },
        "report_facts": {"description": "Statistics tables in long format (labels as printed)."},
        "report_edits": {"description": "Reports edited after publication: old and new text."},
        "key_labels": {"description": "The Chinese label of every row, column and wide key."},
        "bodies": {"hidden": True},
        "alembic_version": {"hidden": True},
    }
    return {
        "title": "gxcrawl: 政府信息公开工作年度报告",
        "description": (
            "Chinese government information-disclosure annual reports, every version kept. "
            "Search report text with three or more characters (trigram index)."
        ),
        "databases": {db_name: {"tables": tables, "queries": CANNED_QUERIES}},
    }


def datasette_command(path: Path, metadata_file: Path, port: int) -> list[str]:
    cmd = [sys.executable, "-m", "datasette", "serve", str(path), "--metadata", str(metadata_file)]
    cmd += ["--host", HOST, "--port", str(port)]
    for name, value in SETTINGS.items():
        cmd += ["--setting", name, value]
    return cmd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", default=os.environ.get("GXCRAWL_DATABASE_URL") or DEFAULT_DB)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--prepare-only", action="store_true", help="index, write, exit")
    args = parser.parse_args(argv)
    path = sqlite_path(args.db)
    n = prepare(path)
    meta_dir = Path(tempfile.mkdtemp(prefix="gxcrawl-explore-"))
    meta_file = meta_dir / "metadata.json"
    meta_file.write_text(json.dumps(metadata(path.stem), ensure_ascii=False, indent=1), "utf-8")
    print(f"{n} reports indexed for search; metadata in {meta_file}", flush=True)
    if args.prepare_only:
        return
    print(f"serving {path} on http://{HOST}:{args.port}/", flush=True)
    os.execv(sys.executable, datasette_command(path, meta_file, args.port))


if __name__ == "__main__":
    main()
