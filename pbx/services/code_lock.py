"""R40: an admin resets a locked authorization code, as Reset PIN does for a PIN (R14)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.services import attempts, audit
from pbx.services.actor import Actor
from pbx.services.guards import number_to_act_on
from pbx.store.models import PhoneNumber


def unlock_code(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    """R40: the code is unlocked and its failures forgotten; the code itself stays as the operator set it."""
    number = number_to_act_on(session, actor, number_id, what="reset an authorization code")
    attempts.reset(session, attempts.CODE, number)
    audit.record(session, actor, "authcode.reset", number=number)
    return number


def code_locked(number: PhoneNumber) -> bool:
    """R40: three wrong codes in a row locked it; only an admin's reset opens it again."""
    return number.code_locked
