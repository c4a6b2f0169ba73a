"""The webhook dispatcher: fans events out to webhooks' deliveries, POSTs them signed, retries.

State is in the store, so a restart loses nothing and any one dispatcher can take over:
1. Fan-out: each webhook's cursor walks the event table (pbx.services.events order); every
   event of the webhook's occupier (all occupiers for the operator's) becomes a
   `webhook_delivery` row, and the cursor moves, in one transaction. Another occupier's
   events are filtered out here, so they never reach the sending step.
2. Send: a delivery is due when its next_attempt_at has come and no earlier undelivered
   delivery of the same webhook has its ordering key (the number): a failing delivery for
   number X holds back X's later events for that webhook, not other numbers'. A due
   delivery is claimed by a conditional UPDATE (its attempts as the token, next_attempt_at a
   lease ahead), POSTed, then marked delivered, or retried after
   base * 2^(attempts-1) seconds (PBX_WEBHOOK_RETRY_BASE_S/_MAX_S).
A crash between POST and mark sends that delivery again: receivers get at-least-once, with
the event's `id` to drop a repeat.
3. Prune: delivered deliveries after DELIVERED_RETENTION, events after EVENT_RETENTION unless a
   delivery still waits on them (the audit log, not the event table, is the lasting record).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta

import httpx
from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from pbx.services import events
from pbx.settings import Settings
from pbx.store.db import transaction
from pbx.store.models import Event, Webhook, WebhookDelivery, utcnow
from pbx.webhooks.signing import HEADER, sign

log = logging.getLogger("pbx.webhooks")
POLL_S = 0.5
LEASE_S = 60.0
TIMEOUT_S = 10.0
BATCH = 100
USER_AGENT = "pbx-webhooks/1"
DELIVERED_RETENTION = timedelta(days=7)
EVENT_RETENTION = timedelta(days=30)  # how far back an event stream can resume (Last-Event-ID)
PRUNE_EVERY_S = 600.0
PRUNE_BATCH = 1000


def ordering_key(event: Event) -> str:
    return f"n{event.number_id}" if event.number_id is not None else f"e{event.id}"


def fan_out(session: Session) -> int:
    """New events become deliveries of every webhook that may see them; returns how many."""
    made = 0
    for hook in session.scalars(select(Webhook).order_by(Webhook.id).with_for_update(skip_locked=True)):
        found = events.after(session, (hook.cursor_txid, hook.cursor_id), hook.occupier_id, limit=BATCH)
        for event in found:
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id,
                    event_id=event.id,
                    ordering_key=ordering_key(event),
                    attempts=0,
                    next_attempt_at=utcnow(),
                )
            )
            made += 1
        if found:
            hook.cursor_txid, hook.cursor_id = events.position_of(found[-1])
    return made


def due(session: Session, limit: int = BATCH) -> list[WebhookDelivery]:
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        and_(
            earlier.webhook_id == WebhookDelivery.webhook_id,
            earlier.ordering_key == WebhookDelivery.ordering_key,
            earlier.delivered_at.is_(None),
            earlier.id < WebhookDelivery.id,
        )
    )
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.delivered_at.is_(None), WebhookDelivery.next_attempt_at <= utcnow(), ~blocked)
        .order_by(WebhookDelivery.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def prune(session: Session, now: datetime | None = None) -> int:
    """One bounded batch of old deliveries and events deleted; returns how many rows."""
    now = now or utcnow()
    old_deliveries = list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.delivered_at < now - DELIVERED_RETENTION)
            .limit(PRUNE_BATCH)
        )
    )
    if old_deliveries:
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(old_deliveries)))
    waiting = exists().where(WebhookDelivery.event_id == Event.id)
    query = select(Event.id).where(Event.at < now - EVENT_RETENTION, ~waiting)
    behind = session.scalar(select(func.min(Webhook.cursor_id)))
    if behind is not None:  # never an event a webhook has not fanned out yet
        query = query.where(Event.id <= behind)
    old_events = list(session.scalars(query.limit(PRUNE_BATCH)))
    if old_events:
        session.execute(delete(Event).where(Event.id.in_(old_events)))
    return len(old_deliveries) + len(old_events)


def retry_after(settings: Settings, attempts: int) -> float:
    return min(settings.webhook_retry_base_s * 2 ** max(attempts - 1, 0), settings.webhook_retry_max_s)


class Dispatcher:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self.client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, headers={"User-Agent": USER_AGENT})
        self.pruned_at = 0.0

    def run_once(self) -> int:
        """One fan-out and one round of sending; returns how many deliveries were tried."""
        with transaction(self.factory) as session:
            fan_out(session)
        if time.monotonic() - self.pruned_at > PRUNE_EVERY_S:
            self.pruned_at = time.monotonic()
            with transaction(self.factory) as session:
                prune(session)
        with transaction(self.factory) as session:
            todo = [(d.id, d.attempts) for d in due(session)]
        for delivery_id, attempts in todo:
            self._try(delivery_id, attempts)
        return len(todo)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a store or network hiccup: log it and go on (state is in the store)
                log.exception("webhook round failed")
                busy = 0
            if not busy:
                stop.wait(POLL_S)

    def _claim(self, delivery_id: int, attempts: int) -> tuple[str, str, bytes, str] | None:
        with transaction(self.factory) as session:
            claimed = session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.attempts == attempts,
                    WebhookDelivery.delivered_at.is_(None),
                )
                .values(attempts=attempts + 1, next_attempt_at=utcnow() + timedelta(seconds=LEASE_S))
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            delivery = session.get(WebhookDelivery, delivery_id)
            assert delivery is not None
            hook = session.get(Webhook, delivery.webhook_id)
            event = session.get(Event, delivery.event_id)
            if hook is None or event is None:
                return None
            published = events.Published.of(event)
            body = json.dumps(published.as_dict(), sort_keys=True).encode()
            return hook.url, hook.secret, body, published.kind

    def _try(self, delivery_id: int, attempts: int) -> None:
        claim = self._claim(delivery_id, attempts)
        if claim is None:
            return
        url, secret, body, kind = claim
        error = self._post(url, secret, body, kind, delivery_id)
        with transaction(self.factory) as session:
            delivery = session.get(WebhookDelivery, delivery_id)
            if delivery is None:
                return
            if error is None:
                delivery.delivered_at = utcnow()
                delivery.last_error = None
            else:
                wait = retry_after(self.settings, attempts + 1)
                delivery.next_attempt_at = utcnow() + timedelta(seconds=wait)
                delivery.last_error = error[:500]
                log.info("webhook delivery %s failed (%s); retry in %.1f s", delivery_id, error, wait)

    def _post(self, url: str, secret: str, body: bytes, kind: str, delivery_id: int) -> str | None:
        headers = {
            "Content-Type": "application/json",
            HEADER: sign(secret, body, int(time.time())),
            "X-PBX-Event": kind,
            "X-PBX-Delivery": str(delivery_id),
        }
        try:
            answer = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"

    def close(self) -> None:
        self.client.close()
