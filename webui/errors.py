"""The one place where a refusal becomes an HTTP answer.

Services raise NotFound (404), Forbidden (403), InvalidInput, RuleBroken and
Conflict (400); the JSON API answers {"error", "rule", "field"} (and "errors":
{field: message} when several fields were refused at once), pages show the
message. A form view that must keep what the person typed sets `g.on_refusal`
to re-render itself with the message.
"""
from __future__ import annotations

from flask import Flask, g, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from pbx.services.errors import Conflict, Forbidden, InvalidInput, NotFound, PbxError, RuleBroken
from webui.access import is_api_request

STATUS: dict[type[PbxError], int] = {NotFound: 404, Forbidden: 403, InvalidInput: 400, RuleBroken: 400,
                                     Conflict: 400}
CSRF_MESSAGE = "This request was refused: its security token is missing or out of date. Reload the page and try again."
HTTP_MESSAGES = {
    401: "Sign in first", 403: "You do not have access to this page",
    404: "Not found: the page or the thing you asked for does not exist, or is not yours to see",
    405: "That method is not allowed here", 429: "Too many attempts: wait a few minutes",
}


def status_of(error: PbxError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def _answer(status: int, message: str, rule: str | None = None, field: str | None = None,
            errors: dict[str, str] | None = None):
    if is_api_request():
        return jsonify(error=message, rule=rule, field=field, **({"errors": errors} if errors else {})), status
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(PbxError)
    def refused(error: PbxError):
        status = status_of(error)
        on_refusal = g.get("on_refusal")
        if status == 400 and on_refusal is not None and not is_api_request():
            return on_refusal(error)
        return _answer(status, error.message, getattr(error, "rule", None), getattr(error, "field", None),
                       getattr(error, "errors", None))

    @app.errorhandler(CSRFError)
    def csrf_refused(_error: CSRFError):
        return _answer(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        return _answer(status, HTTP_MESSAGES.get(status, error.description or error.name))
