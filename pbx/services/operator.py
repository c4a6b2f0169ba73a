"""R31: what the operator does: sites, occupiers, users, numbers and handsets."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.services import audit, call_policy, emergency, licences, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, InvalidInput, RuleBroken
from pbx.services.lookup import get_number, get_occupier, get_site
from pbx.services.passwords import hash_secret
from pbx.services.pin_policy import check_default_pin, random_default_pin
from pbx.store.models import (
    Handset,
    NumberFeatures,
    NumberStatus,
    Occupier,
    Operator,
    OutboxKind,
    PhoneNumber,
    Role,
    Site,
    User,
)
from pbx.validation import FieldChecks

MIN_PASSWORD_LENGTH = 8


def create_operator(session: Session, actor: Actor, name: str) -> Operator:
    actor.require_operator()
    operator = Operator(name=validation.text(name, "name", 100, required=True))
    session.add(operator)
    session.flush()
    return operator


def create_site(session: Session, actor: Actor, operator: Operator, name: str, country: str = "GB") -> Site:
    actor.require_operator()
    clean = validation.text(name, "site_name", 100, required=True)
    if session.scalar(select(Site).where(Site.operator_id == operator.id, Site.name == clean)):
        raise Conflict(f"There is already a site called {clean}")
    if not (len(country) == 2 and country.isalpha()):
        raise InvalidInput("country", "use a two-letter country code such as GB")
    site = Site(operator=operator, name=clean, country=country.upper())
    session.add(site)
    session.flush()
    audit.record(session, actor, "site.create", site=clean)
    return site


def create_occupier(
    session: Session,
    actor: Actor,
    operator: Operator,
    name: str,
    sites: list[Site],
    voice_services: bool = True,
    voice_licences: int = 0,
) -> Occupier:
    """R36: `voice_licences` is how many voice services it bought (none until the operator says)."""
    actor.require_operator()
    clean = validation.text(name, "occupier_name", 100, required=True)
    if not sites:
        raise InvalidInput("sites", "an occupier is based at one site at least")
    if session.scalar(select(Occupier).where(Occupier.operator_id == operator.id, Occupier.name == clean)):
        raise Conflict(f"There is already an occupier called {clean}")
    occupier = Occupier(
        operator=operator,
        name=clean,
        voice_services_active=voice_services,
        sites=list(sites),
        voice_licences=licences.count_of(voice_licences),
    )
    session.add(occupier)
    session.flush()
    audit.record(session, actor, "occupier.create", occupier_id=occupier.id, name=clean)
    return occupier


def set_voice_services(session: Session, actor: Actor, occupier_id: int, active: bool) -> Occupier:
    """R2: without active voice services an occupier's admins have nothing to change."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    occupier.voice_services_active = active
    # Its numbers appear in or vanish from the rendered routes and the live state.
    outbox.enqueue(session, OutboxKind.STRUCTURE)
    for number in occupier.numbers:
        if number.status is not NumberStatus.RESERVED:
            outbox.number_changed(session, number)
    audit.record(session, actor, "occupier.voice_services", occupier_id=occupier.id, active=active)
    return occupier


def create_user(
    session: Session,
    actor: Actor,
    operator: Operator,
    occupier: Occupier | None,
    first_name: str,
    last_name: str,
    email: str,
    password: str,
    role: Role,
) -> User:
    if occupier is not None:
        actor.check_occupier(occupier.id, "That occupier")
    if not (actor.is_operator or (actor.is_occupier_admin and role is not Role.OPERATOR_ADMIN)):
        raise RuleBroken("R1", "Only the operator or an occupier admin can add users")
    checks = FieldChecks()
    first = checks.run(validation.text, first_name, "first_name", validation.NAME_MAX, True)
    last = checks.run(validation.text, last_name, "last_name", validation.NAME_MAX, True)
    clean_email = checks.run(validation.email, email)
    checks.run(validation.no_control_characters, password or "", "password")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        checks.refuse(InvalidInput("password", f"use at least {MIN_PASSWORD_LENGTH} characters"))
    if (role is Role.OPERATOR_ADMIN) != (occupier is None):
        checks.refuse(InvalidInput("role", "operator admins belong to the operator; other users to an occupier"))
    checks.done()
    if session.scalar(select(User).where(User.email == clean_email)):
        raise Conflict(f"There is already a user with the email {clean_email}")
    user = User(
        operator=operator,
        occupier=occupier,
        first_name=first,
        last_name=last,
        email=clean_email,
        password_hash=hash_secret(password),
        role=role,
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", occupier_id=occupier.id if occupier else None, email=clean_email)
    return user


@dataclass(frozen=True)
class Allocation:
    """A number ready to allocate: every value checked, clean."""

    occupier: Occupier
    site: Site
    e164: str
    extension: str
    default_pin: str


def check_allocation(
    session: Session, occupier: Occupier, site: Site, e164: str, extension: str, default_pin: str | None = None
) -> Allocation:
    """R4: what a new number must be; every wrong field at once (FieldErrors), then what the store holds (Conflict).

    Also the check of each row of a bulk allocation (pbx.services.bulk_allocation)."""
    checks = FieldChecks()
    if site not in occupier.sites:
        checks.refuse(InvalidInput("site", f"{occupier.name} is not based at {site.name}"))
    number_text = checks.run(validation.e164, e164)
    ext = checks.run(validation.extension, extension)
    for based in occupier.sites:  # its handsets at any of its sites dial the extension
        if ext and ext in emergency.local_numbers(based):
            checks.refuse(InvalidInput("extension", f"{ext} is an emergency number at {based.name}"))
    pin = checks.run(validation.pin_digits, default_pin, "default_pin") if default_pin else random_default_pin()
    if default_pin and pin:
        checks.run(check_default_pin, pin, ext or "")  # R19
    checks.done()
    assert number_text is not None and ext is not None and pin is not None  # done() raised otherwise
    if session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == number_text)):
        raise Conflict(f"{number_text} is already allocated")
    if session.scalar(select(Site.id).where(Site.portal_number == number_text)) is not None:
        raise Conflict(f"{number_text} is a voice portal number (R42)")
    if session.scalar(
        select(PhoneNumber.id).where(PhoneNumber.occupier_id == occupier.id, PhoneNumber.extension == ext)
    ):
        raise Conflict(f"{occupier.name} already has a number with extension {ext}")
    return Allocation(occupier, site, number_text, ext, pin)


