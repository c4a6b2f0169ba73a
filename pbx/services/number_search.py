"""Search and paging of number lists in SQL (R8), so a site with 10,000 numbers answers one page fast.

A search matches a phone number in any way people write it (`020 7946 0201`,
`+44 (0)20 7946 0201`, `442079460201`, part of it), an extension, or the Assigned-to text
(display name, the assigned user's name, "Main Number", "Unassigned"). National formats are
read with `phonenumbers` for the site's country. The database filters, counts and cuts the
page: the rows of other pages are never loaded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput, NotFound
from pbx.services.lookup import get_occupier
from pbx.store.models import PhoneNumber, User

PER_PAGE = 50
MAX_PER_PAGE = 200
MAX_QUERY = 100
_PHONE_LIKE = re.compile(r"[\d\s+()./-]+")
# What a row of a number list shows beside the number (R10), loaded with it in the same query:
# joined, not select-in (which asks again for every 500 rows), so 1,000 rows take as many statements as 10.
ROW_LOADS = (joinedload(PhoneNumber.user), joinedload(PhoneNumber.handset))


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = PER_PAGE

    @classmethod
    def parse(cls, page: Any, per_page: Any) -> Paging:
        """`?page=&per_page=` as sent; anything but a whole number in range is refused by name."""
        return cls(_whole(page, "page", 1, 1_000_000, 1), _whole(per_page, "per_page", 1, MAX_PER_PAGE, PER_PAGE))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class NumberPage:
    rows: Sequence[PhoneNumber]
    total: int
    paging: Paging

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.paging.per_page))


def _whole(value: Any, field: str, low: int, high: int, default: int) -> int:
    if value in (None, ""):
        return default
    text = str(value).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(field, f"use a whole number from {low} to {high}")
    return int(text)


def number_digits(query: str, country: str) -> list[tuple[str, bool]]:
    """The digit strings a phone-number-like query stands for: (digits, anchored after '+').

    `020 7946 0201` at a GB site is `+4420794602 01` (anchored); the digits as typed also match
    anywhere (`7946 02`, `442079460201`)."""
    digits = re.sub(r"\D", "", query)
    if not digits or not _PHONE_LIKE.fullmatch(query):
        return []
    found = [(digits, False)]
    if query.lstrip().startswith(("+", "0", "(")):
        try:
            parsed = phonenumbers.parse(query, country or "GB")
        except phonenumbers.NumberParseException:
            return found
        whole = f"{parsed.country_code}{parsed.national_number}"
        if whole != digits:
            found.append((whole, True))
    return found


def _like(column: Any, needle: str, folds_case: bool) -> ColumnElement[bool]:
    """Contains, whatever the case: SQLite's LIKE already ignores ASCII case (no lower() per row)."""
    found: ColumnElement[bool] = (
        column.contains(needle, autoescape=True) if folds_case else column.icontains(needle, autoescape=True)
    )
    return found


def search_filter(query: str, country: str, like_folds_case: bool = False) -> ColumnElement[bool] | None:
    """R8 in SQL: None for an empty query (every row). A name is searched part by part, and as a
    whole only when the query has a space (fewer string operations per row)."""
    needle = query.strip()[:MAX_QUERY]
    if not needle:
        return None
    ways: list[ColumnElement[bool]] = []
    for digits, anchored in number_digits(needle, country):
        ways.append(PhoneNumber.e164.startswith(f"+{digits}") if anchored else PhoneNumber.e164.contains(digits))
        if not anchored:
            ways.append(PhoneNumber.extension.startswith(digits))
    fold = like_folds_case
    if " " in needle:
        ways.append(_like(PhoneNumber.label_first + " " + PhoneNumber.label_second, needle, fold))
        ways.append(_like(User.first_name + " " + User.last_name, needle, fold))
    else:
        ways += [_like(c, needle, fold) for c in (PhoneNumber.label_first, PhoneNumber.label_second)]
        ways += [_like(c, needle, fold) for c in (User.first_name, User.last_name)]
    folded = needle.casefold()
    if folded in "main number":
        ways.append(PhoneNumber.is_main.is_(True))
    if folded in "unassigned":
        ways.append(
            and_(
                PhoneNumber.is_main.is_(False),
                PhoneNumber.user_id.is_(None),
                PhoneNumber.label_first == "",
                PhoneNumber.label_second == "",
            )
        )
    return or_(false(), *ways)


def like_folds_case(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def site_numbers_page(
    session: Session, actor: Actor, occupier_id: int, site_id: int, query: str = "", paging: Paging | None = None
) -> NumberPage:
    """R7-R10: one page of the occupier's numbers at a site, main number first, then by extension.

    R3: only the occupier's own sites."""
    occupier = get_occupier(session, actor, occupier_id)
    site = next((s for s in occupier.sites if s.id == site_id), None)
    if site is None:
        raise NotFound("That site was not found")
    where = [PhoneNumber.occupier_id == occupier.id, PhoneNumber.site_id == site_id]
    return _page(session, where, search_filter(query, site.country, like_folds_case(session)), paging or Paging())


def _page(
    session: Session,
    where: list[ColumnElement[bool]],
    found: ColumnElement[bool] | None,
    paging: Paging,
    loads: tuple[Any, ...] = ROW_LOADS,
) -> NumberPage:
    """Three short statements whatever the size: how many match, the page's ids (filtered, sorted and
    cut without loading a row), then those rows with what they show."""
    ids_query = select(PhoneNumber.id)
    if found is not None:
        ids_query = ids_query.outerjoin(User, PhoneNumber.user_id == User.id)
        where = [*where, found]
    ids_query = ids_query.where(*where)
    total = session.scalar(ids_query.with_only_columns(func.count()).order_by(None)) or 0
    ids = list(
        session.scalars(
            ids_query.order_by(PhoneNumber.is_main.desc(), func.length(PhoneNumber.extension), PhoneNumber.extension)
            .offset(paging.offset)
            .limit(paging.per_page)
        )
    )
    loaded = {n.id: n for n in session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(ids)).options(*loads))}
    return NumberPage([loaded[i] for i in ids if i in loaded], total, paging)


def occupier_numbers_page(
    session: Session, actor: Actor, occupier_id: int, query: str = "", paging: Paging | None = None
) -> NumberPage:
    """The operator console (R31): one page of an occupier's numbers at every site."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    country = occupier.sites[0].country if occupier.sites else "GB"
    where = [PhoneNumber.occupier_id == occupier.id]
    return _page(
        session,
        where,
        search_filter(query, country, like_folds_case(session)),
        paging or Paging(),
        (*ROW_LOADS, joinedload(PhoneNumber.site), joinedload(PhoneNumber.features)),
    )
