"""R42 on SQLite and PostgreSQL: the portal number's column and uniqueness (migration 0009),
its change-log row, and where a greeting is recorded (file spool or app_voicemail's ODBC)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx.services import phone, portal_number
from pbx.services.actor import Actor
from pbx.services.phone import portal
from pbx.services.unit_of_work import refusal_for
from pbx.store import OutboxEntry, PhoneNumber, Site, transaction
from pbx.store.models import OutboxKind

PORTAL = "+442079460999"
ACME_FREE = "+442079460204"
OPERATOR = Actor.system("test")


def _site(session, name: str = "London - Old Street") -> Site:
    return session.scalar(select(Site).where(Site.name == name))


def test_r42_a_portal_number_is_unique_in_the_schema(demo_factory):
    with pytest.raises(IntegrityError) as error, transaction(demo_factory) as session:
        _site(session).portal_number = PORTAL
        _site(session, "London - King's Cross").portal_number = PORTAL
        session.flush()
    assert refusal_for(error.value) is not None  # a Conflict, never a crash


def test_r42_setting_it_queues_a_site_row_and_the_greeting_follows_the_store(demo_factory, db_url):
    with transaction(demo_factory) as session:
        site = _site(session)
        portal_number.set_portal_number(session, OPERATOR, site.id, PORTAL)
        rows = session.scalars(select(OutboxEntry).where(OutboxEntry.kind == OutboxKind.SITE)).all()
        assert [r.subject_id for r in rows] == [site.id]
        at = portal.find_portal(session, str(site.id))
        assert at is not None
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == ACME_FREE))
        number_id, default_pin = number.id, number.default_pin
    with transaction(demo_factory) as session:
        result = portal.check_pin(session, at, number_id, default_pin)
    with transaction(demo_factory) as session:
        proof = phone.set_custom_pin(session, at.actor, result.proof, "480915")
    with transaction(demo_factory) as session:
        way, box = portal.record_greeting(session, at.actor, proof)
    expected = portal.GreetingWay.MAILBOX_MENU if db_url.startswith("postgresql") else portal.GreetingWay.RECORD
    assert (way, box) == (expected, number_id)
