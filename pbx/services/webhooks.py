"""R45: webhooks, registered by an occupier's admin (its occupier's events) or the operator (all).

A webhook starts after the last event already published: it gets the changes made from
then on. Its secret signs every body (pbx.webhooks.signing); it is shown when the webhook
is created and kept as it is (signing needs it), unlike tokens and passwords.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services import audit, events
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, NotFound
from pbx.store.models import Webhook, utcnow

URL_MAX = 500
MAX_PER_OWNER = 20
_CONTROL = {chr(c) for c in range(33)} | {"\x7f"}


def check_url(url: str) -> str:
    """http(s) only, with a host, no spaces or control characters: it is only ever POSTed to."""
    clean = (url or "").strip()
    parts = urlsplit(clean)
    if (
        len(clean) > URL_MAX
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or any(c in _CONTROL for c in clean)
    ):
        raise InvalidInput("url", f"give an http:// or https:// address of at most {URL_MAX} characters")
    return clean


def _scope(actor: Actor) -> int | None:
    """The occupier whose webhooks the actor manages; None: the operator (all occupiers)."""
    if actor.is_operator:
        return None
    if not actor.is_occupier_admin:
        raise Forbidden("Only an occupier admin or the operator manages webhooks")
    return actor.own_occupier_id


def create_webhook(session: Session, actor: Actor, url: str, secret: str | None = None) -> Webhook:
    occupier_id = _scope(actor)
    clean = check_url(url)
    if secret is not None and not (16 <= len(secret) <= 100 and secret.isprintable() and " " not in secret):
        raise InvalidInput("secret", "give 16 to 100 printable characters without spaces, or leave it out")
    if len(list_webhooks(session, actor)) >= MAX_PER_OWNER:
        raise InvalidInput("url", f"at most {MAX_PER_OWNER} webhooks: delete one first")
    txid, event_id = events.head(session)
    hook = Webhook(
        occupier_id=occupier_id,
        created_by_user_id=actor.user_id,
        url=clean,
        secret=secret or secrets.token_urlsafe(32),
        created_at=utcnow(),
        cursor_txid=txid,
        cursor_id=event_id,
    )
    session.add(hook)
    session.flush()
    audit.record(session, actor, "webhook.create", occupier_id=occupier_id, url=clean, webhook_id=hook.id)
    return hook


def list_webhooks(session: Session, actor: Actor) -> list[Webhook]:
    occupier_id = _scope(actor)
    query = select(Webhook).order_by(Webhook.id)
    if occupier_id is not None:
        query = query.where(Webhook.occupier_id == occupier_id)
    return list(session.scalars(query))


def get_webhook(session: Session, actor: Actor, webhook_id: int) -> Webhook:
    """R3: another occupier's webhook is not found."""
    occupier_id = _scope(actor)
    hook = session.get(Webhook, webhook_id)
    if hook is None or (occupier_id is not None and hook.occupier_id != occupier_id):
        raise NotFound("That webhook was not found")
    return hook


def delete_webhook(session: Session, actor: Actor, webhook_id: int) -> None:
    hook = get_webhook(session, actor, webhook_id)
    audit.record(session, actor, "webhook.delete", occupier_id=hook.occupier_id, url=hook.url, webhook_id=hook.id)
    session.delete(hook)
