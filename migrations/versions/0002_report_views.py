"""researcher views: reports (latest version of each report) and report_edits

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

REPORTS = """
CREATE VIEW reports AS
SELECT p.id AS report_id, p.document_id, p.snapshot_id, d.url, p.portal_id, p.agency, p.year,
       p.title, p.index_no, p.publisher, p.written_date, p.publish_date, p.doc_no,
       p.disclosure_mode, p.validity, p.category, p.region_code, p.template, p.source_kind,
       p.flags, p.text, s.version, s.fetched_at, d.state AS document_state, p.parser_version
FROM parsed_reports p
JOIN snapshots s ON s.id = p.snapshot_id
JOIN documents d ON d.id = p.document_id
WHERE s.version = (
    SELECT MAX(s2.version) FROM snapshots s2
    JOIN parsed_reports p2 ON p2.snapshot_id = s2.id
    WHERE s2.document_id = p.document_id
)
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


def upgrade() -> None:
    op.execute(REPORTS)
    op.execute(REPORT_EDITS)


def downgrade() -> None:
    op.execute("DROP VIEW report_edits")
    op.execute("DROP VIEW reports")
