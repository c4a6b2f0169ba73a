"""Who is signed in and which role reaches which page (R3).

Occupier admins: Telephony and user management of their own occupier. Users:
My profile. Operator admins: the operator console. Anything else is 403; the
services make another occupier's ids 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import abort, g, redirect, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user

from pbx.services import directory
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden
from pbx.store.models import Role, User
from webui.store import state, unit_of_work

login_manager = LoginManager()
login_manager.login_view = "auth.sign_in"
login_manager.login_message = None
SID_KEY = "_user_id"  # where Flask-Login keeps get_id(): our session id, not the user id

ADMIN, USER, OPERATOR = Role.OCCUPIER_ADMIN, Role.USER, Role.OPERATOR_ADMIN
READ = "read"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class WebUser(UserMixin):
    """A signed-in person, copied out of the store for the request."""

    id: int
    sid: str
    email: str
    name: str
    role: Role
    occupier_id: int | None
    occupier_name: str | None
    scope: str | None = None  # an API token's (read / write); None: a signed-in session

    def get_id(self) -> str:
        return self.sid

    @property
    def actor(self) -> Actor:
        return Actor(label=self.email, role=self.role, user_id=self.id, occupier_id=self.occupier_id)

    @classmethod
    def of(cls, user: User, sid: str, scope: str | None = None) -> WebUser:
        return cls(
            scope=scope,
            id=user.id,
            sid=sid,
            email=user.email,
            name=user.full_name,
            role=user.role,
            occupier_id=user.occupier_id,
            occupier_name=user.occupier.name if user.occupier else None,
        )


@login_manager.user_loader
def _load(sid: str) -> WebUser | None:
    user_id = state().web_sessions.user_id(sid)
    if user_id is None:
        return None
    with unit_of_work() as db:
        user = directory.find_signed_in_user(db, user_id)
        return WebUser.of(user, sid) if user is not None else None


@login_manager.unauthorized_handler
def _unauthorized():
    if is_api_request():
        from webui.errors import api_error

        return api_error(401, g.get("auth_problem") or "Sign in first")
    return redirect(url_for("auth.sign_in", next=request.full_path if request.query_string else request.path))


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def current_actor() -> Actor:
    return current_user.actor


def home_url(role: Role) -> str:
    return {ADMIN: url_for("telephony.page"), USER: url_for("profile.page"), OPERATOR: url_for("operator.page")}[role]


def roles_required(*roles: Role) -> Callable:
    """Signed in with one of `roles`, or 401/redirect (not signed in) and 403 (wrong role)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            if current_user.scope == READ and request.method not in SAFE_METHODS:
                raise Forbidden("This API token may only read: create a write token to change things")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def current_sid() -> str | None:
    return session.get(SID_KEY)
