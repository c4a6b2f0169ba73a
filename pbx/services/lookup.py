"""Tenant-scoped look-ups: `get_*` raises NotFound, and another occupier's id is simply not found (R3)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services.actor import Actor
from pbx.services.errors import NotFound
from pbx.store.models import Handset, Occupier, PhoneNumber, Site, User

NUMBER_NOT_FOUND = "That phone number was not found"


def can_see_number(actor: Actor, number: PhoneNumber) -> bool:
    """R3: an admin sees its occupier's numbers (the operator all), a user or a handset only its own."""
    return actor.can_see_occupier(number.occupier_id) and (actor.is_admin or actor.holds(number.id, number.user_id))


def get_number(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    number = session.get(PhoneNumber, number_id)
    if number is None or not can_see_number(actor, number):
        raise NotFound(NUMBER_NOT_FOUND)
    return number


def get_number_by_e164(session: Session, actor: Actor, e164: str) -> PhoneNumber:
    number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))
    if number is None:
        raise NotFound(f"The number {e164} was not found")
    return get_number(session, actor, number.id)


def get_occupier(session: Session, actor: Actor, occupier_id: int) -> Occupier:
    occupier = session.get(Occupier, occupier_id)
    if occupier is None or not actor.can_see_occupier(occupier.id):
        raise NotFound("That occupier was not found")
    return occupier


def get_occupier_by_name(session: Session, actor: Actor, name: str) -> Occupier:
    """The occupier called `name` (the CLI's way to name one)."""
    occupier = session.scalar(select(Occupier).where(Occupier.name == name))
    if occupier is None or not actor.can_see_occupier(occupier.id):
        raise NotFound(f"There is no occupier called {name}")
    return occupier


def get_site(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("That site was not found")
    return site


def get_user(session: Session, actor: Actor, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.occupier_id is None or not actor.can_see_occupier(user.occupier_id):
        raise NotFound("That user was not found")
    return user


def get_handset_at_site(session: Session, site_id: int, phone_id: str) -> Handset:
    handset = session.scalar(select(Handset).where(Handset.phone_id == phone_id, Handset.site_id == site_id))
    if handset is None:
        raise NotFound(f"There is no handset with phone ID {phone_id} at this site")
    return handset
