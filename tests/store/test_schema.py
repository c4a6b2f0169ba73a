"""The rules the schema itself enforces, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx.store import Handset, NumberFeatures, PhoneNumber, User, transaction
from pbx.store.migrate import current_revision


def _number(session, e164):
    return session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == e164))


def test_migrations_reach_head(db_url, factory):
    assert current_revision(db_url) is not None


def test_demo_seeds_once(demo_factory):
    from pbx import demo

    with transaction(demo_factory) as session:
        assert demo.seed(session) is False
        assert session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+442079460201")).extension == "201"


def test_r15_one_number_per_handset_in_the_schema(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        free = session.scalar(select(Handset).where(Handset.phone_id == "desk-os-5"))
        free.number_id = _number(session, "+442079460201").id  # already logged in to desk-os-1
        session.flush()


def test_r12_one_number_per_user_in_the_schema(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        alice = session.scalar(select(User).where(User.email == "alice@acme.example"))
        _number(session, "+442079460204").user_id = alice.id  # alice already has 201
        session.flush()


def test_unique_number(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        copy = _number(session, "+442079460204")
        session.add(
            PhoneNumber(
                e164=copy.e164,
                extension="299",
                site_id=copy.site_id,
                occupier_id=copy.occupier_id,
                default_pin="482913",
            )
        )
        session.flush()


def test_unique_extension_per_occupier_but_repeats_across_occupiers(demo_factory):
    with transaction(demo_factory) as session:
        acme = _number(session, "+442079460201")
        globex = _number(session, "+442079460501")
        assert acme.extension == globex.extension == "201"
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        acme = _number(session, "+442079460201")
        session.add(
            PhoneNumber(
                e164="+442079460299",
                extension="201",
                site_id=acme.site_id,
                occupier_id=acme.occupier_id,
                default_pin="482913",
            )
        )
        session.flush()


def test_r21_busy_forward_and_call_waiting_refused_by_the_schema(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        features = session.get(NumberFeatures, _number(session, "+442079460204").id)
        features.call_waiting = True
        features.forward_busy = "+447700900123"
        session.flush()


def test_r22_forwarding_with_authorization_code_refused_by_the_schema(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        features = session.get(NumberFeatures, _number(session, "+442079460204").id)
        features.call_waiting = False
        features.authorization_code_hash = "$argon2id$x"
        features.forward_always = "+447700900123"
        session.flush()


def test_r1_operator_admins_have_no_occupier(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        alice = session.scalar(select(User).where(User.email == "alice@acme.example"))
        alice.occupier_id = None
        session.flush()


def test_r5_one_main_number_per_occupier_and_site(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        _number(session, "+442079460204").is_main = True  # Acme already has 100 at Old Street
        session.flush()


def test_r5_moving_the_main_number_keeps_one(demo_factory):
    from pbx.services import operator
    from pbx.services.actor import Actor

    with transaction(demo_factory) as session:
        operator.set_main_number(session, Actor.system(), _number(session, "+442079460204").id, "201")
        assert not _number(session, "+442079460100").is_main
        assert _number(session, "+442079460204").is_main


def test_the_feature_table_makes_the_schema_of_the_migrations(db_url, factory):
    """The store's feature columns come from pbx.feature_table: Alembic sees no difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from pbx.store import Base, make_engine

    engine = make_engine(db_url)
    with engine.connect() as connection:
        # voicemessages (PostgreSQL only) is app_voicemail_odbc's table, laid out by Asterisk: no model.
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parent: not (kind == "table" and name == "voicemessages"),
            },
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()
