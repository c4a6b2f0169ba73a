"""Sign in and sign out: argon2 password check, session rotation, rate limit."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from pbx.services import directory
from pbx.services.passwords import hash_secret, verify_secret
from webui.access import WebUser, current_sid, home_url
from webui.forms import SignInForm
from webui.ratelimit import Blocked, Scope
from webui.store import state, unit_of_work

bp = Blueprint("auth", __name__)

WRONG = "The e-mail address or password is not right"
# Checking a password against a dummy hash when the e-mail is unknown makes both
# answers take as long, so timing does not tell which addresses exist.
_DUMMY_HASH = hash_secret("not-a-password")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.get("/sign-in")
def sign_in():
    if current_user.is_authenticated:
        return redirect(home_url(current_user.role))
    form = SignInForm(formdata=None, next=request.args.get("next", ""))
    return render_template("sign_in.html", form=form, error=None)


@bp.post("/sign-in")
def sign_in_post():
    form = SignInForm()
    if not form.validate():
        return _again(form, None, 400)
    email = (form.email.data or "").strip()
    password = form.password.data or ""
    ip = request.remote_addr or "-"
    limiter = state().limiter
    blocked = limiter.blocked(email, ip)
    if blocked:  # even the right password, while blocked
        return _again(form, _too_many(blocked), 429)
    with unit_of_work() as db:
        user = directory.find_user_by_email(db, email)
        ok = verify_secret(user.password_hash if user else _DUMMY_HASH, password) and user is not None
        if ok:
            session.clear()  # rotation: nothing from before sign-in survives, CSRF token included
            sid = state().web_sessions.start(user.id)
            login_user(WebUser.of(user, sid))
    if not ok:
        limiter.failed(email, ip)
        return _again(form, WRONG, 400)
    limiter.succeeded(email, ip)
    return redirect(_safe_next(form.next.data) or home_url(current_user.role))


def _too_many(blocked: Blocked) -> str:
    """Which limit was hit, in words that never tell whether the e-mail address has an account."""
    minutes = max(1, round(blocked.retry_after_s / 60))
    where = "from your address" if blocked.scope is Scope.ADDRESS else "for this account"
    return f"Too many failed sign-ins {where}. Try again in {minutes} minute{'s' if minutes > 1 else ''}."


def _again(form: SignInForm, error: str | None, status: int):
    """The form again with the e-mail address typed; a wrong password says only that something is wrong."""
    return render_template("sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
def sign_out():
    state().web_sessions.end(current_sid())
    logout_user()
    session.clear()
    return redirect(url_for("auth.sign_in", signed_out=1))
