"""Feature values between people and the store, by the keys of pbx.feature_table.

Pure: `parse_changes(raw)` gives each value its kind's type (a flag's "on" -> True, an empty target
-> None, seconds -> int) and refuses every value that does not parse at once; `shown_values(row)` is
what the CLI, the JSON API, the forms and the snapshot show of a stored row.
"""

from __future__ import annotations

from typing import Any

from pbx.feature_table import BY_KEY, FEATURES, Feature, Kind
from pbx.services.errors import FieldErrors, InvalidInput
from pbx.store.feature_columns import related
from pbx.validation import no_control_characters

FEATURE_KEYS = tuple(f.key for f in FEATURES)
_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0", ""}


def refused(f: Feature, message: str) -> InvalidInput:
    """A refusal of one feature's value, named as the person sees the feature."""
    return InvalidInput(f.key, message, label=f.title)


def parse_flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(key, f"use on or off, not {value!r}", label=BY_KEY[key].title if key in BY_KEY else None)


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_value(f: Feature, value: Any) -> Any:
    if f.kind is Kind.FLAG:
        return parse_flag(f.key, value)
    if f.kind is Kind.SECONDS:
        text = str(value).strip()
        if not text.isdigit():
            raise refused(f, "use a whole number of seconds")
        return int(text)
    return _optional_text(value)


def parse_each(raw: dict[str, Any]) -> tuple[dict[str, Any], list[InvalidInput]]:
    """Every value that parses, and a refusal for each one that does not."""
    changes: dict[str, Any] = {}
    errors: list[InvalidInput] = []
    for key, value in raw.items():
        try:
            if key not in BY_KEY:
                raise InvalidInput(key, f"is not a feature; known features: {', '.join(FEATURE_KEYS)}")
            if isinstance(value, str):
                try:
                    no_control_characters(value, key)  # "on\n" is refused, not read as "on"
                except InvalidInput as error:
                    raise refused(BY_KEY[key], error.reason) from None
            changes[key] = parse_value(BY_KEY[key], value)
        except InvalidInput as error:
            errors.append(error)
    return changes, errors


def parse_changes(raw: dict[str, Any]) -> dict[str, Any]:
    changes, errors = parse_each(raw)
    if errors:
        raise FieldErrors.of(errors)
    return changes


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`key=value` words from the command line."""
    raw = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput("feature", f"write key=value, not {pair!r}")
        raw[key.strip()] = value
    return raw


def shown_value(f: Feature, row: Any) -> Any:
    """A stored value as people see it: "" for off; a number as its E.164; a secret only as on/off."""
    stored = getattr(row, f.column)
    if f.kind is Kind.NUMBER:
        chosen = getattr(row, related(f))
        return chosen.e164 if chosen is not None else ""
    if f.kind is Kind.SECRET:
        return stored is not None
    if f.kind in (Kind.FLAG, Kind.SECONDS):
        return stored
    return stored or ""


def shown_values(row: Any | None) -> dict[str, Any]:
    """Every feature of a NumberFeatures row by key; the defaults for a number without one."""
    if row is None:
        return {f.key: default_shown(f) for f in FEATURES}
    return {f.key: shown_value(f, row) for f in FEATURES}


def default_shown(f: Feature) -> Any:
    if f.kind in (Kind.FLAG, Kind.SECONDS):
        return f.default
    return False if f.kind is Kind.SECRET else ""
