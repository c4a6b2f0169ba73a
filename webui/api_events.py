"""R45 in the API: the event stream (Server-Sent Events) and the webhooks' registration.

The stream reads the event table after the client's `Last-Event-ID` (or from now), only the
caller's occupier's events (the operator: all; a user: their own number's), taking a store
session for each poll and giving it back before sleeping: an open stream holds no
connection. It ends after STREAM_S (the browser's EventSource reconnects by itself, with
Last-Event-ID), so a stream never outlives a revoked session or token by long.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, jsonify, request
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pbx.services import directory, events, webhooks
from pbx.services.actor import Actor
from pbx.store.models import Webhook, WebhookDelivery
from webui import api_models as m
from webui.access import ADMIN, OPERATOR, USER, current_actor
from webui.api_registry import operation
from webui.schemas import Body, json_body
from webui.store import state, unit_of_work

STREAM_S = 300.0  # a stream's life; the browser reconnects (config PBX_SSE_STREAM_S)
# Each open stream holds a server thread: at most this many at once (config PBX_SSE_MAX_STREAMS);
# `pbx web` gives waitress this many threads more than it had. One more is told to come back later.
MAX_STREAMS = 16
BUSY_RETRY_MS = 30_000
POLL_S = 1.0
HEARTBEAT_S = 15.0
RETRY_MS = 2000


class NewWebhook(Body):
    """POST /webhooks."""

    url: str = Field(description="give an http:// or https:// address")
    secret: str | None = Field(None, description="give 16 to 100 characters, or leave it out to have one made")


class Stream(m.Answer):
    """text/event-stream: `id: <event id>`, `data: <the event as JSON>`."""


class EventOut(m.Answer):
    id: str
    type: str
    at: str
    occupier_id: int | None
    number_id: int | None


class WebhookOut(m.Answer):
    id: int
    url: str
    occupier_id: int | None
    created_at: str
    pending: int


class WebhookCreated(WebhookOut):
    secret: str


class Webhooks(m.Answer):
    webhooks: list[WebhookOut]


def _scope(actor: Actor) -> tuple[int | None, int | None]:
    """(occupier, number) the caller's stream is narrowed to."""
    if actor.is_operator:
        return None, None
    if actor.is_occupier_admin:
        return actor.own_occupier_id, None
    with state().sessions() as db:
        mine = directory.my_number(db, actor)
        return actor.own_occupier_id, (mine.id if mine else -1)


def _frames(
    factory: sessionmaker[Session], start: events.Position, occupier_id: int | None, number_id: int | None, life: float
) -> Iterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    cursor = start
    ends = time.monotonic() + life
    beat = time.monotonic()
    while time.monotonic() < ends:
        with factory() as db:  # a session per poll: closed before the sleep
            found = [events.Published.of(e) for e in events.after(db, cursor, occupier_id)]
        if found:
            cursor = events.decode(found[-1].id) or cursor
        for event in found:
            if number_id is not None and event.number_id != number_id:
                continue
            # No `event:` line: every event reaches EventSource.onmessage; its type is in the data.
            yield f"id: {event.id}\ndata: {json.dumps(event.as_dict())}\n\n"
        if time.monotonic() - beat > HEARTBEAT_S:
            beat = time.monotonic()
            yield ": still here\n\n"
        if not found:
            time.sleep(POLL_S)


@operation("GET", "/events/stream", roles=(ADMIN, USER, OPERATOR), tag="Events", response=Stream, stream=True)
def events_stream():
    """R45: changes as Server-Sent Events, from Last-Event-ID (or now); closes after a few minutes.

    Each event: `id` (give it back as Last-Event-ID to resume) and `data`, the event as JSON
    (`type`, `number_id`, `occupier_id`, `at`, `e164`, `actor`, `detail`)."""
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    slots = _slots()
    if not slots.acquire(blocking=False):
        return Response(f"retry: {BUSY_RETRY_MS}\n\n", mimetype="text/event-stream", headers=headers)
    try:
        occupier_id, number_id = _scope(current_actor())
        start = events.decode(request.headers.get("Last-Event-ID") or request.args.get("after"))
        if start is None:
            with state().sessions() as db:
                start = events.head(db)
        life = float(current_app.config.get("PBX_SSE_STREAM_S", STREAM_S))
        frames = _frames(state().sessions, start, occupier_id, number_id, life)
    except BaseException:
        slots.release()
        raise
    answer = Response(frames, mimetype="text/event-stream", headers=headers)
    answer.call_on_close(slots.release)  # the server closes the body however the stream ends
    return answer


def _slots() -> threading.BoundedSemaphore:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _SLOTS_LOCK:
        if "pbx_sse_slots" not in app.extensions:
            app.extensions["pbx_sse_slots"] = threading.BoundedSemaphore(
                int(app.config.get("PBX_SSE_MAX_STREAMS", MAX_STREAMS))
            )
        return app.extensions["pbx_sse_slots"]


_SLOTS_LOCK = threading.Lock()


def _pending(db: Any, hook: Webhook) -> int:
    return db.scalar(
        select(func.count())
        .select_from(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id, WebhookDelivery.delivered_at.is_(None))
    )


def webhook_json(db: Any, hook: Webhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        "occupier_id": hook.occupier_id,
        "created_at": hook.created_at.isoformat(),
        "pending": _pending(db, hook),
    }


@operation("GET", "/webhooks", roles=(ADMIN, OPERATOR), tag="Events", response=Webhooks)
def list_webhooks():
    """R45: the webhooks of the admin's occupier (the operator's: all of them)."""
    with unit_of_work() as db:
        return jsonify(webhooks=[webhook_json(db, h) for h in webhooks.list_webhooks(db, current_actor())])


@operation(
    "POST", "/webhooks", roles=(ADMIN, OPERATOR), tag="Events", response=WebhookCreated, body=NewWebhook, status=201
)
def create_webhook():
    """R45: register a URL for the caller's occupier's events (the operator: every occupier's).

    Bodies are POSTed as JSON, signed `X-PBX-Signature: t=<unix time>,v1=<HMAC-SHA256 hex of
    "<t>.<body>" keyed by the secret>`; the secret is shown in this answer only."""
    body = json_body(NewWebhook)
    with unit_of_work() as db:
        hook = webhooks.create_webhook(db, current_actor(), body.url, body.secret)
        return jsonify(**webhook_json(db, hook), secret=hook.secret), 201


@operation("DELETE", "/webhooks/<int:webhook_id>", roles=(ADMIN, OPERATOR), tag="Events", response=m.Answer)
def delete_webhook(webhook_id: int):
    """R45: stop delivering to a webhook (its undelivered events are dropped)."""
    with unit_of_work() as db:
        webhooks.delete_webhook(db, current_actor(), webhook_id)
        return jsonify(message="The webhook is deleted")
