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
    """One field refused; `label` is the field's name as the person sees it (default: from the key)."""

    def __init__(self, field: str, message: str, label: str | None = None) -> None:
        super().__init__(f"{label or field.replace('_', ' ').capitalize()}: {message}")
        self.field = field
        self.reason = message  # what is wrong, without the field's name


class FieldErrors(InvalidInput):
    """Every field of one submission that was refused, so a form shows them all at once.

    `errors` maps each field to its whole message ("Label: what is wrong"); the first one is also
    `field`/`message`, so an edge that knows only InvalidInput still answers sensibly.
    """

    def __init__(self, errors: dict[str, str]) -> None:
        if not errors:
            raise ValueError("FieldErrors needs at least one error")
        field, message = next(iter(errors.items()))
        PbxError.__init__(self, message)
        self.field = field
        self.reason = message
        self.errors = dict(errors)

    @classmethod
    def of(cls, refusals: list[InvalidInput]) -> FieldErrors:
        errors: dict[str, str] = {}
        for refusal in refusals:
            errors.update(refusal.errors if isinstance(refusal, FieldErrors) else {refusal.field: refusal.message})
        return cls(errors)


class RuleBroken(PbxError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class Conflict(PbxError):
    """The store already holds something that excludes the change (a taken handset, a used extension)."""
