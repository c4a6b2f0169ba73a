"""What the Stasis app asks of the store, each in one transaction through pbx.services.

Plain sync functions (SQLAlchemy is sync): the app runs them with asyncio.to_thread
so the event loop keeps serving other calls. Each takes the session factory and
plain values, and returns plain values, never live ORM objects.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pbx.services import audit as audit_log
from pbx.services import features, handsets, pins
from pbx.services.actor import Actor
from pbx.services.guards import why_read_only
from pbx.services.live import is_personal, personal_clause
from pbx.services.passwords import verify_secret
from pbx.store.db import transaction
from pbx.store.models import Handset, PhoneNumber
from pbx.validation import EMERGENCY_NUMBERS

Factory = sessionmaker[Session]
T = TypeVar("T")


class Store:
    """`await store(fn, *args)` runs fn(factory, *args) in a worker thread."""

    def __init__(self, factory: Factory) -> None:
        self.factory = factory

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, self.factory, *args)


@dataclass(frozen=True)
class Desk:
    """The handset a call comes from, and the number logged in to it (if any)."""

    phone_id: str
    site_id: int
    country: str
    emergency: frozenset[str]
    number_id: int | None
    occupier_id: int | None
    extension: str | None

    @property
    def actor(self) -> Actor:
        return actor_for(self.phone_id)


@dataclass(frozen=True)
class Mailbox:
    number_id: int
    extension: str


def actor_for(phone_id: str) -> Actor:
    return Actor.system(f"handset {phone_id}")


def find_desk(factory: Factory, phone_id: str) -> Desk | None:
    with transaction(factory) as session:
        handset = session.scalar(select(Handset).where(Handset.phone_id == phone_id))
        if handset is None:
            return None
        number = handset.number
        usable = number is not None and is_personal(number)
        local = {d for d in handset.site.local_emergency.replace(",", " ").split() if d.isdigit()}
        return Desk(handset.phone_id, handset.site_id, handset.site.country, frozenset(EMERGENCY_NUMBERS | local),
                    number.id if usable else None, number.occupier_id if usable else None,
                    number.extension if usable else None)


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


def find_numbers(factory: Factory, desk: Desk, digits: str, own_occupier: bool) -> list[Mailbox]:
    """Numbers an extension or a full number keyed on this desk may mean.

    own_occupier: among the numbers of the occupier logged in here (*98); otherwise
    among the numbers at the handset's site (*11). Extensions repeat across
    occupiers, so more than one answer means "ask for the full number".
    """
    if not digits.isdigit():
        return []
    query = select(PhoneNumber).where(personal_clause())
    if own_occupier and desk.occupier_id is not None:
        query = query.where(PhoneNumber.occupier_id == desk.occupier_id)
    else:
        query = query.where(PhoneNumber.site_id == desk.site_id)
    full = {e for e in (dialled_e164(digits, desk.country), "+" + digits) if e}
    with transaction(factory) as session:
        found = session.scalars(query.where(PhoneNumber.e164.in_(full))).all() or \
            session.scalars(query.where(PhoneNumber.extension == digits)).all()
        return [Mailbox(n.id, n.extension) for n in found]


def _locked_number(session: Session, number_id: int) -> PhoneNumber:
    """The number, row-locked (PostgreSQL): two calls checking PINs at once count every attempt."""
    return session.get(PhoneNumber, number_id, with_for_update=True)


def check_pin(factory: Factory, phone_id: str, number_id: int, pin: str) -> pins.PinCheck:
    """R16-R18 through pbx.services.pins (which audits the attempt)."""
    with transaction(factory) as session:
        return pins.check_pin(session, actor_for(phone_id), _locked_number(session, number_id), pin)


def set_custom_pin(factory: Factory, phone_id: str, number_id: int, pin: str) -> None:
    """R17, R19; raises RuleBroken with the policy's reason."""
    with transaction(factory) as session:
        pins.set_custom_pin(session, actor_for(phone_id), _locked_number(session, number_id), pin)


def audit(factory: Factory, phone_id: str, action: str, number_id: int | None, **detail: Any) -> None:
    with transaction(factory) as session:
        number = session.get(PhoneNumber, number_id) if number_id is not None else None
        audit_log.record(session, actor_for(phone_id), action, number=number, phone_id=phone_id, **detail)


def log_in(factory: Factory, phone_id: str, number_id: int) -> None:
    """R15 from the phone (*11): the same rule as the portal (pbx.services.handsets.log_in)."""
    with transaction(factory) as session:
        number = _locked_number(session, number_id)
        refusal = why_read_only(number)
        if refusal is not None:
            raise refusal
        handsets.log_in(session, actor_for(phone_id), number, phone_id)


def log_out(factory: Factory, phone_id: str) -> str | None:
    """*12: log out whatever number is logged in to this handset; its extension, or None."""
    with transaction(factory) as session:
        handset = session.scalar(select(Handset).where(Handset.phone_id == phone_id))
        if handset is None or handset.number is None:
            return None
        number = handset.number
        handsets.log_out(session, actor_for(phone_id), number)
        return number.extension


def holder_extension(factory: Factory, phone_id: str) -> str | None:
    """The extension of the number logged in to this handset now."""
    with transaction(factory) as session:
        handset = session.scalar(select(Handset).where(Handset.phone_id == phone_id))
        return handset.number.extension if handset is not None and handset.number is not None else None


def update_features(factory: Factory, phone_id: str, number_id: int, changes: dict[str, Any]) -> None:
    """R34: the same service, rules and audit as the web UI."""
    with transaction(factory) as session:
        features.update_features(session, actor_for(phone_id), number_id, changes)


def authorization_code_needed(factory: Factory, number_id: int) -> bool:
    with transaction(factory) as session:
        number = session.get(PhoneNumber, number_id)
        return number is not None and number.features is not None \
            and number.features.authorization_code_hash is not None


def check_authorization_code(factory: Factory, phone_id: str, number_id: int, code: str,
                             destination: str) -> bool:
    """R22: the code against its argon2 hash; every attempt audited (never the code itself)."""
    with transaction(factory) as session:
        number = session.get(PhoneNumber, number_id)
        hashed = number.features.authorization_code_hash if number is not None and number.features else None
        ok = bool(code) and verify_secret(hashed, code)
        result = "ok" if ok else ("missing" if not code else "wrong")
        audit_log.record(session, actor_for(phone_id), "authcode.attempt", number=number,
                      result=result, destination=destination)
        return ok
