"""R15-R18 from the phone: PIN attempts, what a proved PIN opens, hot desk (*11, *12).

The same services as the web UI (pbx.services.pins, pbx.services.handsets), so rules,
audit and outbox are the same whoever acts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services import audit, handsets, pins
from pbx.services.actor import Actor
from pbx.services.errors import NotFound, RuleBroken
from pbx.services.guards import Who, number_to_act_on
from pbx.services.live import personal_clause
from pbx.services.lookup import get_number
from pbx.services.phone.desk import Reach, handset_of, reach_clause
from pbx.services.phone.proof import PinProof, mint, proved_actor, renew
from pbx.services.pins import PinCheck
from pbx.store.models import PhoneNumber


@dataclass(frozen=True)
class PinResult:
    check: PinCheck
    proof: PinProof | None  # set when the PIN opened the number (OK, or MUST_CHANGE: R17)


def check_pin(session: Session, actor: Actor, number_id: int, pin: str, reach: Reach) -> PinResult:
    """R16-R18: a PIN keyed on this handset for a number within `reach` (the reach permits the attempt).

    Attempts from calls at the same moment all count (R40): pins.check_pin counts each one under the
    number's write lock before verifying it, on SQLite as on PostgreSQL.
    """
    handset = handset_of(session, actor)
    number = session.scalar(
        select(PhoneNumber)
        .where(PhoneNumber.id == number_id, personal_clause(), reach_clause(handset, reach))
        .with_for_update()
    )
    if number is None:
        raise NotFound("That phone number was not found")
    check = pins.check_pin(session, actor, number, pin)
    if check not in (PinCheck.OK, PinCheck.MUST_CHANGE):
        return PinResult(check, None)
    return PinResult(
        check, mint(handset.phone_id, number.occupier_id, number.id, new_pin_needed=check is PinCheck.MUST_CHANGE)
    )


def _proved_number(session: Session, proved: Actor, proof: PinProof, what: str) -> PhoneNumber:
    """The proved number, row-locked, still open to changes (R2, R5, R6) and not locked since (R18)."""
    session.get(PhoneNumber, proof.number_id, with_for_update=True)
    number = number_to_act_on(session, proved, proof.number_id, Who.HOLDER, what=what)
    if number.pin_locked:
        raise RuleBroken("R18", f"The PIN of {number.extension} is locked: an admin must reset it")
    return number


def set_custom_pin(session: Session, actor: Actor, proof: PinProof, pin: str) -> PinProof:
    """R17, R19: the custom PIN, once the default (or current) PIN was proved; a proof for it back."""
    proved = proved_actor(actor, proof, for_new_pin=True)
    number = _proved_number(session, proved, proof, "change the PIN")
    if proof.new_pin_needed and number.custom_pin_hash is not None:
        raise RuleBroken("R17", "A custom PIN was chosen meanwhile: key that one")
    pins.set_custom_pin(session, proved, number, pin)
    return renew(proof, new_pin_needed=False)


def open_voicemail(session: Session, actor: Actor, proof: PinProof) -> int:
    """R16: the proved number's mailbox (its number id), audited."""
    proved = proved_actor(actor, proof)
    number = get_number(session, proved, proof.number_id)
    audit.record(session, proved, "voicemail.open", number=number, phone_id=proof.phone_id)
    return number.id


def log_in(session: Session, actor: Actor, proof: PinProof) -> None:
    """*11, R15: the proved number is logged in to this handset, by the portal's own rule."""
    proved = proved_actor(actor, proof)
    number = _proved_number(session, proved, proof, "log it in")
    handsets.log_in(session, proved, number, proof.phone_id)


def log_out(session: Session, actor: Actor) -> str | None:
    """*12, R15: the number logged in to this handset is logged out; its extension, or None."""
    number = handset_of(session, actor).number
    if number is None:
        return None
    number = number_to_act_on(session, actor, number.id, Who.HOLDER, what="log it out")
    handsets.log_out(session, actor, number)
    return number.extension
