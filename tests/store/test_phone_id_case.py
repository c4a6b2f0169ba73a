"""Phone IDs are unique whatever their case (issue 12), in the service and in the store, on both dialects."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pbx.services import operator
from pbx.services.actor import Actor
from pbx.services.errors import Conflict
from pbx.store.db import transaction
from pbx.store.models import Handset, Site


def _site_id(session) -> int:
    return session.scalar(select(Site.id).where(Site.name == "London - Old Street"))


def test_a_phone_id_differing_only_in_case_is_refused_by_the_service(demo_factory):
    with (
        pytest.raises(Conflict, match="already a handset with phone ID desk-os-1"),
        transaction(demo_factory) as session,
    ):
        operator.register_handset(session, Actor.system(), _site_id(session), "DESK-OS-1")


def test_the_store_refuses_a_phone_id_differing_only_in_case(demo_factory):
    with pytest.raises(IntegrityError), transaction(demo_factory) as session:
        session.add(Handset(phone_id="Desk-OS-2", site_id=_site_id(session), sip_password="secret-enough"))
        session.flush()
