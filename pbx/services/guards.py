"""The one guard before any change to a number (R2, R3, R5, R6, R30).

Every service that changes a number gets it from `number_to_act_on`, so "may this
actor act on this number, and may anyone act on it now?" is answered in one place,
the same way for the web UI, the JSON API, the CLI and the phone.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy.orm import Session

from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, RuleBroken
from pbx.services.lookup import get_number
from pbx.store.models import NumberStatus, PhoneNumber


class Who(Enum):
    ADMIN = "admin"  # the operator or an occupier admin
    HOLDER = "holder"  # those, or the number's own user or handset (R30, R34)


def number_to_act_on(
    session: Session, actor: Actor, number_id: int, who: Who = Who.ADMIN, *, what: str = "do this"
) -> PhoneNumber:
    """R3: visible to the actor; R30: theirs to change; R2, R5, R6: open to changes at all."""
    if who is Who.ADMIN and not actor.is_admin:
        raise Forbidden(f"Only an occupier admin can {what}")
    number = get_number(session, actor, number_id)
    if who is Who.HOLDER and not (actor.is_admin or actor.holds(number.id, number.user_id)):
        raise Forbidden("You can change only your own number")
    refusal = why_read_only(number)
    if refusal is not None:
        raise refusal
    return number


def why_read_only(number: PhoneNumber) -> RuleBroken | None:
    """R2, R5, R6: why nobody can change this number now, or None.

    A Pending number still takes changes: they queue behind the one being applied.
    """
    if not number.occupier.voice_services_active:
        return RuleBroken("R2", f"{number.occupier.name} does not have active voice services")
    if number.is_main:
        return RuleBroken("R5", "The main number is read-only")
    if number.status is NumberStatus.RESERVED:
        return RuleBroken("R6", f"{number.e164} is reserved: it must be activated first")
    return None