def allocate_number(
    session: Session,
    actor: Actor,
    occupier_id: int,
    site_id: int,
    e164: str,
    extension: str,
    default_pin: str | None = None,
) -> PhoneNumber:
    """R4: a new number starts Reserved, with its default PIN."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    site = get_site(session, site_id)
    return add_number(session, actor, check_allocation(session, occupier, site, e164, extension, default_pin))


def add_number(session: Session, actor: Actor, checked: Allocation) -> PhoneNumber:
    """R4: the checked number, Reserved, audited."""
    number = PhoneNumber(
        e164=checked.e164,
        extension=checked.extension,
        site=checked.site,
        occupier=checked.occupier,
        status=NumberStatus.RESERVED,
        default_pin=checked.default_pin,
        features=NumberFeatures(),
    )
    session.add(number)
    session.flush()
    audit.record(session, actor, "number.allocate", number=number, e164=checked.e164, extension=checked.extension)
    return number


def activate_number(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    """R4, R36: Reserved -> Active, using one of the occupier's free voice services."""
    actor.require_operator()
    number = get_number(session, actor, number_id)
    if number.status is not NumberStatus.RESERVED:
        raise RuleBroken("R4", f"{number.e164} is already active")
    licences.claim(session, number)
    number.status = NumberStatus.ACTIVE
    outbox.number_changed(session, number, structure=True)
    audit.record(session, actor, "number.activate", number=number)
    return number


def set_main_number(session: Session, actor: Actor, number_id: int, destination: str | None) -> PhoneNumber:
    """R5: the occupier's main number at a site: inbound only, never logged in, rings `destination`.

    A Reserved number is refused (R5, R6: not in use yet). Its user loses it and the site's old main
    number steps down: pbx.services.console.preview_main_number says so before the console asks.
    R36 holds through activation: only an Active number (one that took a voice service) is made main."""
    actor.require_operator()
    number = get_number(session, actor, number_id)
    if number.status is NumberStatus.RESERVED:
        raise RuleBroken("R5", f"{number.e164} is Reserved: activate it before making it the main number")
    if number.handset is not None:
        raise RuleBroken("R5", "Log the number out of its handset before making it the main number")
    others = session.scalars(
        select(PhoneNumber).where(
            PhoneNumber.occupier_id == number.occupier_id,
            PhoneNumber.site_id == number.site_id,
            PhoneNumber.is_main.is_(True),
            PhoneNumber.id != number.id,
        )
    )
    for other in others:
        other.is_main = False
        outbox.number_changed(session, other)
    session.flush()  # the old main number steps down before the unique index sees the new one
    number.is_main = True
    number.user_id = None
    number.main_destination = validation.dial_target(destination, "destination") if destination else None
    if number.main_destination == number.extension or number.main_destination == number.e164:
        raise InvalidInput("destination", "the main number cannot ring itself")
    if number.main_destination:
        call_policy.check_destination(session, number, number.main_destination, "main number destination")  # R39
    outbox.number_changed(session, number, structure=True)
    audit.record(session, actor, "number.set_main", number=number, destination=number.main_destination)
    return number


def register_handset(
    session: Session, actor: Actor, site_id: int, phone_id: str, sip_password: str | None = None
) -> Handset:
    actor.require_operator()
    site = get_site(session, site_id)
    clean = validation.phone_id(phone_id)
    same = session.scalar(select(Handset).where(func.lower(Handset.phone_id) == clean.lower()))
    if same is not None:
        # Phone IDs are unique whatever their case (migration 0013): "Desk-1" is "desk-1".
        raise Conflict(f"There is already a handset with phone ID {same.phone_id}")
    password = sip_password or secrets.token_urlsafe(18)
    if not validation.PHONE_ID_RE.fullmatch(password):
        raise InvalidInput("sip_password", "use letters, digits, '.', '_' or '-'")
    handset = Handset(phone_id=clean, site=site, sip_password=password)
    session.add(handset)
    session.flush()
    outbox.enqueue(session, OutboxKind.STRUCTURE)
    audit.record(session, actor, "handset.register", phone_id=clean, site=site.name)
    return handset
