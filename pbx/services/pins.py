"""R14, R16-R19: PINs, checked by pbx against the store, never by Asterisk.

The default PIN opens a number only until a custom PIN is chosen (R17); three
wrong PINs in a row lock it across calls and hang-ups until an admin resets it
(R18, R14). Every attempt is audited.
"""

from __future__ import annotations

from enum import Enum

from sqlalchemy.orm import Session

from pbx.services import attempts, audit
from pbx.services.actor import Actor
from pbx.services.guards import number_to_act_on
from pbx.services.passwords import hash_secret, verify_secret
from pbx.services.pin_policy import check_custom_pin
from pbx.store.models import PhoneNumber

MAX_FAILED_ATTEMPTS = attempts.MAX_FAILED_ATTEMPTS


class PinCheck(str, Enum):
    OK = "ok"  # the custom PIN matched
    MUST_CHANGE = "must_change"  # the default PIN matched: choose a custom PIN now (R17)
    WRONG = "wrong"
    LOCKED = "locked"  # locked now or before: nothing opens (R18)


def check_pin(session: Session, actor: Actor, number: PhoneNumber, pin: str) -> PinCheck:
    """R16-R18, R40: the attempt is counted (under the number's write lock) before the PIN is verified."""
    if not attempts.begin_attempt(session, attempts.PIN, number):
        audit.record(session, actor, "pin.attempt", number=number, result="locked")
        return PinCheck.LOCKED
    if number.custom_pin_hash is None:
        ok, result = pin == number.default_pin, PinCheck.MUST_CHANGE
    else:
        ok, result = verify_secret(number.custom_pin_hash, pin), PinCheck.OK
    outcome = attempts.end_attempt(session, attempts.PIN, number, ok)
    if outcome is not attempts.Outcome.RIGHT:
        result = PinCheck.LOCKED if outcome is attempts.Outcome.LOCKED else PinCheck.WRONG
    audit.record(session, actor, "pin.attempt", number=number, result=result.value)
    return result


def set_custom_pin(session: Session, actor: Actor, number: PhoneNumber, pin: str) -> None:
    """R17, R19: stored only as an argon2 hash; the policy refuses weak PINs."""
    check_custom_pin(pin, default_pin=number.default_pin, extension=number.extension)
    number.custom_pin_hash = hash_secret(pin)
    number.failed_pin_count = 0
    audit.record(session, actor, "pin.set_custom", number=number)


def reset_pin(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    """R14: back to the default PIN, unlocked."""
    number = number_to_act_on(session, actor, number_id, what="reset a PIN")
    number.custom_pin_hash = None
    attempts.reset(session, attempts.PIN, number)
    audit.record(session, actor, "pin.reset", number=number)
    return number
