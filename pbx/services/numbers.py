"""The phone number list as an occupier admin sees it (R6-R10), and who may act on a number."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from pbx.services.actor import Actor
from pbx.services.errors import NotFound
from pbx.services.lookup import get_occupier
from pbx.store.models import NumberStatus, PhoneNumber, Site

# What a row of a number list shows beside the number (R10), loaded with it in the same query:
# joined, not select-in (which asks again for every 500 rows), so 1,000 rows take as many statements as 10.
ROW_LOADS = (joinedload(PhoneNumber.user), joinedload(PhoneNumber.handset))


@dataclass(frozen=True)
class AssignedTo:
    """R10: Main Number, Unassigned, a link to the user, or plain display-name text."""

    kind: str  # "main" | "unassigned" | "user" | "named"
    text: str
    user_id: int | None = None


def assigned_to(number: PhoneNumber) -> AssignedTo:
    if number.is_main:
        return AssignedTo("main", "Main Number")
    if number.user is not None:
        return AssignedTo("user", number.display_name or number.user.full_name, number.user.id)
    if number.display_name:
        return AssignedTo("named", number.display_name)
    return AssignedTo("unassigned", "Unassigned")


def actions_allowed(number: PhoneNumber) -> bool:
    """R6: actions exist only for Active numbers that are not the main number."""
    return number.status is NumberStatus.ACTIVE and not number.is_main


def occupier_sites(session: Session, actor: Actor, occupier_id: int) -> list[Site]:
    """R7: the occupier's sites, alphabetically: the first is the default."""
    occupier = get_occupier(session, actor, occupier_id)
    return sorted(occupier.sites, key=lambda s: s.name.casefold())


def list_numbers(session: Session, actor: Actor, occupier_id: int, site_id: int, search: str = "") -> list[PhoneNumber]:
    """R8-R10: the occupier's numbers at a site, filtered on number or Assigned to."""
    occupier = get_occupier(session, actor, occupier_id)
    if site_id not in {s.id for s in occupier.sites}:
        raise NotFound("That site was not found")
    numbers = session.scalars(
        select(PhoneNumber)
        .where(PhoneNumber.occupier_id == occupier.id, PhoneNumber.site_id == site_id)
        .options(*ROW_LOADS)
        .order_by(PhoneNumber.is_main.desc(), PhoneNumber.extension)
    ).all()
    return [n for n in numbers if matches(n, search)]


def matches(number: PhoneNumber, search: str) -> bool:
    """R8: a case-insensitive match on the number (with or without spaces/+) or Assigned to."""
    needle = search.strip().casefold()
    if not needle:
        return True
    digits = "".join(ch for ch in needle if ch.isdigit())
    if (
        digits
        and digits == needle.lstrip("+").replace(" ", "")
        and (digits in number.e164 or digits in number.extension)
    ):
        return True
    return needle in assigned_to(number).text.casefold() or needle in number.e164
