"""Look-ups the service tests share: the demo world by its own names."""

from __future__ import annotations

from sqlalchemy import select

from pbx.services.actor import Actor
from pbx.store import PhoneNumber, User


def number(session, e164: str) -> PhoneNumber:
    return session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))


def user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def actor(session, email: str) -> Actor:
    return Actor.of(user(session, email))
