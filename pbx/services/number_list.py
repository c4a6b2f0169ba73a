"""R37: the operator's number lists (all sites, one site, one occupier), filtered in the database.

`parse_filter` reads the filters from a query string or CLI options; `numbers_query` is the
filtered SELECT (so a page, the JSON API and the CSV all filter the same way, server-side);
`stream_rows` walks it with a server-side cursor (`yield_per`), so 100,000 numbers never
sit in memory at once. The CSV itself is pbx.services.number_csv.

Filters: status (reserved, pending, active), site and occupier (ids), assignment
("assigned": a user has the number; "unassigned": no user and not a main number;
"main": the main numbers) and login ("logged-in" / "logged-out": a handset has it or not).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from pbx.services.actor import Actor
from pbx.services.errors import FieldErrors, InvalidInput
from pbx.store.models import Handset, NumberStatus, Occupier, PhoneNumber, Site, User

ASSIGNMENTS = ("assigned", "unassigned", "main")
LOGINS = ("logged-in", "logged-out")
CHUNK = 1000  # rows fetched at a time from the server-side cursor
PAGE_MAX = 1000


@dataclass(frozen=True)
class NumberFilter:
    status: NumberStatus | None = None
    site_id: int | None = None
    occupier_id: int | None = None
    assignment: str | None = None
    login: str | None = None


@dataclass(frozen=True)
class ListedNumber:
    """One row of a list or of the CSV: plain values, no ORM object (read from a cursor)."""

    id: int
    e164: str
    extension: str
    occupier: str
    site: str
    status: str
    main: bool
    user: str
    display_name: str
    phone_id: str


def parse_filter(values: Mapping[str, str | None]) -> NumberFilter:
    """The filters as sent ("" or missing: not filtered); every wrong one at once (FieldErrors)."""
    refusals: list[InvalidInput] = []

    def pick(field: str, allowed: tuple[str, ...]) -> str | None:
        raw = (values.get(field) or "").strip().lower()
        if raw and raw not in allowed:
            refusals.append(InvalidInput(field, f"use one of {', '.join(allowed)}"))
            return None
        return raw or None

    def number(field: str) -> int | None:
        raw = (values.get(field) or "").strip()
        if raw and not raw.isdigit():
            refusals.append(InvalidInput(field, "give the id as digits"))
            return None
        return int(raw) if raw else None

    status = pick("status", tuple(s.value for s in NumberStatus))
    chosen = NumberFilter(
        status=NumberStatus(status) if status else None,
        site_id=number("site"),
        occupier_id=number("occupier"),
        assignment=pick("assignment", ASSIGNMENTS),
        login=pick("login", LOGINS),
    )
    if refusals:
        raise FieldErrors.of(refusals)
    return chosen


def numbers_query(actor: Actor, chosen: NumberFilter) -> Select[Any]:
    """R37: the operator's numbers as plain columns, filtered and ordered in the database."""
    actor.require_operator()
    logged_in = exists().where(Handset.number_id == PhoneNumber.id)
    phone = aliased(Handset)
    query = (
        select(
            PhoneNumber.id,
            PhoneNumber.e164,
            PhoneNumber.extension,
            Occupier.name.label("occupier"),
            Site.name.label("site"),
            PhoneNumber.status,
            PhoneNumber.is_main,
            func.coalesce(User.first_name + " " + User.last_name, "").label("user"),
            func.trim(PhoneNumber.label_first + " " + PhoneNumber.label_second).label("display_name"),
            func.coalesce(phone.phone_id, "").label("phone_id"),
        )
        .join(Occupier, Occupier.id == PhoneNumber.occupier_id)
        .join(Site, Site.id == PhoneNumber.site_id)
        .outerjoin(User, User.id == PhoneNumber.user_id)
        .outerjoin(phone, phone.number_id == PhoneNumber.id)
        .order_by(Occupier.name, Site.name, PhoneNumber.e164)
    )
    if chosen.status is not None:
        query = query.where(PhoneNumber.status == chosen.status)
    if chosen.site_id is not None:
        query = query.where(PhoneNumber.site_id == chosen.site_id)
    if chosen.occupier_id is not None:
        query = query.where(PhoneNumber.occupier_id == chosen.occupier_id)
    if chosen.assignment == "assigned":
        query = query.where(PhoneNumber.user_id.is_not(None))
    elif chosen.assignment == "unassigned":
        query = query.where(PhoneNumber.user_id.is_(None), PhoneNumber.is_main.is_(False))
    elif chosen.assignment == "main":
        query = query.where(PhoneNumber.is_main.is_(True))
    if chosen.login == "logged-in":
        query = query.where(logged_in)
    elif chosen.login == "logged-out":
        query = query.where(~logged_in)
    return query


def _listed(row: Row[Any]) -> ListedNumber:
    return ListedNumber(
        id=row.id,
        e164=row.e164,
        extension=row.extension,
        occupier=row.occupier,
        site=row.site,
        status=row.status.value if isinstance(row.status, NumberStatus) else str(row.status),
        main=bool(row.is_main),
        user=(row.user or "").strip(),
        display_name=row.display_name or "",
        phone_id=row.phone_id or "",
    )


def list_page(
    session: Session, actor: Actor, chosen: NumberFilter, offset: int = 0, limit: int = 100
) -> tuple[int, list[ListedNumber]]:
    """One page of the filtered list and the total it is part of (the JSON API)."""
    query = numbers_query(actor, chosen)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    limit = max(1, min(limit, PAGE_MAX))
    rows = session.execute(query.offset(max(offset, 0)).limit(limit))
    return total, [_listed(r) for r in rows]


def stream_rows(session: Session, actor: Actor, chosen: NumberFilter) -> Iterator[ListedNumber]:
    """Every row, fetched CHUNK at a time from a server-side cursor: memory stays flat whatever the count."""
    result = session.execute(numbers_query(actor, chosen).execution_options(yield_per=CHUNK))
    for row in result:
        yield _listed(row)
