"""R15: logging a number in to a handset (hot desk) and out again."""
from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.services import journal
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, Forbidden, RuleBroken
from pbx.services.lookup import get_handset_at_site, get_number
from pbx.services.numbers import require_actions_allowed, require_voice_services
from pbx.store.models import OutboxKind, PhoneNumber


def log_in_handset(session: Session, actor: Actor, number_id: int, phone_id: str) -> PhoneNumber:
    """R15: one number per handset; a taken handset is refused with who holds it."""
    if not (actor.is_operator or actor.is_occupier_admin):
        raise Forbidden("Only an occupier admin can log numbers in to handsets")
    number = get_number(session, actor, number_id)
    require_voice_services(number.occupier)
    require_actions_allowed(number)
    return log_in(session, actor, number, phone_id)


def log_in(session: Session, actor: Actor, number: PhoneNumber, phone_id: str) -> PhoneNumber:
    """The rule shared by the portal and `*11` on the handset itself."""
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
        journal.enqueue(session, OutboxKind.HANDSET, previous.id)
    handset.number = number
    journal.enqueue(session, OutboxKind.HANDSET, handset.id)
    journal.number_changed(session, number)
    journal.audit(session, actor, "handset.login", number=number, phone_id=handset.phone_id)
    return number


def log_out_handset(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    if not (actor.is_operator or actor.is_occupier_admin):
        raise Forbidden("Only an occupier admin can log numbers out of handsets")
    number = get_number(session, actor, number_id)
    require_voice_services(number.occupier)
    require_actions_allowed(number)
    return log_out(session, actor, number)


def log_out(session: Session, actor: Actor, number: PhoneNumber) -> PhoneNumber:
    handset = number.handset
    if handset is None:
        raise RuleBroken("R15", f"{number.e164} is not logged in to a handset")
    handset.number = None
    journal.enqueue(session, OutboxKind.HANDSET, handset.id)
    journal.number_changed(session, number)
    journal.audit(session, actor, "handset.logout", number=number, phone_id=handset.phone_id)
    return number
