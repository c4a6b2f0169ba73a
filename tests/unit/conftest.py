from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx import demo
from pbx.store import Base, NumberStatus, PhoneNumber, make_engine, make_session_factory, transaction


@pytest.fixture
def demo_store():
    """The demo world in an in-memory SQLite store, every change already applied (Active)."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        demo.seed(session)
        for n in session.scalars(select(PhoneNumber)):
            if n.status is NumberStatus.PENDING:
                n.status = NumberStatus.ACTIVE
    yield factory
    engine.dispose()
