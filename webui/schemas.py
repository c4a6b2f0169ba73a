"""The JSON bodies and queries of /api/v1/, declared once.

Only the shape is checked here (an object, a whole number, text); what a value
may be is the services' rule. Every wrong field of a request is reported at
once, as FieldErrors, which webui.errors turns into a 400 naming each field.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, field_validator

from pbx.services.errors import FieldErrors, InvalidInput

MAX_IDS = 500
BODY = "body"
NOT_AN_OBJECT = "send a JSON object"

Model = TypeVar("Model", bound=BaseModel)


class Body(BaseModel):
    """Strict: "3" is not a user id, 1 is not text. Keys not declared are ignored."""

    model_config = ConfigDict(strict=True, frozen=True)


class Assignment(Body):
    """R12: PUT /numbers/<id>/user."""

    user_id: int = Field(description="pick a user")


class DisplayName(Body):
    """R13: PUT /numbers/<id>/display-name; a part left out is empty."""

    first: str = Field("", description="send the first part as text")
    second: str = Field("", description="send the second part as text")


class HandsetLogin(Body):
    """R15: PUT /numbers/<id>/handset."""

    phone_id: str = Field(min_length=1, description="pick the handset's Phone ID")


class PortalNumber(Body):
    """R42: PUT /sites/<id>/portal-number (the operator's)."""

    number: str = Field(min_length=1, description="send the portal number in international format, e.g. +442079460999")


class VoiceLicences(Body):
    """R36: PUT /operator/occupiers/<id>/licences."""

    bought: int = Field(ge=0, description="give how many voice services were bought, a whole number")


class EmergencyNumbers(Body):
    """R22, R39: PUT /operator/sites/<id>/emergency; 112, 999 and 911 are always on."""

    numbers: list[str] = Field(max_length=20, description="send the site's own emergency numbers as a list of digits")


class ConferencePin(Body):
    """R44: PUT /conference/pin."""

    pin: str = Field(description="send the PIN as text")


class ConferenceNumber(Body):
    """R44: PUT /occupiers/<id>/conference/number; null takes the number away."""

    number: str | None = Field(description="send the E.164 number as text, or null")


class FeatureChanges(RootModel[dict[str, Any]]):
    """R20-R28: PATCH /numbers/<id>/features; the keys are the services' (pbx.services.feature_input)."""

    model_config = ConfigDict(strict=True)


class SearchQuery(BaseModel):
    """GET /sites/<id>/numbers?q=&page=&per_page=: one page, searched like the page's search box (R8)."""

    q: str = Field("", max_length=100, description="search text: a number in any common format, an extension, a name")
    search: str = Field("", max_length=100, description="the same as q (older clients)")
    page: str = Field("", description="the page, from 1")
    per_page: str = Field("", description="rows a page: 50 by default, 200 at most")


class NumberIds(BaseModel):
    """GET /numbers?ids=1,2: the rows a page is waiting on."""

    ids: list[int] = Field(
        default_factory=list, max_length=MAX_IDS, description=f"give up to {MAX_IDS} number ids separated by commas"
    )

    @field_validator("ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        parts = [part for part in value.split(",") if part]
        if not all(part.isdigit() for part in parts):
            raise ValueError("not digits")
        return [int(part) for part in parts]


def _reason(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field) if field != BODY else None
    return info.description if info is not None and info.description else NOT_AN_OBJECT


def refusal(model: type[BaseModel], error: ValidationError) -> FieldErrors:
    """Every wrong field of a request, each with what to send instead."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        loc = problem["loc"]
        field = str(loc[0]) if loc and str(loc[0]) in model.model_fields else BODY
        errors.setdefault(field, InvalidInput(field, _reason(model, field)).message)
    return FieldErrors(errors)


def parse(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise refusal(model, error) from None


def json_body(model: type[Model]) -> Model:
    """The request's JSON body as `model`; no body or not JSON is refused like a wrong shape."""
    return parse(model, request.get_json(silent=True))


def query(model: type[Model]) -> Model:
    return parse(model, request.args.to_dict())
