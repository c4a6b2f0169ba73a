"""Turning the feature key names used by the CLI, the JSON API and the forms into typed values.

Pure: `parse_changes({"dnd": "on", "forward_always": ""})` -> {"dnd": True, "forward_always": None}.
"""
from __future__ import annotations

from typing import Any

from pbx.services.errors import InvalidInput
from pbx.validation import no_control_characters

TARGET_KEYS = ("forward_always", "forward_busy", "forward_no_answer")
FLAG_KEYS = ("voicemail", "hide_caller_id", "call_waiting", "dnd")
FEATURE_KEYS = (*TARGET_KEYS, "no_answer_seconds", "voicemail", "voicemail_email", "hide_caller_id",
                "call_waiting", "dnd", "cli", "authorization_code")
_TRUE = {"on", "yes", "true", "1"}
_FALSE = {"off", "no", "false", "0", ""}


def parse_flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidInput(key, f"use on or off, not {value!r}")


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def parse_changes(raw: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FEATURE_KEYS:
            raise InvalidInput(key, f"is not a feature; known features: {', '.join(FEATURE_KEYS)}")
        if isinstance(value, str):
            no_control_characters(value, key)  # "on\n" is refused, not read as "on"
        if key in FLAG_KEYS:
            changes[key] = parse_flag(key, value)
        elif key == "no_answer_seconds":
            text = str(value).strip()
            if not text.isdigit():
                raise InvalidInput(key, "use a whole number of seconds")
            changes[key] = int(text)
        else:
            changes[key] = _optional_text(value)
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
