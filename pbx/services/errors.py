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


class RuleBroken(PbxError):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class Conflict(PbxError):
    """The store already holds something that excludes the change (a taken handset, a used extension)."""
