"""Checks for every string a person can type, before it reaches the store.

Pure functions: each returns the clean value or raises InvalidInput naming the field,
so the web UI, the CLI and the JSON API all give the same message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from pbx.services.errors import FieldErrors, InvalidInput

T = TypeVar("T")

E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
EXTENSION_RE = re.compile(r"[0-9]{2,8}")
PHONE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
PIN_RE = re.compile(r"[0-9]{4,8}")
# Always reachable, never usable as an extension (R22).
EMERGENCY_NUMBERS = frozenset({"112", "999", "911"})
LABEL_MAX = 40
NAME_MAX = 60


def typed(value: str | None, field: str) -> str:
    """What was typed, refused if it holds any control character (a trailing newline too), then stripped of spaces.

    Control characters are refused before anything is stripped: "1234\n" is not quietly "1234".
    """
    raw = value or ""
    no_control_characters(raw, field)
    return raw.strip()


def e164(value: str, field: str = "number") -> str:
    """An E.164 number, written +<country code><number> with no spaces."""
    raw = typed(value, field)
    compact = re.sub(r"[ ()-]", "", raw)
    if not E164_RE.fullmatch(compact):
        raise InvalidInput(field, f"{raw!r} is not a phone number in international format, e.g. +442079460000")
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, f"{raw!r} is not a phone number in international format") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidInput(field, f"{raw!r} is not a possible phone number")
    return compact


def extension(value: str, field: str = "extension") -> str:
    raw = typed(value, field)
    if not EXTENSION_RE.fullmatch(raw):
        raise InvalidInput(field, f"{raw!r} is not an extension: use 2 to 8 digits")
    if raw in EMERGENCY_NUMBERS:
        raise InvalidInput(field, f"{raw} is an emergency number and cannot be an extension")
    return raw


def phone_id(value: str, field: str = "phone_id") -> str:
    """A handset's Phone ID: also its SIP user name, so only SIP- and config-safe characters."""
    raw = typed(value, field)
    if not PHONE_ID_RE.fullmatch(raw) or raw.lower().startswith("pbx-"):
        raise InvalidInput(
            field,
            f"{raw!r} is not a phone ID: use letters, digits, '.', '_' or '-' (up to 40, not starting with 'pbx-')",
        )
    return raw


def no_control_characters(raw: str, field: str) -> None:
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in raw):
        raise InvalidInput(field, "must not contain control characters or line breaks")


def text(value: str | None, field: str, max_length: int, required: bool = False) -> str:
    """Free text such as a person's or a site's name: any printable characters."""
    clean = typed(value, field)
    if required and not clean:
        raise InvalidInput(field, "is required")
    if len(clean) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    return clean


def label_part(value: str | None, field: str) -> str:
    """One part of a number's two-part display name (R13)."""
    return text(value, field, LABEL_MAX)


def email(value: str, field: str = "email") -> str:
    raw = typed(value, field)
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput(field, str(error)) from None


def pin_digits(value: str, field: str = "pin") -> str:
    raw = typed(value, field)
    if not PIN_RE.fullmatch(raw):
        raise InvalidInput(field, "a PIN is 4 to 8 digits")
    return raw


def dial_target(value: str, field: str) -> str:
    """Where a call may be sent: an E.164 number or an extension."""
    raw = re.sub(r"[ ()-]", "", typed(value, field))
    if raw.startswith("+"):
        return e164(raw, field)
    if raw in EMERGENCY_NUMBERS:
        raise InvalidInput(field, f"calls cannot be forwarded to the emergency number {raw}")
    if EXTENSION_RE.fullmatch(raw):
        return raw
    raise InvalidInput(field, f"{value!r} is neither an extension nor a number in international format")


class FieldChecks:
    """Runs each field's check and keeps every refusal, so one submission hears of all its wrong fields.

    checks = FieldChecks(); ext = checks.run(extension, raw_ext); ...; checks.done()
    raises FieldErrors if any check refused (the first refusal of each field is kept).
    """

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def run(self, check: Callable[..., T], *args: object) -> T | None:
        try:
            return check(*args)
        except InvalidInput as refusal:
            self.refuse(refusal)
            return None

    def refuse(self, refusal: InvalidInput) -> None:
        errors = refusal.errors if isinstance(refusal, FieldErrors) else {refusal.field: refusal.message}
        for field, message in errors.items():
            self.errors.setdefault(field, message)

    def done(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)
