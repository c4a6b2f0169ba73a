"""R45 in the store, on SQLite and PostgreSQL: events are written with their change and read in
commit-safe order; a webhook's fan-out takes only its occupier's; a PIN that locks is published."""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from pbx.services import assignment, events, pins, webhooks
from pbx.services.actor import Actor
from pbx.settings import Settings
from pbx.store import PhoneNumber, transaction
from pbx.store.models import Occupier, User, WebhookDelivery
from pbx.webhooks.dispatcher import Dispatcher, due, fan_out


def _number(session, e164):
    return session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))


def _actor(session, email):
    return Actor.of(session.scalar(select(User).where(User.email == email)))


def test_r45_events_are_read_after_a_cursor_in_order_and_scoped(demo_factory):
    with transaction(demo_factory) as session:
        start = events.head(session)
        acme = session.scalar(select(Occupier.id).where(Occupier.name == "Acme Ltd"))
    for first in ("A", "B", "C"):
        with transaction(demo_factory) as session:
            assignment.set_display_name(session, Actor.system(), _number(session, "+442079460204").id, first, "")
    with transaction(demo_factory) as session:
        assignment.set_display_name(session, Actor.system(), _number(session, "+442079460502").id, "G", "")
    with transaction(demo_factory) as session:
        mine = events.after(session, start, acme)
        every = events.after(session, start, None)
        assert [json_first(e) for e in mine] == ["A", "B", "C"]
        assert [json_first(e) for e in every] == ["A", "B", "C", "G"]
        assert events.after(session, events.position_of(every[-1]), None) == []
        assert events.decode(events.encode(events.position_of(every[0]))) == events.position_of(every[0])


def json_first(event) -> str:
    return events.Published.of(event).data["detail"]["first"]


def test_r45_a_pin_that_locks_is_published(demo_factory):
    with transaction(demo_factory) as session:
        start = events.head(session)
        number = _number(session, "+442079460204")
    for _ in range(3):
        with transaction(demo_factory) as session:
            pins.check_pin(session, Actor.system(), _number(session, "+442079460204"), "000000")
    with transaction(demo_factory) as session:
        kinds = [e.kind for e in events.after(session, start, None)]
    assert kinds == ["pin.locked"] and number is not None


def test_r45_fan_out_gives_a_webhook_only_its_occupiers_events_once(demo_factory):
    with transaction(demo_factory) as session:
        acme_hook = webhooks.create_webhook(session, _actor(session, "admin@acme.example"), "http://127.0.0.1:9/a")
        all_hook = webhooks.create_webhook(session, Actor.system(), "http://127.0.0.1:9/all")
        hooks = (acme_hook.id, all_hook.id)
    with transaction(demo_factory) as session:
        assignment.set_display_name(session, Actor.system(), _number(session, "+442079460204").id, "A", "")
        assignment.set_display_name(session, Actor.system(), _number(session, "+442079460502").id, "G", "")
    with transaction(demo_factory) as session:
        assert fan_out(session) == 3
    with transaction(demo_factory) as session:
        assert fan_out(session) == 0  # the cursors moved
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        assert sorted((r.webhook_id, r.ordering_key.startswith("n")) for r in rows) == sorted(
            [(hooks[0], True), (hooks[1], True), (hooks[1], True)]
        )
        assert len(due(session)) == 3


def test_r45_a_delivery_is_posted_signed_and_marked(demo_factory):
    got: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with transaction(demo_factory) as session:
            actor = _actor(session, "admin@acme.example")
            webhooks.create_webhook(session, actor, f"http://127.0.0.1:{server.server_port}/x")
        with transaction(demo_factory) as session:
            pins.reset_pin(session, actor, _number(session, "+442079460201").id)
        settings = dataclasses.replace(Settings.from_env({}), webhook_retry_base_s=0.1)
        dispatcher = Dispatcher(settings, demo_factory)
        assert dispatcher.run_once() == 1
        assert dispatcher.run_once() == 0
        dispatcher.close()
        assert len(got) == 1 and b'"pin.reset"' in got[0]
        with transaction(demo_factory) as session:
            assert session.scalar(select(WebhookDelivery.delivered_at)) is not None
    finally:
        server.shutdown()
        server.server_close()


def test_r45_old_events_and_deliveries_are_pruned_but_never_one_still_waiting(demo_factory):
    from datetime import timedelta

    from pbx.store.models import Event, utcnow
    from pbx.webhooks.dispatcher import EVENT_RETENTION, prune

    with transaction(demo_factory) as session:
        webhooks.create_webhook(session, Actor.system(), "http://127.0.0.1:9/all")
    with transaction(demo_factory) as session:
        assignment.set_display_name(session, Actor.system(), _number(session, "+442079460204").id, "A", "")
    with transaction(demo_factory) as session:
        fan_out(session)
        for event in session.scalars(select(Event)):
            event.at = utcnow() - EVENT_RETENTION - timedelta(days=1)
    with transaction(demo_factory) as session:
        prune(session)
        kept = [e.kind for e in session.scalars(select(Event))]
    assert kept == ["number.display_name_changed"]  # its delivery still waits
    with transaction(demo_factory) as session:
        for delivery in session.scalars(select(WebhookDelivery)):
            delivery.delivered_at = utcnow() - timedelta(days=8)
    with transaction(demo_factory) as session:
        assert prune(session) >= 1
    with transaction(demo_factory) as session:
        prune(session)
        assert session.scalars(select(Event)).all() == []
