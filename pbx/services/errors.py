"""The ways a service refuses, turned into 404/403/400, a CLI exit code or a spoken prompt at the edge."""
from __future__ import annotations


class PbxError(Exception):
    """A refusal with a message written for the person who reads it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(PbxError):
    """Also what another occupier's ids look like (R3): nothing there for you."""


class Forbidden(PbxError):
    pass


class InvalidInput(PbxError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field.replace('_', ' ').capitalize()}: {message}")
        self.field = field
        self.reason = message  # without the field's name, for an edge that labels the field its own way


class FieldErrors(InvalidInput):
    """Every field refused by one submission at once; `errors` maps each field to its message.

    The first field is also `field` and its message `message`, so an edge that shows one
    refusal shows the first. `reasons` holds the messages without the field's name.
    """

    def __init__(self, reasons: dict[str, str]) -> None:
        if not reasons:
            raise ValueError("FieldErrors needs one field error at least")
        field, reason = next(iter(reasons.items()))
        super().__init__(field, reason)
        self.reasons = dict(reasons)
        self.errors = {name: InvalidInput(name, why).message for name, why in reasons.items()}


class RuleBroken(PbxError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class Conflict(PbxError):
    """The store already holds something that excludes the change (a taken handset, a used extension)."""
