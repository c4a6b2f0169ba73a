"""R22: outgoing external calls from a number with an authorization code need the code.

Emergency numbers (112, 999, 911 and the site's own) always go out without one. The
code is checked against its argon2 hash; every attempt is audited, never the code.
"""

from __future__ import annotations

import phonenumbers
from sqlalchemy.orm import Session

from pbx.feature_table import AUTHORIZATION_CODE
from pbx.services import attempts, audit
from pbx.services.actor import Actor
from pbx.services.lookup import get_number
from pbx.services.passwords import verify_secret
from pbx.services.phone.desk import emergency_numbers, handset_of
from pbx.store.models import PhoneNumber


def is_emergency(e164: str, emergency: frozenset[str]) -> bool:
    """R22, R39: the E.164 a call goes to is one of these emergency numbers (dialled nationally)."""
    try:
        national = str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return False
    return national in emergency


def _code_hash(number: PhoneNumber) -> str | None:
    if number.features is None:
        return None
    hashed: str | None = getattr(number.features, AUTHORIZATION_CODE.column)
    return hashed


def authcode_needed(session: Session, actor: Actor, number_id: int, destination: str) -> bool:
    """R22: does this call from the handset's own number to `destination` need the code?"""
    if is_emergency(destination, emergency_numbers(handset_of(session, actor))):
        return False
    return _code_hash(get_number(session, actor, number_id)) is not None


def check_authcode(session: Session, actor: Actor, number_id: int, code: str, destination: str) -> bool:
    """R22, R40: the code keyed for a call from the handset's own number; every attempt audited.

    Nothing keyed is no attempt; a keyed code is counted under the number's write lock before it
    is verified, and the third wrong one in a row locks the code until an admin resets it.
    """
    number = get_number(session, actor, number_id)
    if not code:
        audit.record(session, actor, "authcode.attempt", number=number, result="missing", destination=destination)
        return False
    if attempts.begin_attempt(session, attempts.CODE, number):
        outcome = attempts.end_attempt(session, attempts.CODE, number, verify_secret(_code_hash(number), code))
    else:
        outcome = attempts.Outcome.LOCKED
    result = "ok" if outcome is attempts.Outcome.RIGHT else outcome.value
    audit.record(session, actor, "authcode.attempt", number=number, result=result, destination=destination)
    return outcome is attempts.Outcome.RIGHT
