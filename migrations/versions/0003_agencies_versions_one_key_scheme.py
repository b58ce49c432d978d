"""agencies as entities, reports by agency entity x year, version status, one key scheme

Adds `agencies` (+ `parsed_reports.agency_id`), `parsed_reports.source` (来源),
`attachment_texts.html`; renames the application table's old column keys in stored facts and
findings to the one scheme of `gxcrawl/extract/table_keys.py`; links stored reports to agency
entities; and recreates the views: `report_documents` (newest version + `version_status`),
`reports` (one row per agency entity x year), `report_facts`, `application_table` and
`appeals_table` (wide, named by `table_keys.wide_column`), `report_edits`, `report_changes`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from gxcrawl.extract.table_keys import (
    APPEAL_COLUMNS,
    APPLICATION_COLUMNS,
    APPLICATION_ROWS,
    wide_column,
)
from gxcrawl.store.agencies import link_agencies
from gxcrawl.store.parsed import LEGACY_APPLICATION_COLUMNS, UNPARSED_KINDS

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_VIEWS = ("application_table", "report_facts", "report_edits", "reports", "report_documents")
NEW_VIEWS = (
    "report_changes",
    "appeals_table",
    "application_table",
    "report_facts",
    "report_edits",
    "reports",
    "report_documents",
)  # in drop order: each view before the ones it reads

_UNPARSED = ", ".join(f"'{kind}'" for kind in UNPARSED_KINDS)

# Whether a document's newest content version is the parsed version shown: `current`, or what
# became of the newer one: `no_longer_report` / `parse_failed` (a recorded change, with its
# reason in report_changes), `not_parsed` (not extracted yet).
_VERSION_STATUS = f"""CASE WHEN n.newest IS NULL OR n.newest <= s.version THEN 'current'
            ELSE COALESCE((
                SELECT c.kind FROM changes c JOIN snapshots cs ON cs.id = c.to_snapshot_id
                WHERE cs.document_id = p.document_id AND cs.version = n.newest
                  AND c.kind IN ({_UNPARSED})
                ORDER BY c.id DESC LIMIT 1
            ), 'not_parsed') END"""

# 1 when the title names the agency: the report identifies itself. Otherwise the agency came
# from 发布单位, a sign-off or the registry, and the report may be a department's filed under
# its government: too weak to merge it with (and hide) another report of that agency.
_AGENCY_IN_TITLE = (
    "CASE WHEN p.agency IS NOT NULL AND p.title LIKE ('%' || p.agency || '%') THEN 1 ELSE 0 END"
)

_COLUMNS = """report_id, document_id, snapshot_id, url, portal_id, agency, agency_id, agency_name,
       agency_type, agency_region_code, province_name, prefecture_name, county_name,
       agency_in_title, year,
       title, index_no, publisher, source, written_date, publish_date, doc_no, disclosure_mode,
       validity, category, region_code, template, source_kind, flags, version, fetched_at,
       document_state, version_status, parser_version, n_findings, text"""

# One row per report document (URL): its newest parsed version, with its agency entity.
REPORT_DOCUMENTS = f"""
CREATE VIEW report_documents AS
SELECT p.id AS report_id, p.document_id, p.snapshot_id, d.url, p.portal_id, p.agency,
       p.agency_id, a.name AS agency_name, a.type AS agency_type,
       a.region_code AS agency_region_code, a.province_name, a.prefecture_name, a.county_name,
       {_AGENCY_IN_TITLE} AS agency_in_title, p.year, p.title, p.index_no, p.publisher,
       p.source, p.written_date, p.publish_date,
       p.doc_no, p.disclosure_mode, p.validity, p.category, p.region_code, p.template,
       p.source_kind, p.flags, s.version, s.fetched_at, d.state AS document_state,
       {_VERSION_STATUS} AS version_status,
       p.parser_version,
       (SELECT COUNT(*) FROM report_findings rf WHERE rf.parsed_report_id = p.id) AS n_findings,
       p.text
