"""My profile (R30): a user sees their own number and changes its features, nothing else.

Occupier admins are users of their occupier too, so they have a profile as well.
"""

from __future__ import annotations

from flask import Blueprint, url_for

from pbx.services import directory
from pbx.services.errors import NotFound
from webui import features_form
from webui.access import ADMIN, USER, current_actor, roles_required
from webui.store import unit_of_work

bp = Blueprint("profile", __name__)


@bp.get("/profile")
@roles_required(USER, ADMIN)
def page():
    from webui.tokens import profile_page

    return profile_page()[0]


@bp.route("/profile/features", methods=["GET", "POST"])
@roles_required(USER, ADMIN)
def features():
    with unit_of_work() as db:
        mine = directory.my_number(db, current_actor())
        if mine is None:
            raise NotFound("You do not have a phone number yet: ask your occupier admin for one")
        number_id = mine.id
    return features_form.handle(number_id, url_for("profile.page"), "My profile")
