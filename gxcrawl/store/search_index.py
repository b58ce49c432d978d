"""Derived tables for Datasette (`make explore`): an FTS5 trigram index over the reports and a
table of every statistics key with its printed label. SQLite only; rebuilt on each start."""

from __future__ import annotations

import sqlite3
from pathlib import Path

FTS_TABLE = "report_text_fts"
LABELS_TABLE = "key_labels"


def build_search_index(conn: sqlite3.Connection) -> int:
    """(Re)build the FTS5 trigram index over the reports' title, agency and text; rowid is the
    report_id. Trigrams match any Chinese substring of three or more characters."""
    conn.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    conn.execute(
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, agency, text, tokenize='trigram')"
    )
    conn.execute(
        f"INSERT INTO {FTS_TABLE} (rowid, title, agency, text) "
        "SELECT report_id, title, agency, text FROM reports"
    )
    return int(conn.execute(f"SELECT COUNT(*) FROM {FTS_TABLE}").fetchone()[0])


def build_labels(conn: sqlite3.Connection, labels: list[tuple[str, str, str, str]]) -> None:
    """The key_labels table: the vocabulary's labels, then the store's most common printed ones."""
    conn.execute(f"DROP TABLE IF EXISTS {LABELS_TABLE}")
    conn.execute(
        f"CREATE TABLE {LABELS_TABLE} (table_key TEXT, kind TEXT, key TEXT, label TEXT, "
        "PRIMARY KEY (table_key, kind, key))"
    )
    conn.executemany(f"INSERT INTO {LABELS_TABLE} VALUES (?, ?, ?, ?)", labels)
    # Keys the vocabulary module does not name (section 二 tables, legacy statistics): their
    # most common printed label in the store.
    for kind in ("row", "column"):
        conn.execute(
            f"INSERT OR IGNORE INTO {LABELS_TABLE} "
            f"SELECT table_key, '{kind}', {kind}_key, {kind}_label FROM ("
            f"  SELECT table_key, {kind}_key, {kind}_label, ROW_NUMBER() OVER ("
            f"    PARTITION BY table_key, {kind}_key ORDER BY COUNT(*) DESC, {kind}_label"
            f"  ) AS rank FROM facts WHERE {kind}_label IS NOT NULL"
            f"  GROUP BY table_key, {kind}_key, {kind}_label"
            ") WHERE rank = 1"
        )


def prepare(path: Path, labels: list[tuple[str, str, str, str]]) -> int:
    """Add the search index and the label table to the store at `path`; reports indexed."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            n = build_search_index(conn)
            build_labels(conn, labels)
    finally:
        conn.close()
    return n
