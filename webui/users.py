"""User management for occupier admins, and each user's Telephony section (R29)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from pbx.services import directory, operator
from pbx.services.errors import InvalidInput
from pbx.services.lookup import get_occupier, get_user
from pbx.store.models import Role
from webui.access import ADMIN, current_actor, roles_required
from webui.store import unit_of_work

bp = Blueprint("users", __name__)
ROLES = {"user": Role.USER, "occupier_admin": Role.OCCUPIER_ADMIN}


@bp.get("/users")
@roles_required(ADMIN)
def index(form: dict | None = None, refusal=None, status: int = 200):
    actor = current_actor()
    with unit_of_work() as db:
        occupier = get_occupier(db, actor, actor.occupier_id)
        people = [{"id": c.user.id, "name": c.user.full_name, "email": c.user.email,
                   "admin": c.user.role is Role.OCCUPIER_ADMIN,
                   "number": c.number.e164 if c.number else None,
                   "extension": c.number.extension if c.number else None}
                  for c in directory.occupier_users(db, actor, occupier.id)]
        name = occupier.name
    return render_template("users.html", people=people, occupier_name=name, form=form or {},
                           refusal=refusal), status


@bp.post("/users")
@roles_required(ADMIN)
def add():
    """An occupier admin adds a user (or another admin) to their own occupier."""
    form = {key: request.form.get(key, "") for key in ("first_name", "last_name", "email", "role")}
    g.on_refusal = lambda refusal: index(form, refusal, 400)
    role = ROLES.get(form["role"])
    if role is None:
        raise InvalidInput("role", "pick User or Occupier admin")
    actor = current_actor()
    with unit_of_work() as db:
        occupier = get_occupier(db, actor, actor.occupier_id)
        user = operator.create_user(db, actor, occupier.operator, occupier, form["first_name"],
                                    form["last_name"], form["email"], request.form.get("password", ""), role)
        user_id, name = user.id, user.full_name
    flash(f"{name} is added", "success")
    return redirect(url_for("users.show", user_id=user_id))


@bp.get("/users/<int:user_id>")
@roles_required(ADMIN)
def show(user_id: int):
    """R29: the same row and actions as on the Telephony page, for the user's number."""
    with unit_of_work() as db:
        user = get_user(db, current_actor(), user_id)
        person = {"id": user.id, "name": user.full_name, "email": user.email,
                  "admin": user.role is Role.OCCUPIER_ADMIN, "has_number": user.number is not None}
    return render_template("user.html", person=person, poll_ms=current_app.config["PBX_POLL_MS"])
