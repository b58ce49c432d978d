"""Reading the researcher views (`scrapy export`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

EXPORTABLE_VIEWS = (
    "reports",
    "report_documents",
    "report_facts",
    "application_table",
    "appeals_table",
    "report_changes",
)
# Stable row order per view (every view has report_id; facts and changes need more).
_ORDER = {
    "report_facts": "report_id, table_key, row_key, column_key",
    "report_changes": "report_id, change_id",
}


def view_columns(session: Session, view: str) -> list[str]:
    if view not in EXPORTABLE_VIEWS:
        raise ValueError(f"unknown view {view!r}")
    return list(session.execute(text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())


def count_view(session: Session, view: str, *, portal: str | None, year: int | None) -> int:
    if view not in EXPORTABLE_VIEWS:
        raise ValueError(f"unknown view {view!r}")
    where, params = _view_filter(portal, year)
    return session.execute(text(f"SELECT COUNT(*) FROM {view}{where}"), params).scalar() or 0


def iter_view(
    session: Session, view: str, *, portal: str | None, year: int | None, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Rows of a researcher view as dicts, in a stable order, streamed."""
    if view not in EXPORTABLE_VIEWS:
        raise ValueError(f"unknown view {view!r}")
    where, params = _view_filter(portal, year)
    order = " ORDER BY " + _ORDER.get(view, "report_id")
    result = session.execute(
        text(f"SELECT * FROM {view}{where}{order}").execution_options(yield_per=batch), params
    )
    for row in result.mappings():
        yield dict(row)


def _view_filter(portal: str | None, year: int | None) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if portal:
        clauses.append("portal_id = :portal")
        params["portal"] = portal
    if year:
        clauses.append("year = :year")
        params["year"] = year
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
