"""The table behind the `report_quality` view: one row of quality measures per parsed report,
rebuilt by `gxcrawl.store.quality.refresh_quality_scores` (kept apart from `models.py` so the
workbench owns it; `gxcrawl.store` imports it so `Base.metadata` always has it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gxcrawl.store.models import Base, utcnow


class QualityScore(Base):
    __tablename__ = "report_quality_scores"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("parsed_reports.id", ondelete="CASCADE"), primary_key=True
    )
    # government | government_office | department | township | other
    reporter_type: Mapped[str] = mapped_column(String(24))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    days_late: Mapped[int | None] = mapped_column(Integer)
    # The absent parts as numerals joined by commas ("五,六"); "" when the report is complete;
    # NULL when the text cannot tell (a stub page, a scanned file).
    sections_missing: Mapped[str | None] = mapped_column(String(16))
    n_sections_missing: Mapped[int | None] = mapped_column(Integer)
    similar_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("parsed_reports.id", ondelete="SET NULL")
    )
    similar_url: Mapped[str | None] = mapped_column(String(2048))
    similarity: Mapped[float | None] = mapped_column(Float)
    n_shingles: Mapped[int] = mapped_column(Integer, default=0)
    carry_forward_ok: Mapped[bool | None] = mapped_column(Boolean)
    # The MinHash signature of the text with this hash (salted with the similarity algorithm's
    # version), reused while both are unchanged.
    text_sha256: Mapped[str] = mapped_column(String(64))
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
