"""R44 on the phone: which bridge a caller may try, and the PIN that lets them in.

A handset reaches only its own occupier's bridge (the occupier of the number logged in
there: *88), never another's; a caller from anywhere reaches the bridge whose conference
number it dialled. Either way the PIN is checked here against its argon2 hash, the
attempt counted first (R18's style, R40): the third wrong PIN in a row locks the bridge
until the occupier admin sets a PIN again. Every attempt is audited.
"""

from __future__ import annotations

import enum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pbx.services import audit
from pbx.services.actor import Actor
from pbx.services.attempts import MAX_FAILED_ATTEMPTS
from pbx.services.conference import room_name
from pbx.services.live import is_live
from pbx.services.passwords import verify_secret
from pbx.services.phone.desk import find_desk
from pbx.store.models import Conference


class Entry(str, enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"  # locked now or before: nobody gets in until a new PIN is set


def conference_of_handset(session: Session, actor: Actor) -> int | None:
    """*88: the occupier whose bridge this handset may try (its logged-in number's), if it has a PIN."""
    desk = find_desk(session, actor)
    if desk is None or desk.occupier_id is None:
        return None
    row = session.get(Conference, desk.occupier_id)
    return row.occupier_id if row is not None and row.pin_hash is not None else None


def conference_of_number(session: Session, actor: Actor, number_id: int) -> int | None:
    """A call to a conference number: the occupier whose bridge it is, if the number is live and a PIN is set."""
    del actor  # anyone may dial a conference number; the PIN is what keeps the bridge
    row = session.scalar(select(Conference).where(Conference.number_id == number_id))
    if row is None or row.pin_hash is None or row.number is None or not is_live(row.number):
        return None
    return row.occupier_id


def enter_conference(session: Session, actor: Actor, occupier_id: int, pin: str) -> tuple[Entry, str]:
    """R44: the PIN keyed for the occupier's bridge; (OK, its room name) lets the caller in."""
    counted = session.execute(
        update(Conference)
        .where(Conference.occupier_id == occupier_id, Conference.pin_locked.is_(False))
        .values(failed_pin_count=Conference.failed_pin_count + 1)
        .returning(Conference.failed_pin_count)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    row = session.get(Conference, occupier_id)
    if counted is None or row is None:
        audit.record(session, actor, "conference.attempt", occupier_id=occupier_id, result=Entry.LOCKED.value)
        return Entry.LOCKED, ""
    session.refresh(row)
    if verify_secret(row.pin_hash, pin):
        row.failed_pin_count = 0
        result = Entry.OK
    elif counted >= MAX_FAILED_ATTEMPTS:
        row.pin_locked = True
        result = Entry.LOCKED
    else:
        result = Entry.WRONG
    audit.record(session, actor, "conference.attempt", occupier_id=occupier_id, result=result.value)
    return result, room_name(occupier_id) if result is Entry.OK else ""
