"""The one place where a refusal becomes an HTTP answer.

Services raise NotFound (404), Forbidden (403), InvalidInput (and FieldErrors,
several fields at once), RuleBroken and Conflict (400); the JSON API answers
{"error", "rule", "field", "errors"}, pages show the message. Form views catch
InvalidInput themselves to show each message beside its field (webui.forms).
A form view that must keep what the person typed may still set `g.on_refusal`
to re-render itself with the message (the features form does).
"""

from __future__ import annotations

from flask import Flask, g, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from pbx.services.errors import Conflict, FieldErrors, Forbidden, InvalidInput, NotFound, PbxError, RuleBroken
from webui.access import is_api_request

STATUS: dict[type[PbxError], int] = {NotFound: 404, Forbidden: 403, InvalidInput: 400, RuleBroken: 400, Conflict: 400}
CSRF_MESSAGE = "This request was refused: its security token is missing or out of date. Reload the page and try again."
HTTP_MESSAGES = {
    401: "Sign in first",
    403: "You do not have access to this page",
    404: "Not found: the page or the thing you asked for does not exist, or is not yours to see",
    405: "That method is not allowed here",
    429: "Too many attempts: wait a few minutes",
}
# The services' and the JSON bodies' field names, as the pages label the fields.
FIELD_LABELS = {
    "body": "Request",
    "ids": "Number ids",
    "user": "User",
    "user_id": "User",
    "display_name": "Display name",
    "first": "First part",
    "second": "Second part",
    "display_name_first": "First part",
    "display_name_second": "Second part",
    "phone_id": "Phone ID",
    "occupier": "Occupier",
    "site": "Site",
    "number": "Phone number",
    "e164": "Phone number",
    "extension": "Extension",
    "default_pin": "Default PIN",
    "destination": "Destination",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail address",
    "password": "First password",
    "role": "Role",
    "bought": "Voice services bought",
    "voice_licences": "Voice services",
    "numbers": "Emergency numbers",
    "file": "File",
}


def status_of(error: PbxError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def messages_of(error: InvalidInput) -> dict[str, str]:
    """Each refused field and its whole message, as the service worded it."""
    return dict(error.errors) if isinstance(error, FieldErrors) else {error.field: error.message}


def labelled(field: str, message: str, label: str | None = None) -> str:
    """A field's message with the label the admin sees (`label`, else FIELD_LABELS).

    Only a message that names the field by its key ("Default pin: ...") is relabelled;
    one that a service already worded with a label of its own stays as it is.
    """
    label = label or FIELD_LABELS.get(field)
    by_key = f"{field.replace('_', ' ').capitalize()}: "
    if label and message.startswith(by_key):
        return f"{label}: {message.removeprefix(by_key)}"
    return message


def field_messages(error: InvalidInput) -> dict[str, str]:
    return {field: labelled(field, message) for field, message in messages_of(error).items()}


CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    429: "rate_limited",
}


def api_error(
    status: int,
    message: str,
    rule: str | None = None,
    field: str | None = None,
    errors: dict[str, str] | None = None,
    code: str | None = None,
):
    """Every /api/v1/ error has this one shape (schema Error in /api/v1/openapi.json):
    `error` the message, `code` a stable word, `rule` the rule broken (R..), `field` the first
    refused field and `errors` every refused field with its message."""
    code = code or ("rule_broken" if rule else CODES.get(status, f"http_{status}"))
    return jsonify(error=message, code=code, rule=rule, field=field, errors=errors or {}), status


def _answer(
    status: int,
    message: str,
    rule: str | None = None,
    field: str | None = None,
    errors: dict[str, str] | None = None,
    code: str | None = None,
):
    if is_api_request():
        return api_error(status, message, rule, field, errors, code)
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(PbxError)
    def refused(error: PbxError):
        status = status_of(error)
        on_refusal = g.get("on_refusal")
        if status == 400 and on_refusal is not None and not is_api_request():
            return on_refusal(error)
        if isinstance(error, InvalidInput):
            messages = field_messages(error)
            field, message = next(iter(messages.items()))
            return _answer(status, message, None, field, messages)
        code = "conflict" if isinstance(error, Conflict) else None
        return _answer(status, error.message, getattr(error, "rule", None), code=code)

    @app.errorhandler(CSRFError)
    def csrf_refused(_error: CSRFError):
        return _answer(400, CSRF_MESSAGE, code="csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        return _answer(status, HTTP_MESSAGES.get(status, error.description or error.name))
