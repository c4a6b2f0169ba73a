"""R36 in the store, on SQLite and PostgreSQL: what uses a voice service, and the last one taken once.

The demo's Acme Ltd bought 12 and uses 8; its Reserved numbers are +442079460205 and +442079460303.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from pbx.services import licences, operator
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, RuleBroken
from pbx.services.unit_of_work import unit_of_work
from pbx.store import transaction
from pbx.store.models import NumberStatus, Occupier
from tests.store.helpers import actor, number
from tests.store.test_simultaneous_changes import WAIT_S, first_holds_then_second

RESERVED = ("+442079460205", "+442079460303")
SYSTEM = Actor.system("test")


def _acme(session) -> Occupier:
    return session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))


def _leave_one_free(factory) -> None:
    with transaction(factory) as session:
        licences.set_bought(session, SYSTEM, _acme(session).id, 9)


def test_r36_active_pending_and_main_numbers_use_a_voice_service_reserved_ones_do_not(demo_factory):
    with transaction(demo_factory) as session:
        acme = _acme(session)
        assert licences.usage(session, SYSTEM, acme.id) == licences.Usage(8, 12)
        operator.activate_number(session, SYSTEM, number(session, RESERVED[0]).id)
        assert number(session, RESERVED[0]).status is NumberStatus.PENDING
        assert licences.usage(session, SYSTEM, acme.id).used == 9


def test_r36_activation_at_the_limit_is_refused_and_changes_nothing(demo_factory):
    _leave_one_free(demo_factory)
    with transaction(demo_factory) as session:
        operator.activate_number(session, SYSTEM, number(session, RESERVED[0]).id)
    with pytest.raises(RuleBroken) as refused, unit_of_work(demo_factory) as session:
        operator.activate_number(session, SYSTEM, number(session, RESERVED[1]).id)
    assert refused.value.rule == "R36"
    assert "9 of 9 bought are in use" in refused.value.message
    with transaction(demo_factory) as session:
        assert number(session, RESERVED[1]).status is NumberStatus.RESERVED


def test_r36_lowering_below_the_numbers_in_use_is_refused_with_the_count(demo_factory):
    with transaction(demo_factory) as session:
        acme_id = _acme(session).id
        with pytest.raises(RuleBroken, match=r"uses 8 voice services.*lower than 8"):
            licences.set_bought(session, SYSTEM, acme_id, 7)
        with pytest.raises(InvalidInput):
            licences.set_bought(session, SYSTEM, acme_id, "ten")
        with pytest.raises(Forbidden):
            licences.set_bought(session, actor(session, "admin@acme.example"), acme_id, 50)
        licences.set_bought(session, SYSTEM, acme_id, 8)
        assert licences.usage(session, SYSTEM, acme_id) == licences.Usage(8, 8)


def test_r36_a_second_activation_waiting_on_the_first_sees_the_last_voice_service_taken(demo_factory):
    """The first activation is written and held uncommitted while the second runs: the second waits
    on the occupier's lock, then counts the first and is refused."""
    _leave_one_free(demo_factory)
    with transaction(demo_factory) as session:
        first_id, second_id = (number(session, e164).id for e164 in RESERVED)

    with pytest.raises(RuleBroken) as refused:
        first_holds_then_second(
            demo_factory,
            lambda session: operator.activate_number(session, SYSTEM, first_id),
            lambda session: operator.activate_number(session, SYSTEM, second_id),
        )
    assert refused.value.rule == "R36"
    with transaction(demo_factory) as session:
        statuses = {number(session, e164).status for e164 in RESERVED}
        assert statuses == {NumberStatus.PENDING, NumberStatus.RESERVED}
        assert licences.used(session, _acme(session).id) == 9


def test_r36_two_activations_at_the_same_moment_take_the_last_voice_service_once(demo_factory):
    _leave_one_free(demo_factory)
    with transaction(demo_factory) as session:
        ids = [number(session, e164).id for e164 in RESERVED]
    start = threading.Barrier(2, timeout=WAIT_S)

    def activate(number_id: int) -> str:
        start.wait()
        try:
            with unit_of_work(demo_factory) as session:
                operator.activate_number(session, SYSTEM, number_id)
        except RuleBroken as refused:
            return refused.rule
        return "activated"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(activate, ids, timeout=WAIT_S))
    assert outcomes == ["R36", "activated"]
    with transaction(demo_factory) as session:
        assert licences.used(session, _acme(session).id) == 9


def test_r36_the_migration_gives_each_existing_occupier_what_it_uses_now(db_url):
    """0011: nothing that works before the upgrade stops working after it."""
    from sqlalchemy import text

    from pbx.store import make_engine
    from pbx.store.migrate import upgrade

    upgrade(db_url, "0010")
    engine = make_engine(db_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO operator (id, name) VALUES (1, 'Op')"))
        connection.execute(
            text("INSERT INTO site (id, operator_id, name, country, local_emergency) VALUES (1, 1, 'S', 'GB', '')")
        )
        for occupier_id in (1, 2):
            connection.execute(
                text("INSERT INTO occupier (id, operator_id, name, voice_services_active) VALUES (:i, 1, :n, true)"),
                {"i": occupier_id, "n": f"O{occupier_id}"},
            )
        for i, (status, main) in enumerate(
            [("active", False), ("pending", False), ("reserved", True), ("reserved", False)]
        ):
            connection.execute(
                text(
                    "INSERT INTO phone_number (e164, extension, site_id, occupier_id, status, is_main, default_pin,"
                    " failed_pin_count, pin_locked, label_first, label_second)"
                    " VALUES (:e, :x, 1, 1, :s, :m, '135791', 0, false, '', '')"
                ),
                {"e": f"+44207946070{i}", "x": f"70{i}", "s": status, "m": main},
            )
    engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as connection:
        bought = dict(connection.execute(text("SELECT name, voice_licences FROM occupier")).all())
    engine.dispose()
    assert bought == {"O1": 3, "O2": 0}
