"""researcher views: report_documents, reports, report_edits, report_facts, application_table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = """report_id, document_id, snapshot_id, url, portal_id, agency, year, title, index_no,
       publisher, written_date, publish_date, doc_no, disclosure_mode, validity, category,
       region_code, template, source_kind, flags, version, fetched_at, document_state,
       parser_version, n_findings, text"""

# One row per report document (URL): the latest parsed version of each.
REPORT_DOCUMENTS = """
CREATE VIEW report_documents AS
SELECT p.id AS report_id, p.document_id, p.snapshot_id, d.url, p.portal_id, p.agency, p.year,
       p.title, p.index_no, p.publisher, p.written_date, p.publish_date, p.doc_no,
       p.disclosure_mode, p.validity, p.category, p.region_code, p.template, p.source_kind,
       p.flags, s.version, s.fetched_at, d.state AS document_state, p.parser_version,
       (SELECT COUNT(*) FROM report_findings rf WHERE rf.parsed_report_id = p.id) AS n_findings,
       p.text
FROM parsed_reports p
JOIN snapshots s ON s.id = p.snapshot_id
JOIN documents d ON d.id = p.document_id
WHERE s.version = (
    SELECT MAX(s2.version) FROM snapshots s2
    JOIN parsed_reports p2 ON p2.snapshot_id = s2.id
    WHERE s2.document_id = p.document_id
)
"""

# One row per agency x year: when a report is published twice (a page and its PDF listed
# separately, or the same report in two columns) the copies collapse to one, preferring a live
# page over a gone one, HTML over a file, then the newest. n_copies says how many there were.
# Reports whose agency is unknown are never merged with each other.
REPORTS = f"""
CREATE VIEW reports AS
SELECT {_COLUMNS}, n_copies
FROM (
    SELECT rd.*,
           ROW_NUMBER() OVER (
               PARTITION BY COALESCE(rd.agency, rd.url), COALESCE(rd.year, -rd.report_id)
               ORDER BY CASE WHEN rd.document_state = 'live' THEN 0 ELSE 1 END,
                        CASE WHEN rd.source_kind = 'html' THEN 0 ELSE 1 END,
                        CASE WHEN rd.publish_date IS NULL THEN 1 ELSE 0 END,
                        rd.publish_date DESC, rd.fetched_at DESC, rd.report_id DESC
           ) AS copy_rank,
           COUNT(*) OVER (
               PARTITION BY COALESCE(rd.agency, rd.url), COALESCE(rd.year, -rd.report_id)
           ) AS n_copies
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


REPORT_FACTS = """
CREATE VIEW report_facts AS
SELECT r.report_id, r.url, r.portal_id, r.agency, r.year, f.template, f.table_key, f.row_key,
       f.column_key, f.row_label, f.column_label, f.value, f.unit, f.raw_text, f.status
FROM reports r
JOIN facts f ON f.parsed_report_id = r.report_id
"""

# The application table (section 三) of both national templates: one column per cell, named
# <row>__<column> with dots as underscores (kept under PostgreSQL's 63-character limit).
APPLICATION_ROWS = (
    "new_received",
    "carried_over",
    "result.disclosed",
    "result.partly_disclosed",
    "result.withheld.state_secret",
    "result.withheld.law_prohibited",
    "result.withheld.three_security",
    "result.withheld.third_party",
    "result.withheld.internal_affairs",
    "result.withheld.process_info",
    "result.withheld.law_enforcement_file",
    "result.withheld.administrative_query",
    "result.unavailable.not_held",
    "result.unavailable.needs_creation",
    "result.unavailable.unclear_after_correction",
    "result.not_processed.petition_complaint",
    "result.not_processed.repeated",
    "result.not_processed.publication",
    "result.not_processed.excessive",
    "result.not_processed.confirmation",
    "result.other",
    "result.other.overdue_correction",
    "result.other.overdue_fee",
    "result.other.other",
    "result.total",
    "carry_forward",
)
APPLICATION_COLUMNS = {
    "natural_person": "person",
    "legal.business": "business",
    "legal.research": "research",
    "legal.public_interest": "ngo",
    "legal.law_service": "law_firm",
    "legal.other": "org_other",
    "total": "total",
}


def application_table_sql() -> str:
    cells = ",\n".join(
        f"       MAX(CASE WHEN f.row_key = '{row}' AND f.column_key = '{col}' THEN f.value END)"
        f" AS {row.replace('.', '_')}__{short}"
        for row in APPLICATION_ROWS
        for col, short in APPLICATION_COLUMNS.items()
    )
    return f"""
CREATE VIEW application_table AS
SELECT r.report_id, r.url, r.portal_id, r.agency, r.year, r.template,
{cells}
FROM reports r
JOIN facts f ON f.parsed_report_id = r.report_id AND f.table_key = 'applications'
GROUP BY r.report_id, r.url, r.portal_id, r.agency, r.year, r.template
"""


def upgrade() -> None:
    op.execute(REPORT_DOCUMENTS)
    op.execute(REPORTS)
    op.execute(REPORT_EDITS)
    op.execute(REPORT_FACTS)
    op.execute(application_table_sql())


def downgrade() -> None:
    for view in (
        "application_table",
        "report_facts",
        "report_edits",
        "reports",
        "report_documents",
    ):
        op.execute(f"DROP VIEW {view}")
