"""The phone number list as an occupier admin sees it (R6-R10), and who may act on a number."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.services.actor import Actor
from pbx.services.lookup import get_occupier
from pbx.services.number_search import ROW_LOADS, Paging, site_numbers_page
from pbx.store.models import NumberStatus, PhoneNumber, Site

__all__ = ["ROW_LOADS", "AssignedTo", "actions_allowed", "assigned_to", "list_numbers", "occupier_sites"]


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
    """R8-R10: the occupier's numbers at a site, filtered on number or Assigned to (every row; pages:
    pbx.services.number_search.site_numbers_page, the same search)."""
    everything = Paging(1, 1_000_000_000)
    return list(site_numbers_page(session, actor, occupier_id, site_id, search, everything).rows)
