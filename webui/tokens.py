"""API tokens in the UI (My profile) and in the API: list, create (the secret shown once), revoke.

The new token's secret is rendered into the answer to the POST that made it and never
stored, flashed or redirected with (a flash lives in the signed, readable session cookie).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from pydantic import Field

from pbx.services import api_tokens, directory
from pbx.services.errors import InvalidInput
from pbx.store.models import ApiToken
from webui import api_models as m
from webui.access import ADMIN, OPERATOR, USER, current_actor, roles_required
from webui.api_registry import operation
from webui.errors import field_messages
from webui.schemas import Body, json_body
from webui.store import unit_of_work

bp = Blueprint("tokens", __name__)


class NewToken(Body):
    name: str = Field(min_length=1, description="name the token, e.g. 'nightly export'")
    scope: str = Field("write", description="choose read or write")
    expires_in_days: int | None = Field(None, description="give a number of days, or leave it out")


class TokenOut(m.Answer):
    id: int
    name: str
    scope: str
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    revoked: bool
    usable: bool


class TokenCreated(TokenOut):
    token: str = Field(description="the secret: shown in this answer only")


class Tokens(m.Answer):
    tokens: list[TokenOut]


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def token_json(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "scope": t.scope,
        "created_at": _when(t.created_at),
        "last_used_at": _when(t.last_used_at),
        "expires_at": _when(t.expires_at),
        "revoked": t.revoked_at is not None,
        "usable": api_tokens.is_usable(t),
    }


# -- the API ------------------------------------------------------------------------------------
@operation("GET", "/tokens", roles=(ADMIN, USER, OPERATOR), tag="Tokens", response=Tokens)
def list_tokens():
    """The caller's own API tokens (never their secrets)."""
    with unit_of_work() as db:
        return jsonify(tokens=[token_json(t) for t in api_tokens.list_tokens(db, current_actor())])


@operation(
    "POST", "/tokens", roles=(ADMIN, USER, OPERATOR), tag="Tokens", response=TokenCreated, body=NewToken, status=201
)
def create_token():
    """Create an API token for the caller; `token` is in this answer only."""
    body = json_body(NewToken)
    with unit_of_work() as db:
        made = api_tokens.create_token(db, current_actor(), body.name, body.scope, expires_in_days=body.expires_in_days)
        return jsonify(**token_json(made.token), token=made.secret), 201


@operation("DELETE", "/tokens/<int:token_id>", roles=(ADMIN, USER, OPERATOR), tag="Tokens", response=TokenOut)
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens: it is refused (401) from now on."""
    with unit_of_work() as db:
        return jsonify(token_json(api_tokens.revoke_token(db, current_actor(), token_id)))


# -- My profile ---------------------------------------------------------------------------------
def profile_page(new_secret: str | None = None, errors: dict[str, str] | None = None, status: int = 200):
    with unit_of_work() as db:
        has_number = directory.my_number(db, current_actor()) is not None
        tokens = [token_json(t) for t in api_tokens.list_tokens(db, current_actor())]
    return render_template(
        "profile.html",
        has_number=has_number,
        poll_ms=current_app.config["PBX_POLL_MS"],
        api_tokens=tokens,
        new_token_secret=new_secret,
        token_errors=errors or {},
    ), status


@bp.post("/profile/tokens")
@roles_required(ADMIN, USER)
def create_from_profile():
    try:
        with unit_of_work() as db:
            made = api_tokens.create_token(
                db, current_actor(), request.form.get("name", ""), request.form.get("scope", "write")
            )
            secret = made.secret
    except InvalidInput as error:
        return profile_page(errors=field_messages(error), status=400)
    return profile_page(new_secret=secret)


@bp.post("/profile/tokens/<int:token_id>/revoke")
@roles_required(ADMIN, USER)
def revoke_from_profile(token_id: int):
    with unit_of_work() as db:
        token = api_tokens.revoke_token(db, current_actor(), token_id)
        flash(f"The token {token.name} is revoked", "success")
    return redirect(url_for("profile.page"), 303)
