"""The desk a call comes from, and the numbers digits keyed there may reach (R3, R15, R16).

Who calls is the handset the channel authenticated as (its Phone ID), never what the
handset sends. Its number is the one logged in there, if that number is personal
(live and not main: R2, R5, R6); otherwise the handset acts for no number.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from pbx.services.actor import Actor
from pbx.services.emergency import local_numbers
from pbx.services.errors import Forbidden, NotFound
from pbx.services.live import is_personal, personal_clause
from pbx.store.models import Handset, PhoneNumber
from pbx.validation import EMERGENCY_NUMBERS


class Reach(enum.Enum):
    """Which numbers a handset may name by keying digits, and so try a PIN for (R3)."""

    OWN = "own"  # *97: the number logged in here
    OCCUPIER = "occupier"  # *98: the numbers of the occupier logged in here (the site's, when none is)
    SITE = "site"  # *11: the numbers at the handset's site, of any occupier


@dataclass(frozen=True)
class Desk:
    """The handset a call comes from, and the personal number logged in to it (if any)."""

    phone_id: str
    site_id: int
    country: str
    emergency: frozenset[str]  # 112, 999, 911 and the site's own (R22)
    number_id: int | None
    occupier_id: int | None
    extension: str | None

    @property
    def actor(self) -> Actor:
        """The person at this desk, acting for the number logged in here (or none)."""
        return Actor.handset(self.phone_id, self.occupier_id, self.number_id)


@dataclass(frozen=True)
class Reachable:
    number_id: int
    extension: str


def handset_of(session: Session, actor: Actor) -> Handset:
    """The actor's own handset; only a handset has one."""
    if not actor.is_handset:
        raise Forbidden("Only a handset can do this")
    handset = session.scalar(select(Handset).where(Handset.phone_id == actor.phone_id))
    if handset is None:
        raise NotFound(f"There is no handset with phone ID {actor.phone_id}")
    return handset


def own_number(handset: Handset) -> PhoneNumber | None:
    """The number logged in to the handset, if a person may use it from there (R2, R5, R6)."""
    number = handset.number
    return number if number is not None and is_personal(number) else None


def find_desk(session: Session, actor: Actor) -> Desk | None:
    """The caller's desk; any handset actor may ask, even one that acts for no number yet."""
    try:
        handset = handset_of(session, actor)
    except NotFound:
        return None
    number = own_number(handset)
    return Desk(
        handset.phone_id,
        handset.site_id,
        handset.site.country,
        emergency_numbers(handset),
        number.id if number else None,
        number.occupier_id if number else None,
        number.extension if number else None,
    )


def emergency_numbers(handset: Handset) -> frozenset[str]:
    """R22, R39: 112, 999, 911 and the handset's site's own."""
    return frozenset(EMERGENCY_NUMBERS.union(local_numbers(handset.site)))


def number_in_the_way(session: Session, actor: Actor) -> str | None:
    """R15, one number per handset: the extension already logged in here, or None."""
    number = handset_of(session, actor).number
    return number.extension if number is not None else None


def dialled_e164(digits: str, country: str) -> str | None:
    """Digits keyed on a phone as E.164: 00 international, 0 national at the site's country."""
    if digits.startswith("00") and len(digits) > 4:
        return "+" + digits[2:]
    if digits.startswith("0") and country:
        try:
            parsed = phonenumbers.parse(digits, country.upper())
        except phonenumbers.NumberParseException:
            return None
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def dialled_target(digits: str, country: str) -> str:
    """A forward target keyed on the phone as the services take it: an extension or E.164."""
    return dialled_e164(digits, country) or digits


def reach_clause(handset: Handset, reach: Reach) -> ColumnElement[bool]:
    """`reach` from this handset as a WHERE clause on PhoneNumber: the one definition of the scopes."""
    own = own_number(handset)
    if reach is Reach.OWN:
        return PhoneNumber.id == own.id if own is not None else false()
    if reach is Reach.OCCUPIER and own is not None:
        return PhoneNumber.occupier_id == own.occupier_id
    return PhoneNumber.site_id == handset.site_id


def find_numbers(session: Session, actor: Actor, digits: str, reach: Reach) -> list[Reachable]:
    """Numbers an extension or a full number keyed on this handset may mean, within `reach`.

    Extensions repeat across occupiers, so more than one answer means "ask for the full number".
    """
    if not digits.isdigit():
        return []
    handset = handset_of(session, actor)
    query = select(PhoneNumber).where(personal_clause(), reach_clause(handset, reach))
    full = {e for e in (dialled_e164(digits, handset.site.country), "+" + digits) if e}
    found = (
        session.scalars(query.where(PhoneNumber.e164.in_(full))).all()
        or session.scalars(query.where(PhoneNumber.extension == digits)).all()
    )
    return [Reachable(n.id, n.extension) for n in found]
