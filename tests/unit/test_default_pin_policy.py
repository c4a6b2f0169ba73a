"""R19 for default PINs: the operator cannot allocate a number whose default PIN is 1234."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx.services import operator
from pbx.services.actor import Actor
from pbx.services.errors import FieldErrors
from pbx.store import Occupier, transaction

NEW_NUMBER = "+442079460299"


def allocate(factory, pin: str | None, extension: str = "299"):
    with transaction(factory) as session:
        acme = session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))
        return operator.allocate_number(
            session, Actor.system(), acme.id, acme.sites[0].id, NEW_NUMBER, extension, pin
        ).default_pin


@pytest.mark.parametrize(
    "pin, why",
    [
        ("1234", "too easy to guess"),
        ("1111", "too easy to guess"),
        ("98765", "too easy to guess"),
        ("2990", None),
        ("299", "4 to 8 digits"),
    ],
)
def test_r19_a_default_pin_obeys_the_pin_policy(demo_store, pin, why):
    if why is None:
        assert allocate(demo_store, pin) == pin
        return
    with pytest.raises(FieldErrors) as refused:
        allocate(demo_store, pin)
    assert why in refused.value.errors["default_pin"]


def test_r19_a_default_pin_is_not_the_extension(demo_store):
    with pytest.raises(FieldErrors) as refused:
        allocate(demo_store, "2468", extension="2468")
    assert "cannot be the extension" in refused.value.errors["default_pin"]


def test_r19_a_drawn_default_pin_obeys_the_policy_too(demo_store):
    pin = allocate(demo_store, None)
    assert pin.isdigit() and len(pin) == 6
