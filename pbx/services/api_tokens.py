"""Per-user API tokens for scripts: created once, shown once, kept only as a SHA-256.

A token is `pbx_<prefix>_<secret>`: the prefix (public, unique) finds the row, the
secret (32 random bytes) proves it. The store keeps SHA-256 of the whole token, not an
argon2 hash as for passwords: argon2 is slow on purpose to stop guessing a *low*-entropy
secret, but 256 random bits cannot be guessed however fast the hash is, and a slow hash
on every API request would cost ~50 ms of CPU a call and hand anyone an easy way to load
the server. Compared in constant time (hmac.compare_digest).

A token acts as its user, with that user's role and occupier (R3: another occupier's ids
are 404, as in a session), narrowed by its scope: `read` only reads, `write` does what the
user may. A revoked or expired token is refused (401).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput, NotFound
from pbx.store.models import ApiToken, User, utcnow

PREFIX = "pbx_"
SCOPES = ("read", "write")
MAX_TOKENS_PER_USER = 50
LAST_USED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often: no write per call


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # the whole token: shown once, never stored


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without their zone; they were written in UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _owner(session: Session, actor: Actor, user_id: int | None) -> User:
    """A person manages their own tokens; the system (CLI) anyone's."""
    wanted = user_id if user_id is not None else actor.user_id
    if wanted is None or not ((actor.role is None and not actor.is_handset) or wanted == actor.user_id):
        raise NotFound("That user was not found")
    user = session.get(User, wanted)
    if user is None:
        raise NotFound("That user was not found")
    return user


def create_token(
    session: Session,
    actor: Actor,
    name: str,
    scope: str = "write",
    *,
    user_id: int | None = None,
    expires_in_days: int | None = None,
) -> NewToken:
    user = _owner(session, actor, user_id)
    clean = validation.text(name, "name", 100, required=True)
    if scope not in SCOPES:
        raise InvalidInput("scope", "choose read or write")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise InvalidInput("expires_in_days", "give a number of days from 1 to 3650")
    count = len(session.scalars(select(ApiToken.id).where(ApiToken.user_id == user.id)).all())
    if count >= MAX_TOKENS_PER_USER:
        raise InvalidInput("name", f"a user has at most {MAX_TOKENS_PER_USER} tokens: revoke one first")
    prefix = secrets.token_hex(6)
    secret = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id,
        name=clean,
        prefix=prefix,
        secret_hash=digest(secret),
        scope=scope,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def list_tokens(session: Session, actor: Actor, *, user_id: int | None = None) -> list[ApiToken]:
    user = _owner(session, actor, user_id)
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """Only the token's own user (or the system) revokes it; anyone else's id is not found."""
    token = session.get(ApiToken, token_id)
    if token is None or not ((actor.role is None and not actor.is_handset) or token.user_id == actor.user_id):
        raise NotFound("That token was not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def is_usable(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    expires = _aware(token.expires_at)
    return token.revoked_at is None and (expires is None or expires > now)


def authenticate(session: Session, presented: str) -> ApiToken | None:
    """The usable token `presented` is, or None (unknown, wrong, revoked, expired)."""
    parts = presented.removeprefix(PREFIX).split("_", 1) if presented.startswith(PREFIX) else []
    if len(parts) != 2 or len(presented) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == parts[0]))
    if token is None or not hmac.compare_digest(token.secret_hash, digest(presented)) or not is_usable(token):
        return None
    now = utcnow()
    last = _aware(token.last_used_at)
    if last is None or now - last > LAST_USED_EVERY:
        token.last_used_at = now
    return token
