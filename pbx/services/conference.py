"""R44: an occupier's meet-me conference: its PIN (the occupier admin's) and its number (the operator's).

One bridge per occupier. Handsets of the occupier reach it by the feature code *88; the
outside world by the number the operator marks as the occupier's conference number: one
of the occupier's own numbers, activated, nobody's (no user, not the main number). Its
calls go to the bridge instead of ringing anyone, through the number's AstDB keys
(`num/<id>/conf`, pbx.asterisk.live_state), so it needs no dialplan line and no reload.
The PIN is stored only as an argon2 hash and checked by pbx (pbx.services.phone.conference),
never by Asterisk; changing it unlocks a bridge locked by wrong PINs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, RuleBroken
from pbx.services.lookup import get_number, get_occupier
from pbx.services.passwords import hash_secret
from pbx.services.pin_policy import MAX_LENGTH, MIN_LENGTH, is_trivial
from pbx.store.models import Conference, NumberStatus, PhoneNumber

FEATURE_CODE = "*88"


@dataclass(frozen=True)
class ConferenceView:
    occupier_id: int
    pin_set: bool
    locked: bool
    number_id: int | None
    number: str | None  # its E.164 number, if the operator assigned one
    feature_code: str = FEATURE_CODE


def room_name(occupier_id: int) -> str:
    """The ConfBridge name of the occupier's bridge (dialplan pbx-conference-room)."""
    return f"occ{int(occupier_id)}"


def conference_row(session: Session, occupier_id: int) -> Conference:
    """The occupier's conference row, made on first use (no PIN, no number yet)."""
    row = session.get(Conference, occupier_id)
    if row is None:
        row = Conference(occupier_id=occupier_id, failed_pin_count=0, pin_locked=False)
        session.add(row)
        session.flush()
    return row


def view(row: Conference) -> ConferenceView:
    number = row.number
    return ConferenceView(
        occupier_id=row.occupier_id,
        pin_set=row.pin_hash is not None,
        locked=row.pin_locked,
        number_id=number.id if number else None,
        number=number.e164 if number else None,
    )


def get_conference(session: Session, actor: Actor, occupier_id: int) -> ConferenceView:
    """R3: only the operator and the occupier's own people see its conference."""
    get_occupier(session, actor, occupier_id)
    row = session.get(Conference, occupier_id)
    if row is None:
        return ConferenceView(occupier_id, False, False, None, None)
    return view(row)


def check_conference_pin(pin: str) -> None:
    """R44 with R19's policy: 4 to 8 digits, not trivially guessable."""
    if not pin.isdigit() or not MIN_LENGTH <= len(pin) <= MAX_LENGTH:
        raise InvalidInput("pin", f"a PIN is {MIN_LENGTH} to {MAX_LENGTH} digits")
    if is_trivial(pin):
        raise InvalidInput("pin", "that PIN is too easy to guess, like 1234 or 1111")


def set_conference_pin(session: Session, actor: Actor, occupier_id: int, pin: str) -> ConferenceView:
    """R44: the occupier admin (or the operator, at the CLI) sets the bridge's PIN, kept only as an
    argon2 hash; a new PIN also unlocks a bridge locked by wrong PINs."""
    if not actor.is_admin:
        raise Forbidden("Only an occupier admin can set the conference PIN")
    occupier = get_occupier(session, actor, occupier_id)
    check_conference_pin(pin)
    row = conference_row(session, occupier.id)
    row.pin_hash = hash_secret(pin)
    row.failed_pin_count = 0
    row.pin_locked = False
    audit.record(session, actor, "conference.set_pin", occupier_id=occupier.id)
    return view(row)


def set_conference_number(session: Session, actor: Actor, occupier_id: int, number_id: int | None) -> ConferenceView:
    """R44: the operator marks one of the occupier's numbers as its conference number (None: no number).

    The number must be activated and nobody's: no user, not a main number (R5), not logged
    in to a handset, so no call meant for a person ends up in the bridge."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    row = conference_row(session, occupier.id)
    old = row.number
    new: PhoneNumber | None = None
    if number_id is not None:
        new = get_number(session, actor, number_id)
        _check_conference_number(new, occupier.id)
    if (old.id if old else None) == (new.id if new else None):
        return view(row)
    row.number = new
    session.flush()
    for changed in (old, new):
        if changed is not None:
            outbox.number_changed(session, changed)
    audit.record(
        session,
        actor,
        "conference.set_number",
        occupier_id=occupier.id,
        conference_number=new.e164 if new else None,
        previous=old.e164 if old else None,
    )
    return view(row)


def _check_conference_number(number: PhoneNumber, occupier_id: int) -> None:
    if number.occupier_id != occupier_id:
        raise InvalidInput("number", f"{number.e164} is not a number of this occupier")
    if number.status is NumberStatus.RESERVED:
        raise RuleBroken("R6", f"{number.e164} is reserved: it must be activated first")
    if number.is_main:
        raise RuleBroken("R5", "The main number cannot be the conference number")
    if number.user_id is not None:
        raise RuleBroken("R44", f"{number.e164} belongs to a user: a conference number is nobody's")
    if number.handset is not None:
        raise RuleBroken("R44", f"{number.e164} is logged in to a handset: log it out first")
