"""The JSON API under /api/v1/: what the pages' scripts read, with the services' rules and errors.

Writes are in api_actions.py; both send refusals through webui.errors, so a
refused change answers exactly what the form would say.
"""

from __future__ import annotations

from flask import jsonify, request

from pbx.services import directory, numbers
from pbx.services.applying import applying
from pbx.services.features import show_features
from pbx.services.lookup import get_number
from pbx.services.number_search import Paging, site_numbers_page
from webui import api_models as m
from webui.access import ADMIN, OPERATOR, USER, current_actor, current_user
from webui.api_registry import bp, operation
from webui.present import handset_choice, number_details, number_row, site_json, user_choice
from webui.schemas import NumberIds, SearchQuery, query
from webui.store import unit_of_work

__all__ = ["bp"]
ASSIGN_LISTED = 100  # the Assign pop-up lists this many users; its search box finds the others
HANDSETS_LISTED = 100  # the same for the handset login pop-up's Phone IDs


@operation("GET", "/me", roles=(ADMIN, USER, OPERATOR), tag="Me", response=m.Me)
def me():
    """Who is calling: the signed-in person or the token's user."""
    return jsonify(
        email=current_user.email,
        name=current_user.name,
        role=current_user.role.value,
        occupier=current_user.occupier_name,
    )


@operation("GET", "/sites", roles=(ADMIN,), tag="Telephony", response=m.Sites)
def sites():
    """The sites of the admin's occupier."""
    actor = current_actor()
    with unit_of_work() as db:
        return jsonify(sites=[site_json(s) for s in numbers.occupier_sites(db, actor, actor.own_occupier_id)])


@operation(
    "GET", "/sites/<int:site_id>/numbers", roles=(ADMIN,), tag="Telephony", response=m.SiteNumbers, query=SearchQuery
)
def site_numbers(site_id: int):
    """R7-R10: one page of a site's rows; `q` (or `search`) searches in SQL as the search box does (R8).

    `?q=&page=&per_page=`: 50 rows a page by default, 200 at most, with the total that match."""
    actor = current_actor()
    args = request.args
    paging = Paging.parse(args.get("page"), args.get("per_page"))
    query_text = args.get("q", args.get("search", ""))
    with unit_of_work() as db:
        site = directory.get_occupier_site(db, actor, actor.own_occupier_id, site_id)
        found = site_numbers_page(db, actor, actor.own_occupier_id, site_id, query_text, paging)
        return jsonify(
            site=site_json(site),
            numbers=[number_row(n) for n in found.rows],
            total=found.total,
            page=paging.page,
            per_page=paging.per_page,
            pages=found.pages,
            q=query_text,
        )


@operation("GET", "/numbers", roles=(ADMIN, USER), tag="Telephony", response=m.Numbers, query=NumberIds)
def some_numbers():
    """The rows the page is waiting on (Pending), re-read without reloading the list, and whether
    changes can be applied at all now (`applying`: the reason when not, so a wait is never silent)."""
    wanted = query(NumberIds)
    with unit_of_work() as db:
        found = directory.numbers_by_ids(db, current_actor(), wanted.ids)
        rows = [number_row(n) for n in found]
        waiting = applying(db).as_dict() if any(r["status"] == "pending" for r in rows) else None
        return jsonify(numbers=rows, applying=waiting)


@operation("GET", "/numbers/<int:number_id>", roles=(ADMIN, USER, OPERATOR), tag="Telephony", response=m.NumberDetails)
def number(number_id: int):
    """R11: the whole configuration of a number."""
    with unit_of_work() as db:
        return jsonify(number_details(get_number(db, current_actor(), number_id)))


@operation(
    "GET", "/numbers/<int:number_id>/features", roles=(ADMIN, USER, OPERATOR), tag="Features", response=m.Features
)
def features(number_id: int):
    """R20-R28: a number's features (the authorization code only as on/off)."""
    with unit_of_work() as db:
        return jsonify(show_features(db, current_actor(), number_id))


@operation("GET", "/numbers/<int:number_id>/cli-choices", roles=(ADMIN, USER), tag="Features", response=m.CliChoices)
def cli_choices(number_id: int):
    """R27: the numbers the CLI field may show, searched like the Telephony list (R8), 20 at most."""
    from webui.features_form import CLI_LISTED, cli_choice

    with unit_of_work() as db:
        found = directory.cli_choices(db, current_actor(), number_id, request.args.get("q", "")[:100], CLI_LISTED)
        return jsonify(choices=[cli_choice(n) for n in found])


@operation("GET", "/numbers/<int:number_id>/users", roles=(ADMIN,), tag="Telephony", response=m.Users)
def assignable_users(number_id: int):
    """R12: every user of the occupier; those with another number are not selectable."""
    with unit_of_work() as db:
        found = directory.assignable_users(
            db, current_actor(), number_id, request.args.get("q", "")[:100], ASSIGN_LISTED + 1
        )
        return jsonify(users=[user_choice(c) for c in found[:ASSIGN_LISTED]], more=len(found) > ASSIGN_LISTED)


@operation("GET", "/numbers/<int:number_id>/handsets", roles=(ADMIN,), tag="Telephony", response=m.Handsets)
def handsets(number_id: int):
    """R15: the phone IDs of the number's site."""
    with unit_of_work() as db:
        found = directory.site_handsets(
            db, current_actor(), number_id, request.args.get("q", "")[:40], HANDSETS_LISTED + 1
        )
        return jsonify(handsets=[handset_choice(c) for c in found[:HANDSETS_LISTED]], more=len(found) > HANDSETS_LISTED)


@operation("GET", "/users", roles=(ADMIN,), tag="Users", response=m.Users)
def users():
    """The users of the admin's occupier."""
    actor = current_actor()
    with unit_of_work() as db:
        return jsonify(users=[user_choice(c) for c in directory.occupier_users(db, actor, actor.own_occupier_id)])


@operation("GET", "/users/<int:user_id>/numbers", roles=(ADMIN,), tag="Users", response=m.Numbers)
def user_numbers(user_id: int):
    """R29: the number assigned to a user, as a Telephony row."""
    with unit_of_work() as db:
        return jsonify(numbers=[number_row(n) for n in directory.numbers_of_user(db, current_actor(), user_id)])


@operation("GET", "/me/numbers", roles=(ADMIN, USER), tag="Me", response=m.Numbers)
def my_numbers():
    """R30: the signed-in person's own number."""
    with unit_of_work() as db:
        mine = directory.my_number(db, current_actor())
        return jsonify(numbers=[number_row(mine)] if mine else [])
