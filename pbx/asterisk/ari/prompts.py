"""The sounds the Stasis app says (Asterisk core sounds, en): named once, by what they mean."""

from __future__ import annotations


def sounds(*names: str) -> tuple[str, ...]:
    return tuple(f"sound:{name}" for name in names)


def digits(value: str) -> str:
    """Say a string of digits; only digits ever reach a media URI."""
    return "digits:" + "".join(ch for ch in value if ch.isdigit())


ENTER_EXTENSION = sounds("extension", "vm-then-pound")
ENTER_FULL_NUMBER = sounds("please-try-again", "telephone-number", "vm-then-pound")
ENTER_TARGET = sounds("telephone-number", "vm-then-pound")
ENTER_CODE = sounds("agent-pass")
NOT_A_NUMBER = sounds("pbx-invalid")
NO_NUMBER_HERE = sounds("feature-not-avail-line")
REFUSED = sounds("im-sorry", "feature-not-avail-line")
LOGGED_IN = sounds("agent-loginok")
LOGGED_OUT = sounds("agent-loggedoff")
WRONG_CODE = sounds("vm-incorrect", "vm-goodbye")
GOODBYE = sounds("vm-goodbye")
SORRY = sounds("im-sorry", "vm-goodbye")
ACTIVATED = sounds("activated")
DEACTIVATED = sounds("de-activated")


def in_use(extension: str) -> tuple[str, ...]:
    """R15: "Extension 201 is in use": the handset already has another number."""
    return (*sounds("im-sorry", "extension"), digits(extension), *sounds("is-in-use"))
