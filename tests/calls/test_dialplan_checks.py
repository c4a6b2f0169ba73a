"""The dialplan's value checks on the real Asterisk (dialplan/pbx.conf): "every character
allowed" is LEN(FILTER(allowed,v)) = LEN(v), the allowed sets written as there. AMI Getvar
runs one function on a literal (no substitution inside), so FILTER is asked here and the
lengths compared in the test."""

from __future__ import annotations

import pytest

from pbx.asterisk.ami import run_ami

PHONE_ID = "-A-Za-z0-9_."
CARRIER = "-a-z0-9"
DIGITS = "0-9"


def _passes(asterisk_settings, allowed: str, value: str) -> bool:
    async def evaluate(ami) -> str:
        response = await ami.action("Getvar", Variable=f"FILTER({allowed},{value})")
        return str(response.get("Value") or "")

    return len(run_ami(asterisk_settings, evaluate)) == len(value)


@pytest.mark.parametrize("value", ["desk-os-1", "Desk_2.a", "a", "Z9-_.z"])
def test_a_phone_id_passes(asterisk, asterisk_settings, value):
    assert _passes(asterisk_settings, PHONE_ID, value)


@pytest.mark.parametrize("value", ["desk os", "desk;x", "desk/1", "d@x", "d:x"])
def test_anything_else_in_a_phone_id_is_refused(asterisk, asterisk_settings, value):
    assert not _passes(asterisk_settings, PHONE_ID, value)


@pytest.mark.parametrize("value,ok", [("carrier-1", True), ("Carrier", False), ("c_1", False)])
def test_a_carrier_name(asterisk, asterisk_settings, value, ok):
    assert _passes(asterisk_settings, CARRIER, value) is ok


@pytest.mark.parametrize("value,ok", [("442079460201", True), ("4420+7946", False), ("44*1", False)])
def test_digits(asterisk, asterisk_settings, value, ok):
    assert _passes(asterisk_settings, DIGITS, value) is ok
