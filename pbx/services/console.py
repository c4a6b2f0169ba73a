"""What the operator console (R31) lists, a page at a time, and what a destructive action would do.

Occupiers, an occupier's numbers and the handsets are each searched and paged in SQL, so the
console paints as fast at 10,000 numbers as at 10. The previews let the console say, before it
is too late, who loses a number when another becomes the main number (R5) and how many numbers
stop working when voice services go off (R2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from pbx.services.actor import Actor
from pbx.services.lookup import get_number
from pbx.services.number_search import Paging
from pbx.store.models import Handset, NumberStatus, Occupier, PhoneNumber, Site

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    total: int
    paging: Paging

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.paging.per_page))


def _like(column: Any, needle: str) -> ColumnElement[bool]:
    found: ColumnElement[bool] = column.icontains(needle, autoescape=True)
    return found


def occupiers_page(session: Session, actor: Actor, query: str = "", paging: Paging | None = None) -> Page[Occupier]:
    """R31: occupiers by name (or a site's name), alphabetically."""
    actor.require_operator()
    paging = paging or Paging()
    where: list[ColumnElement[bool]] = []
    needle = query.strip()
    if needle:
        at_site = select(Occupier.id).join(Occupier.sites).where(_like(Site.name, needle))
        where.append(or_(_like(Occupier.name, needle), Occupier.id.in_(at_site)))
    total = session.scalar(select(func.count(Occupier.id)).where(*where)) or 0
    rows = session.scalars(
        select(Occupier)
        .where(*where)
        .options(selectinload(Occupier.sites))
        .order_by(Occupier.name)
        .offset(paging.offset)
        .limit(paging.per_page)
    ).all()
    return Page(rows, total, paging)


def handsets_page(session: Session, actor: Actor, query: str = "", paging: Paging | None = None) -> Page[Handset]:
    """R31: every site's handsets by phone ID, site name or the number logged in."""
    actor.require_operator()
    paging = paging or Paging()
    where: list[ColumnElement[bool]] = []
    needle = query.strip()
    if needle:
        logged = select(PhoneNumber.id).where(
            or_(PhoneNumber.e164.contains(needle.replace(" ", "")), PhoneNumber.extension == needle)
        )
        where.append(or_(_like(Handset.phone_id, needle), _like(Site.name, needle), Handset.number_id.in_(logged)))
    base = select(Handset).join(Handset.site).where(*where)
    total = session.scalar(select(func.count()).select_from(base.with_only_columns(Handset.id).subquery())) or 0
    rows = session.scalars(
        base.options(joinedload(Handset.site), joinedload(Handset.number))
        .order_by(Site.name, func.lower(Handset.phone_id))
        .offset(paging.offset)
        .limit(paging.per_page)
    ).all()
    return Page(rows, total, paging)


def all_sites(session: Session, actor: Actor) -> list[Site]:
    """R31: the sites with the occupiers based there (the allocate form offers an occupier's own sites)."""
    actor.require_operator()
    return list(session.scalars(select(Site).options(selectinload(Site.occupiers)).order_by(Site.name)))


def main_numbers(session: Session, actor: Actor, occupier_id: int) -> dict[int, PhoneNumber]:
    """R5: the occupier's main number at each of its sites, by site id."""
    actor.require_operator()
    found = session.scalars(
        select(PhoneNumber).where(PhoneNumber.occupier_id == occupier_id, PhoneNumber.is_main.is_(True))
    )
    return {n.site_id: n for n in found}


def working_numbers(session: Session, actor: Actor, occupier_ids: Sequence[int]) -> dict[int, int]:
    """R2: how many numbers of each occupier work now (not Reserved), i.e. stop working when voice services go off."""
    actor.require_operator()
    if not occupier_ids:
        return {}
    counted = session.execute(
        select(PhoneNumber.occupier_id, func.count(PhoneNumber.id))
        .where(PhoneNumber.occupier_id.in_(occupier_ids), PhoneNumber.status != NumberStatus.RESERVED)
        .group_by(PhoneNumber.occupier_id)
    )
    return {occupier_id: count for occupier_id, count in counted.all()}


@dataclass(frozen=True)
class MainNumberChange:
    """R5: what making a number the main number does besides that."""

    number: PhoneNumber
    loses_user: str | None  # the assigned user's name: they lose the number
    steps_down: str | None  # the E.164 of the main number it replaces

    def warning(self) -> str:
        parts = [f"Make {self.number.e164} the main number at {self.number.site.name}?"]
        if self.loses_user:
            parts.append(f"{self.loses_user} loses this number (it is unassigned).")
        if self.steps_down:
            parts.append(f"{self.steps_down} steps down as the main number.")
        return " ".join(parts)


def main_number_change(
    number: PhoneNumber, mains: dict[int, PhoneNumber], user_name: str | None = None
) -> MainNumberChange:
    current = mains.get(number.site_id)
    steps_down = current.e164 if current is not None and current.id != number.id else None
    return MainNumberChange(number, user_name, steps_down)


def preview_main_number(session: Session, actor: Actor, number_id: int) -> MainNumberChange:
    actor.require_operator()
    number = get_number(session, actor, number_id)
    mains = main_numbers(session, actor, number.occupier_id)
    return main_number_change(number, mains, number.user.full_name if number.user else None)