FROM parsed_reports p
JOIN snapshots s ON s.id = p.snapshot_id
JOIN documents d ON d.id = p.document_id
LEFT JOIN agencies a ON a.id = p.agency_id
LEFT JOIN (
    SELECT document_id, MAX(version) AS newest FROM snapshots
    WHERE disposition = 'content' GROUP BY document_id
) n ON n.document_id = p.document_id
WHERE s.version = (
    SELECT MAX(s2.version) FROM snapshots s2
    JOIN parsed_reports p2 ON p2.snapshot_id = s2.id
    WHERE s2.document_id = p.document_id
)
"""

# One row per agency entity x year. Copies of one report (a page and its PDF listed
# separately, the same report in two columns or on two portals) collapse to one, preferring a
# current version, a live page, HTML over a file, then the newest; n_copies counts them.
# Reports with no agency entity, no year, or a title that does not name the agency are never
# merged.
_COPIES = """PARTITION BY rd.agency_id, rd.year,
                        CASE WHEN rd.agency_id IS NULL OR rd.agency_in_title = 0
                             OR rd.year IS NULL THEN rd.report_id END"""
REPORTS = f"""
CREATE VIEW reports AS
SELECT {_COLUMNS}, n_copies
FROM (
    SELECT rd.*,
           ROW_NUMBER() OVER (
               {_COPIES}
               ORDER BY CASE WHEN rd.version_status = 'current' THEN 0 ELSE 1 END,
                        CASE WHEN rd.document_state = 'live' THEN 0 ELSE 1 END,
                        CASE WHEN rd.source_kind = 'html' THEN 0 ELSE 1 END,
                        CASE WHEN rd.publish_date IS NULL THEN 1 ELSE 0 END,
                        rd.publish_date DESC, rd.fetched_at DESC, rd.report_id DESC
           ) AS copy_rank,
           COUNT(*) OVER ({_COPIES}) AS n_copies
    FROM report_documents rd
) ranked
WHERE copy_rank = 1
"""

REPORT_EDITS = """
CREATE VIEW report_edits AS
SELECT c.id AS change_id, c.document_id, d.url, c.kind, c.detected_at,
       o.snapshot_id AS old_snapshot_id, n.snapshot_id AS new_snapshot_id,
       o.title AS old_title, n.title AS new_title, o.text AS old_text, n.text AS new_text
FROM changes c
JOIN documents d ON d.id = c.document_id
JOIN parsed_reports o ON o.snapshot_id = c.from_snapshot_id
JOIN parsed_reports n ON n.snapshot_id = c.to_snapshot_id
WHERE c.kind = 'edited'
"""

# Every recorded change of a report document: edits, deletions, and new versions that are no
# longer a report or failed to parse (`detail` gives the reason).
REPORT_CHANGES = """
CREATE VIEW report_changes AS
SELECT c.id AS change_id, c.document_id, rd.report_id, d.url, d.portal_id, rd.agency,
       rd.agency_id, rd.agency_name, rd.year, c.kind, c.detail, c.detected_at,
       c.from_snapshot_id, fs.version AS from_version, c.to_snapshot_id, ts.version AS to_version
FROM changes c
JOIN documents d ON d.id = c.document_id
JOIN report_documents rd ON rd.document_id = c.document_id
LEFT JOIN snapshots fs ON fs.id = c.from_snapshot_id
LEFT JOIN snapshots ts ON ts.id = c.to_snapshot_id
"""

_ID_COLUMNS = (
    "r.report_id, r.url, r.portal_id, r.agency, r.agency_id, r.agency_name, r.year, r.template"
)

REPORT_FACTS = f"""
CREATE VIEW report_facts AS
SELECT {_ID_COLUMNS}, f.table_key, f.row_key, f.column_key, f.row_label, f.column_label,
       f.value, f.unit, f.raw_text, f.status
FROM reports r
JOIN facts f ON f.parsed_report_id = r.report_id
"""


def wide_view_sql(view: str, table_key: str, cells: list[tuple[str, str]]) -> str:
    """A wide view of one statistics table: one row per report, one column per cell named by
    `table_keys.wide_column`; a cell with no fact is NULL, never zero."""
    columns = ",\n".join(
        f"       MAX(CASE WHEN f.row_key = '{row}' AND f.column_key = '{col}' THEN f.value END)"
        f" AS {wide_column(row, col)}"
        for row, col in cells
    )
    return f"""
