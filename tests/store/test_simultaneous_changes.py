"""R21 and conflicts when two admins change one number at the same moment, on SQLite and PostgreSQL.

The first admin's change is written but not yet committed when the second reads the
number: the second's own check passes, and the store's constraint refuses its commit.
That refusal must read as the rule, as if the second had been a moment later.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session

from pbx.services import features, operator
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, RuleBroken
from pbx.services.unit_of_work import unit_of_work
from pbx.store import transaction
from tests.store.helpers import actor, number

ACME_FREE = "+442079460204"  # Acme 204, Old Street, active, unassigned
ACME_ADMIN = "admin@acme.example"
OUTSIDE = "+447700900456"
WAIT_S = 30
# Long enough for the second writer to have read and to be waiting on the first one's lock.
SECOND_WAITS_S = 0.5


def first_holds_then_second(factory, first: Callable[[Session], object], second: Callable[[Session], object]):
    """`first` written and held uncommitted while `second` runs in its own unit of work; then `first` commits."""
    written, go = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction(factory) as session:
            first(session)
            session.flush()
            written.set()
            assert go.wait(WAIT_S)

    def then() -> object:
        assert written.wait(WAIT_S)
        with unit_of_work(factory) as session:
            return second(session)

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(hold)
        waiting = pool.submit(then)
        time.sleep(SECOND_WAITS_S)
        go.set()
        held.result(WAIT_S)
        return waiting.result(WAIT_S)


def test_r21_busy_forward_and_call_waiting_set_at_the_same_moment_refuse_the_second(demo_factory):
    with transaction(demo_factory) as session:
        free = number(session, ACME_FREE).id
        features.update_features(session, Actor.system(), free, {"call_waiting": "off"})

    def busy_forward(session):
        features.update_features(session, actor(session, ACME_ADMIN), free, {"forward_busy": OUTSIDE})

    def call_waiting(session):
        features.update_features(session, actor(session, ACME_ADMIN), free, {"call_waiting": "on"})

    with pytest.raises(RuleBroken) as refused:
        first_holds_then_second(demo_factory, busy_forward, call_waiting)

    assert refused.value.rule == "R21"
    assert "Forward on busy and call waiting exclude each other" in refused.value.message
    with transaction(demo_factory) as session:
        kept = number(session, ACME_FREE).features
        assert (kept.forward_busy, kept.call_waiting) == (OUTSIDE, False)


def test_the_same_extension_allocated_at_the_same_moment_is_a_conflict(demo_factory):
    with transaction(demo_factory) as session:
        acme, site = number(session, ACME_FREE).occupier_id, number(session, ACME_FREE).site_id

    def allocate(e164: str):
        return lambda session: operator.allocate_number(session, Actor.system(), acme, site, e164, "299")

    with pytest.raises(Conflict) as refused:
        first_holds_then_second(demo_factory, allocate("+442079460299"), allocate("+442079460298"))

    assert "at the same moment" in refused.value.message
