"""Agency entities: a printed agency name and the portal's region → a stable `agencies` row."""

from __future__ import annotations

import weakref
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from gxcrawl.extract.agencies import AgencyEntity, normalize_agency
from gxcrawl.extract.regions import contains, region_path
from gxcrawl.store.models import Agency, ParsedReport, PortalRow

REGION_CONFLICT = "region_code_conflict"  # extraction flag: 索引号 and registry disagree


def _portal_region(session: Session, portal_id: str) -> str | None:
    """The portal's division code, read once per transaction (a crawl writes many reports of
    one portal in each; registry rows do not change inside a transaction)."""
    cache: dict[str, str | None] = session.info.setdefault("gxcrawl_portal_regions", {})
    if portal_id not in cache:
        cache[portal_id] = session.scalar(
            select(PortalRow.region_code).where(PortalRow.id == portal_id)
        )
    return cache[portal_id]


def context_region(
    session: Session, portal_id: str | None, extracted: str | None, flags: list[str]
) -> str | None:
    """The division a report's relative agency name refers to: the extracted code (索引号
    prefix) when it lies within the portal's region and agrees with it, else the portal's."""
    portal = _portal_region(session, portal_id) if portal_id else None
    if portal is None:
        return extracted
    if extracted and REGION_CONFLICT not in flags and contains(portal, extracted):
        return extracted
    return portal


def agency_id_for(session: Session, printed: str | None, *, region_code: str | None) -> int | None:
    """The id of the agency entity a printed name stands for (created on first sight)."""
    entity = normalize_agency(printed, region_code=region_code)
    return upsert_agency(session, entity) if entity is not None else None


# session.info key: (name, region code) → agency id, for the current transaction only.
_AGENCY_IDS = "gxcrawl_agency_ids"
AgencyKey = tuple[str, str | None]
# Agency ids committed by this process, per database (the session's Engine). Agency rows are
# never deleted or renumbered, so a committed id stays right; a crawl writes reports of the same
# few dozen agencies all run long (the bench portal: 80 agencies, 2,055 reports), and looking
# each up again cost 6% of the store writer's time. Bounded: memory stays flat.
_COMMITTED: weakref.WeakKeyDictionary[Any, dict[AgencyKey, int]] = weakref.WeakKeyDictionary()
COMMITTED_AGENCIES_MAX = 10_000


def upsert_agency(session: Session, entity: AgencyEntity) -> int:
    """The agency's id: known once committed by this process, else looked up (or inserted)
    once per transaction. The transaction's memo joins the committed ids at commit and is
    dropped at any rollback (a savepoint's too), so it never names a row that was rolled back."""
    memo: dict[AgencyKey, int] = session.info.setdefault(_AGENCY_IDS, {})
    key = (entity.name, entity.region_code)
    if key not in memo:
        known = _committed(session).get(key)
        memo[key] = known if known is not None else _upsert(session, entity)
    return memo[key]


def _committed(session: Session) -> dict[AgencyKey, int]:
    return _COMMITTED.setdefault(session.get_bind(), {})


@event.listens_for(Session, "after_commit")
def _remember_agency_ids(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is committed yet
        return
    memo = session.info.pop(_AGENCY_IDS, None)
    if not memo:
        return
    committed = _committed(session)
    if len(committed) + len(memo) > COMMITTED_AGENCIES_MAX:
        committed.clear()
    committed.update(memo)


@event.listens_for(Session, "after_soft_rollback")
def _forget_agency_ids(session: Session, *_: Any) -> None:
    session.info.pop(_AGENCY_IDS, None)


def _upsert(session: Session, entity: AgencyEntity) -> int:
    found = _find(session, entity)
    if found is not None:
        return found
    path = region_path(entity.region_code)
    levels: dict[str, str | None] = {}
    if path is not None:
        levels = {
            "province_code": path.province_code, "province_name": path.province_name,
            "prefecture_code": path.prefecture_code, "prefecture_name": path.prefecture_name,
            "county_code": path.county_code, "county_name": path.county_name,
        }  # fmt: skip
    # Two workers (or crawls) adding the same new agency at once: the second insert does nothing
    # and the select finds the first one's row. Explicit columns (not an ORM object) so migration
    # 0003's backfill keeps working as models grow.
    session.connection().execute(
        _insert_ignoring(session),
        {"name": entity.name, "type": entity.type, "region_code": entity.region_code, **levels},
    )
    found = _find(session, entity)
    assert found is not None
    return found


_AGENCIES = cast(Table, Agency.__table__)
# The id of an agency by name and region (built once: `IS NULL` for no region).
_BY_NAME_IN = (
    select(_AGENCIES.c.id)
    .where(_AGENCIES.c.name == bindparam("name"), _AGENCIES.c.region_code == bindparam("region"))
    .limit(1)
)
_BY_NAME_NO_REGION = (
    select(_AGENCIES.c.id)
    .where(_AGENCIES.c.name == bindparam("name"), _AGENCIES.c.region_code.is_(None))
    .limit(1)
)
_INSERT_IGNORING: dict[str, Any] = {}


def _insert_ignoring(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERT_IGNORING:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        _INSERT_IGNORING[dialect] = insert(_AGENCIES).on_conflict_do_nothing(
            index_elements=["name", "region_code"]
        )
    return _INSERT_IGNORING[dialect]


def _find(session: Session, entity: AgencyEntity) -> int | None:
    if entity.region_code is None:
        query, params = _BY_NAME_NO_REGION, {"name": entity.name}
    else:
        query, params = _BY_NAME_IN, {"name": entity.name, "region": entity.region_code}
    found: int | None = session.connection().execute(query, params).scalar()
    return found


def link_agencies(session: Session, *, only_missing: bool = True) -> int:
    """Give stored parsed reports their agency entity (after a migration or a normaliser
    change); returns how many rows were linked."""
    query = select(
        ParsedReport.id, ParsedReport.agency, ParsedReport.portal_id,
        ParsedReport.region_code, ParsedReport.flags,
    )  # fmt: skip
    if only_missing:
        query = query.where(ParsedReport.agency_id.is_(None), ParsedReport.agency.is_not(None))
    linked = 0
    for report_id, agency, portal_id, region, flags in session.execute(query).all():
        context = context_region(session, portal_id, region, list(flags or []))
        agency_id = agency_id_for(session, agency, region_code=context)
        session.execute(
            update(ParsedReport).where(ParsedReport.id == report_id).values(agency_id=agency_id)
        )
        linked += agency_id is not None
    return linked
