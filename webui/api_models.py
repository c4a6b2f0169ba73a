"""The answers of /api/v1/ as pydantic models: what webui.openapi publishes as components.

The views build their answers with webui.present; these models describe them (and
tests/web/test_openapi.py checks every answer against its schema). The features' model is
generated from the feature table, so a new feature appears in the document by itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from pbx.feature_table import FEATURES, Kind


class Answer(BaseModel):
    """Answers may gain keys; clients ignore the ones they do not know."""

    model_config = ConfigDict(extra="allow")


class Error(Answer):
    """Every error of /api/v1/, whatever the status."""

    error: str = Field(description="what went wrong, in words for people")
    code: str = Field(
        description="a stable word: invalid, unauthorized, forbidden, not_found, conflict, rule_broken, …"
    )
    rule: str | None = Field(None, description="the product rule refused (R..), when one was")
    field: str | None = Field(None, description="the first refused field")
    errors: dict[str, str] = Field(default_factory=dict, description="every refused field and its message")


class Me(Answer):
    email: str
    name: str
    role: str
    occupier: str | None


class Site(Answer):
    id: int
    name: str


class Sites(Answer):
    sites: list[Site]


class AssignedTo(Answer):
    kind: str
    text: str
    user_id: int | None
    url: str | None


class DisplayNameParts(Answer):
    first: str
    second: str


class UserRef(Answer):
    id: int
    name: str


class NumberRow(Answer):
    """One row of the Telephony list (R10)."""

    id: int
    number: str
    extension: str
    default_pin: str
    main: bool
    assigned_to: AssignedTo
    display_name: DisplayNameParts
    user: UserRef | None
    status: str = Field(description="reserved, active or pending")
    status_label: str
    logged_in: bool
    phone_id: str | None
    actions: bool
    last_error: str | None
    features_url: str


class SiteNumbers(Answer):
    site: Site
    numbers: list[NumberRow]
    total: int
    page: int
    per_page: int
    pages: int
    q: str


class CliChoice(Answer):
    number: str
    label: str


class CliChoices(Answer):
    """R27: the numbers a CLI field may show."""

    choices: list[CliChoice]


class Numbers(Answer):
    numbers: list[NumberRow]


def _feature_type(kind: Kind) -> Any:
    if kind in (Kind.FLAG, Kind.SECRET):
        return bool
    if kind is Kind.SECONDS:
        return int
    return str


Features = create_model(  # type: ignore[call-overload]
    "Features",
    __base__=Answer,
    number=(str, ...),
    extension=(str, ...),
    default_pin=(str, ...),
    status=(str, ...),
    **{f.key: (_feature_type(f.kind), Field(description=f.label)) for f in FEATURES},
)


class NumberDetails(NumberRow):
    """R11: the whole configuration of a number."""

    site: str
    occupier: str
    pin_state: str
    main_destination: str | None
    features: dict[str, Any]
    feature_sections: list[dict[str, Any]]


class UserChoice(Answer):
    id: int
    name: str
    email: str
    role: str
    selectable: bool
    number: str | None


class Users(Answer):
    users: list[UserChoice]


class HandsetChoice(Answer):
    phone_id: str
    taken: bool
    number: str | None
    extension: str | None


class Handsets(Answer):
    handsets: list[HandsetChoice]


class Changed(Answer):
    """A write's answer: the number's new row (Pending until the nodes apply it) and what was done."""

    number: NumberRow
    message: str


class FeaturesChanged(Changed):
    features: dict[str, Any]
