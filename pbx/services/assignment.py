"""R12-R13: who a number belongs to, and the label it shows."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx import validation
from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, InvalidInput
from pbx.services.guards import number_to_act_on
from pbx.services.lookup import get_user
from pbx.store.models import PhoneNumber


def assign_user(session: Session, actor: Actor, number_id: int, user_id: int | None) -> PhoneNumber:
    """R12: one number per user; users who have one are listed but cannot be picked."""
    number = number_to_act_on(session, actor, number_id)
    if user_id is None:
        previous = number.user
        number.user = None
        outbox.number_changed(session, number)
        audit.record(session, actor, "number.unassign", number=number, user=previous.email if previous else None)
        return number
    user = get_user(session, actor, user_id)
    if user.occupier_id != number.occupier_id:
        raise InvalidInput("user", "pick a user of the same occupier")
    if user.number is not None and user.number.id != number.id:
        raise Conflict(f"{user.full_name} already has the number {user.number.e164}")
    number.user = user
    outbox.number_changed(session, number)
    audit.record(session, actor, "number.assign", number=number, user=user.email)
    return number


def set_display_name(session: Session, actor: Actor, number_id: int, first: str, second: str) -> PhoneNumber:
    """R13: the two-part label overrides the user name in Assigned to; the assignment stays."""
    number = number_to_act_on(session, actor, number_id)
    number.label_first = validation.label_part(first, "display_name_first")
    number.label_second = validation.label_part(second, "display_name_second")
    outbox.number_changed(session, number)
    audit.record(
        session, actor, "number.display_name", number=number, first=number.label_first, second=number.label_second
    )
    return number
