"""R18, R40: PIN and authorization code attempts from calls at the same moment, on SQLite and PostgreSQL.

Each attempt runs in its own unit of work and thread, as the Stasis app runs one per call.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from pbx.services import code_lock, features, phone
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden
from pbx.services.phone import Reach
from pbx.services.pins import PinCheck
from pbx.store import AuditEntry, transaction
from tests.store.helpers import actor, number

ALICE = "+442079460201"  # Acme 201, Old Street, logged in to desk-os-1
ACME_FREE = "+442079460204"  # Acme 204, Old Street, not logged in
EMPTY_DESK = "desk-os-5"  # Old Street, nothing logged in
CODE = "4826"
OUTSIDE = "+447700900456"
CALLS = 8
WAIT_S = 30


def run(factory, fn, *args):
    with transaction(factory) as session:
        return fn(session, *args)


def handset(factory, phone_id: str) -> Actor:
    desk = run(factory, phone.find_desk, Actor.handset(phone_id, None, None))
    assert desk is not None
    return desk.actor


def number_state(factory, e164: str) -> tuple[int, bool, int, bool]:
    def read(session):
        n = number(session, e164)
        return n.failed_pin_count, n.pin_locked, n.failed_code_count, n.code_locked

    return run(factory, read)


def at_once(attempt, count: int = CALLS) -> list:
    """`attempt(i)` in `count` threads released together: calls arriving at the same moment."""
    start = threading.Barrier(count)

    def released(i: int):
        start.wait(timeout=WAIT_S)
        return attempt(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(released, range(count), timeout=WAIT_S))


def test_r40_simultaneous_wrong_pins_all_count_and_the_third_locks(demo_factory):
    caller = handset(demo_factory, EMPTY_DESK)
    free = run(demo_factory, lambda s: number(s, ACME_FREE).id)

    checks = at_once(lambda i: run(demo_factory, phone.check_pin, caller, free, f"00000{i}", Reach.SITE).check)

    assert sorted(checks).count(PinCheck.WRONG) == 2
    assert checks.count(PinCheck.LOCKED) == CALLS - 2
    failed, locked, _, _ = number_state(demo_factory, ACME_FREE)
    assert (failed, locked) == (3, True)
    default_pin = run(demo_factory, lambda s: number(s, ACME_FREE).default_pin)
    assert run(demo_factory, phone.check_pin, caller, free, default_pin, Reach.SITE).check is PinCheck.LOCKED


def test_r40_three_wrong_codes_lock_the_code_until_an_admin_resets_it(demo_factory):
    caller = handset(demo_factory, "desk-os-1")
    alice = run(demo_factory, lambda s: number(s, ALICE).id)
    run(demo_factory, features.update_features, Actor.system(), alice, {"authorization_code": CODE})

    wrong = [run(demo_factory, phone.check_authcode, caller, alice, code, OUTSIDE) for code in ("1111", "2222", "3333")]
    right_after = run(demo_factory, phone.check_authcode, caller, alice, CODE, OUTSIDE)

    assert wrong == [False, False, False] and right_after is False
    assert number_state(demo_factory, ALICE)[2:] == (3, True)
    with pytest.raises(Forbidden):  # the number's own user may not unlock it
        run(demo_factory, lambda s: code_lock.unlock_code(s, actor(s, "alice@acme.example"), alice))
    run(demo_factory, lambda s: code_lock.unlock_code(s, actor(s, "admin@acme.example"), alice))
    assert number_state(demo_factory, ALICE)[2:] == (0, False)
    assert run(demo_factory, phone.check_authcode, caller, alice, CODE, OUTSIDE) is True
    results = run(
        demo_factory,
        lambda s: [
            (e.action, json.loads(e.detail).get("result"))
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action.like("authcode.%")).order_by(AuditEntry.id))
        ],
    )
    assert results == [
        ("authcode.attempt", "wrong"),
        ("authcode.attempt", "wrong"),
        ("authcode.attempt", "locked"),
        ("authcode.attempt", "locked"),
        ("authcode.reset", None),
        ("authcode.attempt", "ok"),
    ]


def test_r40_a_right_code_clears_the_wrong_ones_before_it(demo_factory):
    caller = handset(demo_factory, "desk-os-1")
    alice = run(demo_factory, lambda s: number(s, ALICE).id)
    run(demo_factory, features.update_features, Actor.system(), alice, {"authorization_code": CODE})

    for code in ("1111", "2222", CODE, "3333", "4444"):
        run(demo_factory, phone.check_authcode, caller, alice, code, OUTSIDE)

    assert number_state(demo_factory, ALICE)[2:] == (2, False)


def test_r40_simultaneous_wrong_codes_all_count_and_the_third_locks(demo_factory):
    caller = handset(demo_factory, "desk-os-1")
    alice = run(demo_factory, lambda s: number(s, ALICE).id)
    run(demo_factory, features.update_features, Actor.system(), alice, {"authorization_code": CODE})

    results = at_once(lambda i: run(demo_factory, phone.check_authcode, caller, alice, f"900{i}", OUTSIDE))

    assert results == [False] * CALLS
    assert number_state(demo_factory, ALICE)[2:] == (3, True)
    assert run(demo_factory, phone.check_authcode, caller, alice, CODE, OUTSIDE) is False
