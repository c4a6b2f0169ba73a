"""R45: every change is published: a real HTTP receiver on 127.0.0.x gets each event once, signed,
in order per number; one that is down gets them once it is back; never another occupier's."""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from pbx.services import assignment, events, features, handsets, pins
from pbx.services.actor import Actor
from pbx.services.errors import PbxError
from pbx.settings import Settings
from pbx.store.db import transaction
from pbx.store.models import Event, User
from pbx.webhooks.dispatcher import Dispatcher
from pbx.webhooks.signing import HEADER, verify
from tests.web.conftest import ACME_ADMIN, GLOBEX_ADMIN, OPERATOR, free_port

HOST = os.environ.get("PBX_TEST_WEBHOOK_HOST", "127.0.0.1")
WAIT_S = 30.0


class Receiver:
    """A real HTTP server that records each signed body (or answers 503 while `down`)."""

    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.bodies: list[dict] = []
        self.bad_signatures = 0
        self.down = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                if not verify(receiver.secret, body, self.headers[HEADER], time.time()):
                    receiver.bad_signatures += 1
                receiver.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made: list[Receiver] = []
    yield lambda: made.append(Receiver()) or made[-1]
    for r in made:
        r.close()


@pytest.fixture
def dispatcher(factory):
    settings = dataclasses.replace(Settings.from_env({}), webhook_retry_base_s=0.2, webhook_retry_max_s=1.0)
    d = Dispatcher(settings, factory)
    yield d
    d.close()


def actor(factory, email) -> Actor:
    with transaction(factory) as session:
        return Actor.of(session.scalar(select(User).where(User.email == email)))


def register(signed, receiver: Receiver) -> None:
    answer = signed.write("POST", "/api/v1/webhooks", {"url": receiver.url})
    assert answer.status_code == 201, answer.json
    receiver.secret = answer.json["secret"]


def pump(dispatcher, until, bound_s: float = WAIT_S) -> None:
    ends = time.monotonic() + bound_s
    while time.monotonic() < ends:
        dispatcher.run_once()
        if until():
            return
        time.sleep(0.05)
    raise AssertionError("the webhook deliveries did not arrive in time")


def test_r45_each_change_is_delivered_once_signed_and_in_order(signed_in, factory, ids, dispatcher, receivers):
    acme, globex, everyone = receivers(), receivers(), receivers()
    register(signed_in(ACME_ADMIN), acme)
    register(signed_in(GLOBEX_ADMIN), globex)
    register(signed_in(OPERATOR), everyone)
    admin = actor(factory, ACME_ADMIN)
    free, alice = ids.numbers["+442079460204"], ids.numbers["+442079460201"]
    with transaction(factory) as session:
        handsets.log_in_handset(session, admin, free, "desk-os-5")
    with transaction(factory) as session:
        features.update_features(session, admin, free, {"call_waiting": False})
    with transaction(factory) as session:
        handsets.log_out_handset(session, admin, free)
    with transaction(factory) as session:
        pins.reset_pin(session, admin, alice)
    with transaction(factory) as session:  # Globex's change: never to Acme's webhook
        globex_admin = actor(factory, GLOBEX_ADMIN)
        assignment.set_display_name(session, globex_admin, ids.numbers["+442079460502"], "Reception", "")
    wanted = ["handset.logged_in", "number.features_changed", "handset.logged_out", "pin.reset"]
    pump(dispatcher, lambda: len(acme.bodies) >= 4 and len(everyone.bodies) >= 5 and globex.bodies)
    time.sleep(0.3)
    dispatcher.run_once()  # nothing is sent twice
    # In order per number (other numbers' events are not held back behind them).
    assert [b["type"] for b in acme.bodies if b["number_id"] == free] == wanted[:3]
    assert [b["type"] for b in acme.bodies if b["number_id"] == alice] == wanted[3:]
    assert len(acme.bodies) == 4
    assert acme.bodies[0]["detail"]["phone_id"] == "desk-os-5" and acme.bodies[0]["e164"] == "+442079460204"
    assert [b["type"] for b in globex.bodies] == ["number.display_name_changed"]
    assert sorted(b["type"] for b in everyone.bodies) == sorted([*wanted, "number.display_name_changed"])
    assert acme.bad_signatures == globex.bad_signatures == everyone.bad_signatures == 0
    assert len({b["id"] for b in everyone.bodies}) == 5


def test_r45_a_receiver_that_is_down_gets_the_events_once_it_is_back(signed_in, factory, ids, dispatcher, receivers):
    hook = receivers()
    register(signed_in(ACME_ADMIN), hook)
    hook.down = True
    admin = actor(factory, ACME_ADMIN)
    free = ids.numbers["+442079460204"]
    for first in ("One", "Two", "Three"):
        with transaction(factory) as session:
            assignment.set_display_name(session, admin, free, first, "")
    with transaction(factory) as session:  # another number's event is not held back by the failing one
        pins.reset_pin(session, admin, ids.numbers["+442079460201"])
    dispatcher.run_once()
    assert hook.bodies == []
    hook.down = False
    pump(dispatcher, lambda: len(hook.bodies) >= 4)
    names = [b["detail"].get("first") for b in hook.bodies if b["type"] == "number.display_name_changed"]
    assert names == ["One", "Two", "Three"]  # in order, each once, after the back-off
    assert len(hook.bodies) == 4


def test_r45_events_are_written_with_the_change_and_not_when_it_is_refused(factory, ids):
    admin_actor = actor(factory, ACME_ADMIN)
    with transaction(factory) as session:
        before = len(session.scalars(select(Event.id)).all())
    with pytest.raises(PbxError), transaction(factory) as session:
        handsets.log_in_handset(session, admin_actor, ids.numbers["+442079460204"], "desk-os-1")  # taken
    with transaction(factory) as session:
        assert len(session.scalars(select(Event.id)).all()) == before
        assert events.after(session, events.START, None, limit=1000)  # the demo's own changes


def test_r45_webhook_urls_are_http_only_and_scoped(signed_in, factory, ids):
    admin = signed_in(ACME_ADMIN)
    refused = admin.write("POST", "/api/v1/webhooks", {"url": "file:///etc/passwd"})
    assert refused.status_code == 400 and refused.json["field"] == "url"
    made = admin.write("POST", "/api/v1/webhooks", {"url": "https://example.invalid/x"}).json
    globex = signed_in(GLOBEX_ADMIN)
    assert globex.write("DELETE", f"/api/v1/webhooks/{made['id']}").status_code == 404
    assert globex.get("/api/v1/webhooks").json["webhooks"] == []
    assert signed_in("alice@acme.example").get("/api/v1/webhooks").status_code == 403
