"""report quality: the report_quality_scores table and the report_quality view over reports

Revision ID: 0004
Revises: 0003 (re-point to 0003 when merged after the agencies migration)
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One row per `reports` row: its measures when `scrapy quality` (or the end of a crawl or
# reparse) has scored it, NULLs before.
REPORT_QUALITY = """
CREATE VIEW report_quality AS
SELECT r.report_id, r.url, r.portal_id, r.agency, r.year, r.title, r.publish_date,
       q.reporter_type, q.deadline, q.days_late, q.sections_missing, q.n_sections_missing,
       q.similar_url, q.similarity, q.carry_forward_ok, q.n_shingles, q.computed_at
FROM reports r
LEFT JOIN report_quality_scores q ON q.report_id = r.report_id
"""


def upgrade() -> None:
    op.create_table(
        "report_quality_scores",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("reporter_type", sa.String(length=24), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("days_late", sa.Integer(), nullable=True),
        sa.Column("sections_missing", sa.String(length=16), nullable=True),
        sa.Column("n_sections_missing", sa.Integer(), nullable=True),
        sa.Column("similar_report_id", sa.Integer(), nullable=True),
        sa.Column("similar_url", sa.String(length=2048), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("n_shingles", sa.Integer(), nullable=False),
        sa.Column("carry_forward_ok", sa.Boolean(), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("minhash", sa.LargeBinary(), nullable=True),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["parsed_reports.id"],
            name=op.f("fk_report_quality_scores_report_id_parsed_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["similar_report_id"],
            ["parsed_reports.id"],
            name=op.f("fk_report_quality_scores_similar_report_id_parsed_reports"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_report_quality_scores")),
    )
    op.execute(REPORT_QUALITY)


def downgrade() -> None:
    op.execute("DROP VIEW report_quality")
    op.drop_table("report_quality_scores")
