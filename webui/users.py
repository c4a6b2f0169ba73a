"""User management for occupier admins, and each user's Telephony section (R29)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from pbx.services import directory, operator
from pbx.services.lookup import get_occupier, get_user
from pbx.store.models import Role
from webui.access import ADMIN, current_actor, roles_required
from webui.forms import AddUserForm, Submission
from webui.present import national
from webui.store import unit_of_work

bp = Blueprint("users", __name__)
ROLES = {"user": Role.USER, "occupier_admin": Role.OCCUPIER_ADMIN}


@bp.get("/users")
@roles_required(ADMIN)
def index():
    return _page(AddUserForm())


PER_PAGE = 50


def _page(form: AddUserForm, banner: list[str] | None = None, status: int = 200):
    """The occupier's people, a page at a time (`?q=&page=`), searched by name, e-mail or number."""
    actor = current_actor()
    query = request.args.get("q", "").strip()
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
    with unit_of_work() as db:
        occupier = get_occupier(db, actor, actor.own_occupier_id)
        found, total = directory.occupier_users_page(db, actor, occupier.id, query, page, PER_PAGE)
        people = [
            {
                "id": c.user.id,
                "name": c.user.full_name,
                "email": c.user.email,
                "admin": c.user.role is Role.OCCUPIER_ADMIN,
                "number": c.number.e164 if c.number else None,
                "national": national(c.number.e164) if c.number else None,
                "extension": c.number.extension if c.number else None,
            }
            for c in found
        ]
        name = occupier.name
    pages = max(1, -(-total // PER_PAGE))
    return render_template(
        "users.html",
        people=people,
        occupier_name=name,
        form=form,
        banner_messages=banner or [],
        query=query,
        page=page,
        pages=pages,
        total=total,
    ), status


@bp.post("/users")
@roles_required(ADMIN)
def add():
    """An occupier admin adds a user (or another admin) to their own occupier."""
    form = AddUserForm()
    if not form.validate():
        return _page(form, status=400)
    actor = current_actor()
    with Submission(form) as sent, unit_of_work() as db:
        occupier = get_occupier(db, actor, actor.own_occupier_id)
        user = operator.create_user(
            db,
            actor,
            occupier.operator,
            occupier,
            form.first_name.data or "",
            form.last_name.data or "",
            form.email.data or "",
            form.password.data or "",
            ROLES[form.role.data],
        )
        user_id, name = user.id, user.full_name
    if sent.refused:
        return _page(form, sent.banner, 400)
    flash(f"{name} is added", "success")
    return redirect(url_for("users.show", user_id=user_id))


@bp.get("/users/<int:user_id>")
@roles_required(ADMIN)
def show(user_id: int):
    """R29: the same row and actions as on the Telephony page, for the user's number."""
    with unit_of_work() as db:
        user = get_user(db, current_actor(), user_id)
        person = {
            "id": user.id,
            "name": user.full_name,
            "email": user.email,
            "admin": user.role is Role.OCCUPIER_ADMIN,
            "has_number": user.number is not None,
        }
    return render_template("user.html", person=person, poll_ms=current_app.config["PBX_POLL_MS"])
