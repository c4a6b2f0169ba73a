"""Every string a person types is checked before it reaches the store."""

from __future__ import annotations

import pytest

from pbx import validation
from pbx.services.errors import InvalidInput
from pbx.services.feature_input import parse_assignments, parse_changes
from pbx.services.pin_policy import is_trivial, random_default_pin


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("+442079460000", "+442079460000"),
        (" +44 20 7946 0000 ", "+442079460000"),
        ("+1 (212) 555-0100", "+12125550100"),
    ],
)
def test_e164_accepts_international_numbers(raw, clean):
    assert validation.e164(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "02079460000",
        "+0442079460000",
        "+44",
        "+44 20 7946 0000;x",
        "+4420794600001234567",
        "",
        "+44\n2079460000",
        "${EXTEN}",
    ],
)
def test_e164_refuses_the_rest(raw):
    with pytest.raises(InvalidInput):
        validation.e164(raw)


@pytest.mark.parametrize("raw", ["1", "2a1", "123456789", "*12", "999", "112", "911", "20 1"])
def test_extensions_are_two_to_eight_digits_and_never_emergency(raw):
    with pytest.raises(InvalidInput):
        validation.extension(raw)


@pytest.mark.parametrize("raw", ["desk 1", "desk;1", "pbx-trunk", "", "a" * 41, "desk/1", '"desk"'])
def test_phone_ids_are_sip_and_config_safe(raw):
    with pytest.raises(InvalidInput):
        validation.phone_id(raw)


def test_emails_are_validated_and_header_injection_is_impossible():
    assert validation.email("Alice@Example.com") == "Alice@example.com"
    for bad in ("alice@example.com\r\nBcc: x@y.z", "not an email", "a@b"):
        with pytest.raises(InvalidInput):
            validation.email(bad)


def test_r19_trivial_pins():
    assert all(is_trivial(p) for p in ("1111", "1234", "4321", "0123", "7890", "98765"))
    assert not any(is_trivial(p) for p in ("1357", "480915", "2024"))
    assert not is_trivial(random_default_pin())


def test_feature_input_parsing():
    assert parse_changes(parse_assignments(["dnd=on", "forward_always=", "no_answer_seconds=20"])) == {
        "dnd": True,
        "forward_always": None,
        "no_answer_seconds": 20,
    }
    for bad in (["dnd=maybe"], ["colour=red"], ["no_answer_seconds=x"]):
        with pytest.raises(InvalidInput):
            parse_changes(parse_assignments(bad))
    with pytest.raises(InvalidInput):
        parse_assignments(["dnd"])


@pytest.mark.parametrize(
    "check, raw",
    [
        (validation.e164, "+442079460000\n"),
        (validation.extension, "201\n"),
        (validation.phone_id, "desk-1\n"),
        (validation.email, "alice@example.com\n"),
        (validation.pin_digits, "480915\n"),
        (validation.dial_target, "201\n"),
        (validation.dial_target, "+447700900456\r"),
        (validation.extension, "\t201"),
        (validation.pin_digits, "48\x000915"),
        (validation.email, "alice@example.com\x7f"),
    ],
)
def test_control_characters_are_refused_never_stripped(check, raw):
    field = "destination" if check is validation.dial_target else "value"
    with pytest.raises(InvalidInput) as refused:
        check(raw, field)
    assert "control characters" in refused.value.message


def test_spaces_around_what_was_typed_are_still_forgiven():
    assert validation.extension(" 201 ") == "201"
    assert validation.email(" alice@example.com ") == "alice@example.com"


def test_feature_values_with_control_characters_are_refused():
    for raw in ({"dnd": "on\n"}, {"forward_always": "201\n"}, {"no_answer_seconds": "20\n"}):
        with pytest.raises(InvalidInput) as refused:
            parse_changes(raw)
        assert "control characters" in refused.value.message
