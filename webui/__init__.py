"""The admin web UI: an app factory in the manner of Flask's tutorial.

`create_app(settings=...)` takes the store's URL, the secret key and the cookie
flags from pbx's Settings (none given: `Settings.from_env()`); tests pass
`test_config` (DATABASE_URL, SECRET_KEY, ...) to run against their own store.
"""

from __future__ import annotations

import dataclasses

from flask import Flask, redirect, send_from_directory, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect

from pbx.settings import Settings
from pbx.store.db import make_engine, make_session_factory
from pbx.store.migrate import check_current
from webui import bearer, compress, errors
from webui.access import home_url, login_manager
from webui.ratelimit import MAX_FAILURES, MAX_PER_ACCOUNT, MAX_PER_ADDRESS, WINDOW_S, SignInLimiter
from webui.secret import secret_key
from webui.store import WebState
from webui.web_sessions import SessionRegistry

csrf = CSRFProtect()
POLL_MS = 1000  # how often a page re-reads its Pending rows: R4's "short delay" is about a second

# Scripts and styles come only from /static: no inline script can run, whatever a name contains.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(test_config: dict | None = None, *, settings: Settings | None = None) -> Flask:
    app = Flask(__name__)
    settings = settings or Settings.from_env()
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # The token lives as long as the session, which sign-out ends (webui.web_sessions).
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        SIGNIN_MAX_FAILURES=MAX_FAILURES,
        SIGNIN_WINDOW_S=WINDOW_S,
        SIGNIN_MAX_PER_ADDRESS=MAX_PER_ADDRESS,
        SIGNIN_MAX_PER_ACCOUNT=MAX_PER_ACCOUNT,
        PBX_POLL_MS=POLL_MS,
    )
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.secret_key or secret_key(settings.state_dir)
    # A store whose schema is behind the code is refused at start, not half-used (pbx db upgrade).
    check_current(app.config["DATABASE_URL"])
    factory = make_session_factory(make_engine(app.config["DATABASE_URL"]))
    app.extensions["pbx"] = WebState(
        sessions=factory,
        web_sessions=SessionRegistry(factory),
        limiter=SignInLimiter(
            factory,
            app.config["SIGNIN_MAX_FAILURES"],
            app.config["SIGNIN_WINDOW_S"],
            app.config["SIGNIN_MAX_PER_ADDRESS"],
            app.config["SIGNIN_MAX_PER_ACCOUNT"],
        ),
        settings=dataclasses.replace(settings, database_url=app.config["DATABASE_URL"]),
    )
    csrf.init_app(app)
    bearer.register(app, csrf)
    login_manager.init_app(app)
    errors.register(app)
    _register_blueprints(app)
    _register_basics(app)
    compress.register(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from webui import (  # noqa: F401  (the api_* modules declare their routes on api.bp)
        api,
        api_actions,
        api_conference,
        api_events,
        api_main_number,
        api_operator,
        api_operator_numbers,
        api_portal,
        auth,
        health,
        main_number_page,
        openapi,
        operator,
        operator_numbers,
        profile,
        telephony,
        tokens,
        users,
    )

    for module in (auth, telephony, users, profile, tokens, operator, operator_numbers, api, health, main_number_page):
        app.register_blueprint(module.bp)


def _register_basics(app: Flask) -> None:
    @app.get("/")
    def home():
        if current_user.is_authenticated:
            return redirect(home_url(current_user.role))
        return redirect(url_for("auth.sign_in"))

    @app.get("/favicon.ico")
    def favicon():
        """Browsers ask for it on every first visit; an SVG serves every size."""
        assert app.static_folder is not None
        return send_from_directory(app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype in ("text/html", "application/json"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def roles():
        from webui.access import ADMIN, OPERATOR, USER

        return {"ADMIN": ADMIN, "USER": USER, "OPERATOR": OPERATOR}
