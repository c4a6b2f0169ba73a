"""R42: the voice portal: a caller proves a number's PIN, then changes what its user could.

Anyone reaches a site's portal: from outside by its number (the trunk), from a handset by
that number or by the portal code (`*500`, the handset's own site). The caller keys a
number of the portal's site (national or 00 international digits), or, from a handset with
a number logged in, an extension of that number's occupier only (never another occupier's:
R3). Then its PIN, checked as everywhere else (R16-R18: pins.check_pin counts the attempt
first, three wrong lock). The proof (`PinProof` with the portal's site) makes the caller an
`Actor.portal` acting for that one number: the same services as the web UI and the feature
codes (features.update_features, set_custom_pin, open_voicemail), never the operator's
(R22's code is `operator_only`, and a portal actor is no operator).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.feature_table import DND, FORWARD_ALWAYS
from pbx.services import audit, features, pins
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput, NotFound, RuleBroken
from pbx.services.live import personal_clause
from pbx.services.lookup import get_number
from pbx.services.phone.access import PinResult
from pbx.services.phone.desk import dialled_e164, dialled_target, own_number
from pbx.services.phone.proof import PinProof, mint, proved_actor
from pbx.services.pins import PinCheck
from pbx.store.models import Handset, PhoneNumber, Site

HERE = "here"  # Stasis(pbx,portal,<phone>,here): the portal code, at the handset's own site


class GreetingWay(enum.Enum):
    """How the caller records the unavailable greeting, by where the mailboxes are."""

    RECORD = "record"  # file spool (SQLite store): recorded straight into the box's greeting file
    MAILBOX_MENU = "mailbox_menu"  # ODBC (PostgreSQL): app_voicemail's own options menu stores it


@dataclass(frozen=True)
class Portal:
    """A call at a site's portal: who may be named from here."""

    site_id: int
    country: str
    phone_id: str  # the calling handset ("" from outside)
    occupier_id: int | None  # the occupier of the number logged in there: its extensions only

    @property
    def actor(self) -> Actor:
        """The caller before any PIN: acts for no number."""
        return Actor.portal(self.site_id, None, None, self.phone_id)


@dataclass(frozen=True)
class PortalState:
    extension: str
    forward_always: str | None
    dnd: bool


def find_portal(session: Session, site: str, phone_id: str = "") -> Portal | None:
    """The portal a call reached: `site` is the site id from the DID key, or HERE (the handset's site)."""
    handset = session.scalar(select(Handset).where(Handset.phone_id == phone_id)) if phone_id else None
    if site == HERE:
        found = handset.site if handset is not None else None
    else:
        found = session.get(Site, int(site)) if site.isdigit() else None
    if found is None:
        return None
    own = own_number(handset) if handset is not None else None
    return Portal(found.id, found.country, handset.phone_id if handset else "", own.occupier_id if own else None)


def find_number(session: Session, portal: Portal, digits: str) -> int | None:
    """The personal number keyed at this portal: a full number of its site, or (from a handset)
    an extension of the handset's occupier at the site; None when it names nothing (or another
    occupier's extension: R3)."""
    if not digits.isdigit():
        return None
    query = select(PhoneNumber.id).where(personal_clause(), PhoneNumber.site_id == portal.site_id)
    full = {e for e in (dialled_e164(digits, portal.country), "+" + digits) if e}
    found = session.scalar(query.where(PhoneNumber.e164.in_(full)))
    if found is None and portal.occupier_id is not None:
        found = session.scalar(
            query.where(PhoneNumber.occupier_id == portal.occupier_id, PhoneNumber.extension == digits)
        )
    return found


def check_pin(session: Session, portal: Portal, number_id: int, pin: str) -> PinResult:
    """R16-R18, R42: a PIN keyed at the portal for a number it reaches (`find_number`); every
    attempt counted under the number's write lock before it is verified, and audited."""
    number = session.scalar(
        select(PhoneNumber)
        .where(PhoneNumber.id == number_id, personal_clause(), PhoneNumber.site_id == portal.site_id)
        .with_for_update()
    )
    if number is None:
        raise NotFound("That phone number was not found")
    check = pins.check_pin(session, portal.actor, number, pin)
    if check not in (PinCheck.OK, PinCheck.MUST_CHANGE):
        return PinResult(check, None)
    proof = mint(
        portal.phone_id,
        number.occupier_id,
        number.id,
        new_pin_needed=check is PinCheck.MUST_CHANGE,
        portal_site_id=portal.site_id,
    )
    return PinResult(check, proof)


def _proved(session: Session, actor: Actor, proof: PinProof) -> Actor:
    """The proved number's actor, unless its PIN was locked since (R18: a locked PIN opens nothing)."""
    proved = proved_actor(actor, proof)
    if get_number(session, proved, proof.number_id).pin_locked:
        raise RuleBroken("R18", "The PIN is locked: an admin must reset it")
    return proved


def state(session: Session, actor: Actor, proof: PinProof) -> PortalState:
    """What the menu toggles: forward always and DND of the proved number."""
    proved = proved_actor(actor, proof)
    number = get_number(session, proved, proof.number_id)
    row = number.features
    return PortalState(
        number.extension, getattr(row, FORWARD_ALWAYS.column) if row else None, bool(getattr(row, DND.column, False))
    )


def set_forward_always(session: Session, actor: Actor, proof: PinProof, keyed: str | None) -> None:
    """R20 (R22, R39 refused by update_features): forward always to the keyed target, or off (None)."""
    proved = _proved(session, actor, proof)
    value = None
    if keyed is not None:
        if not keyed.isdigit():
            raise InvalidInput(FORWARD_ALWAYS.key, "key the number to forward to")
        site = session.get(Site, actor.portal_site_id) if actor.is_portal else None
        value = dialled_target(keyed, site.country if site else "")
    features.update_features(session, proved, proof.number_id, {FORWARD_ALWAYS.key: value})


def set_dnd(session: Session, actor: Actor, proof: PinProof, on: bool) -> None:
    """R26: Do Not Disturb on or off, as the features page does it."""
    features.update_features(session, _proved(session, actor, proof), proof.number_id, {DND.key: on})


def record_greeting(session: Session, actor: Actor, proof: PinProof) -> tuple[GreetingWay, int]:
    """R42: the proved number's mailbox (its number id) and how its greeting is recorded there
    (the mailboxes' store decides: greetings in ODBC are app_voicemail's to write); audited."""
    proved = _proved(session, actor, proof)
    number = get_number(session, proved, proof.number_id)
    way = GreetingWay.MAILBOX_MENU if session.get_bind().dialect.name == "postgresql" else GreetingWay.RECORD
    audit.record(session, proved, "voicemail.greeting", number=number, way=way.value)
    return way, number.id