CREATE VIEW {view} AS
SELECT {_ID_COLUMNS},
{columns}
FROM reports r
JOIN facts f ON f.parsed_report_id = r.report_id AND f.table_key = '{table_key}'
GROUP BY {_ID_COLUMNS}
"""


APPLICATION_CELLS = [(row, col) for row in APPLICATION_ROWS for col in APPLICATION_COLUMNS]
APPEAL_CELLS = [("cases", col) for col in APPEAL_COLUMNS]


def _rename_legacy_keys() -> None:
    """Stored facts and findings of older parsers: application columns to the one scheme."""
    for table in ("facts", "report_findings"):
        for old, new in LEGACY_APPLICATION_COLUMNS.items():
            op.execute(
                sa.text(
                    f"UPDATE {table} SET column_key = :new"
                    " WHERE table_key = 'applications' AND column_key = :old"
                ).bindparams(old=old, new=new)
            )


FK_AGENCY = "fk_parsed_reports_agency_id_agencies"


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _has_column(table: str, column: str) -> bool:
    """On SQLite a downgrade leaves 0003's columns and table in place (see downgrade)."""
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _add_agency_link() -> None:
    """parsed_reports.agency_id with its foreign key. SQLite cannot add a constraint, and a
    batch copy would drop parsed_reports, cascading to its facts: there the constraint goes
    into the ADD COLUMN itself."""
    if _has_column("parsed_reports", "agency_id"):
        return
    if _sqlite():
        op.execute(
            "ALTER TABLE parsed_reports ADD COLUMN agency_id INTEGER"
            f" CONSTRAINT {FK_AGENCY} REFERENCES agencies (id)"
        )
    else:
        op.add_column("parsed_reports", sa.Column("agency_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK_AGENCY, "parsed_reports", "agencies", ["agency_id"], ["id"])
    op.create_index(op.f("ix_parsed_reports_agency_id"), "parsed_reports", ["agency_id"])


def _create_agencies() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("province_code", sa.String(length=6), nullable=True),
        sa.Column("province_name", sa.String(length=64), nullable=True),
        sa.Column("prefecture_code", sa.String(length=6), nullable=True),
        sa.Column("prefecture_name", sa.String(length=64), nullable=True),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("county_name", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agencies")),
        sa.UniqueConstraint("name", "region_code", name=op.f("uq_agencies_name_region_code")),
    )


def upgrade() -> None:
    for view in OLD_VIEWS:
        op.execute(f"DROP VIEW {view}")
    if not sa.inspect(op.get_bind()).has_table("agencies"):
        _create_agencies()
    _add_agency_link()
    if not _has_column("parsed_reports", "source"):
        op.add_column("parsed_reports", sa.Column("source", sa.Text(), nullable=True))
    if not _has_column("attachment_texts", "html"):
        op.add_column("attachment_texts", sa.Column("html", sa.Text(), nullable=True))
    _rename_legacy_keys()
    session = Session(bind=op.get_bind())
    link_agencies(session)
    session.flush()
    op.execute(REPORT_DOCUMENTS)
    op.execute(REPORTS)
    op.execute(REPORT_EDITS)
    op.execute(REPORT_CHANGES)
    op.execute(REPORT_FACTS)
    op.execute(wide_view_sql("application_table", "applications", APPLICATION_CELLS))
    op.execute(wide_view_sql("appeals_table", "appeals", APPEAL_CELLS))


def _views_of_0002() -> list[str]:
    path = Path(__file__).with_name("0002_report_views.py")
    spec = importlib.util.spec_from_file_location("gxcrawl_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [
        module.REPORT_DOCUMENTS,
        module.REPORTS,
        module.REPORT_EDITS,
        module.REPORT_FACTS,
        module.application_table_sql(),
    ]


def downgrade() -> None:
    for view in NEW_VIEWS:
        op.execute(f"DROP VIEW {view}")
    if _sqlite():
        # Dropping a referencing column needs a table copy on SQLite, and dropping the old
        # parsed_reports would cascade to its facts: the new columns and table stay, unused.
        op.execute("UPDATE parsed_reports SET agency_id = NULL")
    else:
        op.drop_constraint(FK_AGENCY, "parsed_reports", type_="foreignkey")
        op.drop_index(op.f("ix_parsed_reports_agency_id"), "parsed_reports")
        op.drop_column("parsed_reports", "agency_id")
        op.drop_column("parsed_reports", "source")
        op.drop_column("attachment_texts", "html")
        op.drop_table("agencies")
    # Stored keys stay in the one scheme: 0002's wide view then shows the old columns empty.
    for sql in _views_of_0002():
        op.execute(sql)
