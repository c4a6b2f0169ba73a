"""R15: logging a number in to a handset (hot desk) and out again."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, Forbidden, RuleBroken
from pbx.services.guards import number_to_act_on
from pbx.services.lookup import get_handset_at_site
from pbx.store.models import OutboxKind, PhoneNumber


def log_in_handset(session: Session, actor: Actor, number_id: int, phone_id: str) -> PhoneNumber:
    """R15: one number per handset; a taken handset is refused with who holds it."""
    number = number_to_act_on(session, actor, number_id, what="log numbers in to handsets")
    return log_in(session, actor, number, phone_id)


def log_in(session: Session, actor: Actor, number: PhoneNumber, phone_id: str) -> PhoneNumber:
    """The rule shared by the portal and `*11` on the handset itself."""
    _refuse_other_handset(actor, phone_id)
    if number.is_main:
        raise RuleBroken("R5", "The main number cannot be logged in to a handset")
    handset = get_handset_at_site(session, number.site_id, phone_id)
    if handset.number is not None and handset.number.id != number.id:
        # R3: name the other number only to its own occupier.
        holder = f" ({handset.number.extension})" if handset.number.occupier_id == number.occupier_id else ""
        raise Conflict(f"Another number{holder} is already logged in to {handset.phone_id}")
    previous = number.handset
    if previous is not None and previous.id != handset.id:
        previous.number = None
        session.flush()
        outbox.enqueue(session, OutboxKind.HANDSET, previous.id)
    handset.number = number
    outbox.enqueue(session, OutboxKind.HANDSET, handset.id)
    outbox.number_changed(session, number)
    audit.record(session, actor, "handset.login", number=number, phone_id=handset.phone_id)
    return number


def log_out_handset(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    number = number_to_act_on(session, actor, number_id, what="log numbers out of handsets")
    return log_out(session, actor, number)


def log_out(session: Session, actor: Actor, number: PhoneNumber) -> PhoneNumber:
    handset = number.handset
    if handset is None:
        raise RuleBroken("R15", f"{number.e164} is not logged in to a handset")
    _refuse_other_handset(actor, handset.phone_id)
    handset.number = None
    outbox.enqueue(session, OutboxKind.HANDSET, handset.id)
    outbox.number_changed(session, number)
    audit.record(session, actor, "handset.logout", number=number, phone_id=handset.phone_id)
    return number


def _refuse_other_handset(actor: Actor, phone_id: str) -> None:
    """A person at a handset logs numbers in to and out of that handset only (R15, R30)."""
    if actor.is_handset and actor.phone_id != phone_id:
        raise Forbidden("A handset can log numbers in to and out of itself only")
