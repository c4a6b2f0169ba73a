"""R45: /api/v1/events/stream, Server-Sent Events: occupier-scoped, resumable, bounded, and
holding no store connection while it waits."""

from __future__ import annotations

import json
import threading
import time

from pbx.services import assignment, events, pins
from pbx.services.actor import Actor
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, ALICE, GLOBEX_ADMIN
from tests.web.test_openapi import token_for


def frames(text: str) -> list[tuple[str, dict]]:
    found = []
    for block in text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in lines:
            found.append((lines["id"], json.loads(lines["data"])))
    return found


def head(factory) -> str:
    with transaction(factory) as session:
        return events.encode(events.head(session))


def changes(factory, ids) -> None:
    with transaction(factory) as session:
        assignment.set_display_name(session, Actor.system(), ids.numbers["+442079460204"], "One", "")
    with transaction(factory) as session:
        pins.reset_pin(session, Actor.system(), ids.numbers["+442079460201"])  # Alice's
    with transaction(factory) as session:
        assignment.set_display_name(session, Actor.system(), ids.numbers["+442079460502"], "Globex", "")


def stream(app, factory, ids, who: str, **headers) -> list[tuple[str, dict]]:
    token = token_for(factory, ids, who)
    answer = app.test_client().get("/api/v1/events/stream", headers={"Authorization": f"Bearer {token}", **headers})
    assert answer.status_code == 200 and answer.mimetype == "text/event-stream"
    return frames(answer.get_data(as_text=True))


def test_r45_the_stream_sends_the_callers_occupiers_events_in_order_and_resumes(app, factory, ids):
    app.config["PBX_SSE_STREAM_S"] = 1.0
    start = head(factory)
    changes(factory, ids)
    acme = stream(app, factory, ids, ACME_ADMIN, **{"Last-Event-ID": start})
    assert [(e["type"], e["e164"]) for _, e in acme] == [
        ("number.display_name_changed", "+442079460204"),
        ("pin.reset", "+442079460201"),
    ]
    assert [e["type"] for _, e in stream(app, factory, ids, GLOBEX_ADMIN, **{"Last-Event-ID": start})] == [
        "number.display_name_changed"
    ]
    assert [e["type"] for _, e in stream(app, factory, ids, ALICE, **{"Last-Event-ID": start})] == ["pin.reset"]
    last_id = acme[-1][0]
    assert stream(app, factory, ids, ACME_ADMIN, **{"Last-Event-ID": last_id}) == []  # nothing new since
    assert stream(app, factory, ids, ACME_ADMIN, **{"Last-Event-ID": acme[0][0]})[0][1]["type"] == "pin.reset"


def test_r45_without_last_event_id_the_stream_starts_now_and_ends_after_its_life(app, factory, ids):
    app.config["PBX_SSE_STREAM_S"] = 1.5
    token = token_for(factory, ids, ACME_ADMIN)
    answer = app.test_client().get(
        "/api/v1/events/stream", headers={"Authorization": f"Bearer {token}"}, buffered=False
    )
    body: list[str] = []
    reader = threading.Thread(target=lambda: body.extend(chunk.decode() for chunk in answer.response), daemon=True)
    started = time.monotonic()
    reader.start()
    time.sleep(0.3)
    changes(factory, ids)
    engine = app.extensions["pbx"].sessions.kw["bind"]
    held = [engine.pool.checkedout() for _ in range(6) if not time.sleep(0.1)]
    reader.join(timeout=30)
    assert not reader.is_alive() and time.monotonic() - started < 15  # bounded: the stream ends
    answer.close()
    assert "".join(body).startswith("retry: ")
    assert [e["type"] for _, e in frames("".join(body))] == ["number.display_name_changed", "pin.reset"]
    assert held.count(0) >= 4, held  # between polls, no store connection is held


def test_r45_streams_are_limited_and_one_more_is_told_to_come_back(app, factory, ids):
    app.config.update(PBX_SSE_STREAM_S=5.0, PBX_SSE_MAX_STREAMS=1)
    token = token_for(factory, ids, ACME_ADMIN)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    first = client.get("/api/v1/events/stream", headers=headers, buffered=False)
    busy = client.get("/api/v1/events/stream", headers=headers)
    assert busy.get_data(as_text=True) == "retry: 30000\n\n"
    first.close()
    again = client.get("/api/v1/events/stream", headers=headers, buffered=False)
    assert next(iter(again.response)).startswith(b"retry: 2000")
    again.close()
