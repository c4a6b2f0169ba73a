"""`Authorization: Bearer <token>` on /api/ requests: the token's user, narrowed by its scope.

A bearer request is identified by its token alone (a session cookie sent with it is
ignored), and CSRF does not apply to it: a cross-site page cannot make a browser send an
Authorization header it does not know. Every other write (a session's) keeps its CSRF check.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFProtect

from pbx.services import api_tokens
from webui.access import WebUser, is_api_request
from webui.store import unit_of_work

SCHEME = "bearer "
CSRF_METHODS = ("POST", "PUT", "PATCH", "DELETE")
REFUSED = "This API token is not valid: it is unknown, revoked or expired"


def presented_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith(SCHEME):
        return None
    return header[len(SCHEME) :].strip()


def _user_of(token: str) -> WebUser | None:
    with unit_of_work() as db:
        found = api_tokens.authenticate(db, token)
        if found is None:
            return None
        return WebUser.of(found.user, sid=f"token:{found.id}", scope=found.scope)


def register(app: Flask, csrf: CSRFProtect) -> None:
    # CSRFProtect's own hook checks every write; this one skips bearer requests instead.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    @app.before_request
    def authenticate_or_check_csrf():
        token = presented_token() if is_api_request() else None
        if token is None:
            if request.method in CSRF_METHODS:
                csrf.protect()
            return None
        user = _user_of(token)
        if user is None:
            g.auth_problem = REFUSED
        # Flask-Login reads g._login_user before the session: the token decides who this is.
        g._login_user = user or AnonymousUserMixin()
        return None
