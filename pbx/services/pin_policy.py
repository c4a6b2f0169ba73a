"""R19: what makes a custom PIN acceptable, and how default PINs are drawn."""

from __future__ import annotations

import itertools
import secrets

from pbx.services.errors import InvalidInput, RuleBroken

MIN_LENGTH = 4
MAX_LENGTH = 8
DEFAULT_LENGTH = 6


def is_trivial(pin: str) -> bool:
    """All one digit (1111), or a run up or down (1234, 9876, 0123)."""
    if len(set(pin)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {9})


def random_default_pin() -> str:
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(DEFAULT_LENGTH))
        if not is_trivial(pin):
            return pin


def check_default_pin(pin: str, extension: str, field: str = "default_pin") -> None:
    """R19 for the default PIN the operator chooses: digits only, 4 to 8 long, not trivially guessable
    (1234, 1111), not the extension. Refused beside its field, with the other fields of the form."""
    if not pin.isdigit() or not MIN_LENGTH <= len(pin) <= MAX_LENGTH:
        raise InvalidInput(field, f"a PIN is {MIN_LENGTH} to {MAX_LENGTH} digits")
    if pin == extension:
        raise InvalidInput(field, "the PIN cannot be the extension")
    if is_trivial(pin):
        raise InvalidInput(field, "that PIN is too easy to guess, like 1234 or 1111")


def check_custom_pin(pin: str, *, default_pin: str, extension: str) -> None:
    """R19: digits only, 4 to 8 long, not the default, not trivially guessable, not the extension."""
    if not pin.isdigit() or not MIN_LENGTH <= len(pin) <= MAX_LENGTH:
        raise RuleBroken("R19", f"A PIN is {MIN_LENGTH} to {MAX_LENGTH} digits")
    if pin == default_pin:
        raise RuleBroken("R19", "Choose a PIN different from the default PIN")
    if pin == extension:
        raise RuleBroken("R19", "The PIN cannot be the extension")
    if is_trivial(pin):
        raise RuleBroken("R19", "That PIN is too easy to guess")
