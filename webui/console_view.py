"""The operator console's lists (R31) as the template shows them: each searched and paged in SQL.

`?oq=&opage=` occupiers, `?nq=&npage=` the selected occupier's numbers, `?hq=&hpage=` handsets.
Every destructive action carries the sentence its confirmation shows (what else it changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from pbx.feature_table import AUTHORIZATION_CODE
from pbx.services import call_policy, console, directory, licences
from pbx.services.errors import InvalidInput
from pbx.services.number_search import Paging, occupier_numbers_page
from webui.present import STATUS_LABELS, national

OCCUPIERS_PER_PAGE = 20
NUMBERS_PER_PAGE = 50
HANDSETS_PER_PAGE = 50


@dataclass(frozen=True)
class ListState:
    """One list's search and page as the address says, and the links to its other pages."""

    key: str  # "o", "n" or "h"
    query: str
    page: int
    pages: int
    total: int

    def link(self, page: int) -> str:
        args: dict[str, Any] = {k: v for k, v in request.args.items() if v}
        args[f"{self.key}page"] = str(page)
        return str(url_for("operator.page", **args)) + f"#{self.anchor}"

    @property
    def anchor(self) -> str:
        return {"o": "occupiers-heading", "n": "numbers-heading", "h": "handsets-heading"}[self.key]


def _paging(key: str, per_page: int) -> tuple[str, Paging]:
    query = request.args.get(f"{key}q", "").strip()[:100]
    raw = request.args.get(f"{key}page", "")
    try:
        paging = Paging.parse(raw, per_page)
    except InvalidInput:
        paging = Paging(1, per_page)  # a mistyped page in the address shows the first page
    return query, paging


def selected_occupier() -> int | None:
    raw = request.values.get("occupier", "")
    return int(raw) if raw.isdigit() else None


def console_data(db, actor) -> dict[str, Any]:
    """Everything the console shows, in a fixed number of SQL statements whatever the sizes."""
    oq, opaging = _paging("o", OCCUPIERS_PER_PAGE)
    occupiers = console.occupiers_page(db, actor, oq, opaging)
    selected = selected_occupier() or (occupiers.rows[0].id if occupiers.rows else None)
    working = console.working_numbers(db, actor, [o.id for o in occupiers.rows])
    usage = licences.all_usage(db, actor)  # R36
    occupier_rows = [
        {
            "id": o.id,
            "name": o.name,
            "voice": o.voice_services_active,
            "sites": [s.name for s in o.sites],
            "allowed": call_policy.allowed_classes(o),
            "licences": usage[o.id],
            "confirm_voice_off": (
                f"Switch voice services off for {o.name}? "
                f"{working.get(o.id, 0)} phone number{'' if working.get(o.id, 0) == 1 else 's'} "
                "stop working: no calls in or out until they are switched on again."
            ),
        }
        for o in occupiers.rows
    ]
    all_occupiers = directory.all_occupiers(db, actor)
    selected_name = next((o.name for o in all_occupiers if o.id == selected), None)
    sites = [
        {"id": s.id, "name": s.name, "occupiers": " ".join(str(o.id) for o in s.occupiers)}
        for s in console.all_sites(db, actor)
    ]
    nq, npaging = _paging("n", NUMBERS_PER_PAGE)
    numbers_page = occupier_numbers_page(db, actor, selected, nq, npaging) if selected else None
    mains = console.main_numbers(db, actor, selected) if selected else {}
    numbers = []
    for n in numbers_page.rows if numbers_page else []:
        change = console.main_number_change(n, mains, n.user.full_name if n.user else None)
        numbers.append(
            {
                "id": n.id,
                "e164": n.e164,
                "national": national(n.e164),
                "extension": n.extension,
                "site": n.site.name,
                "status": n.status.value,
                "status_label": STATUS_LABELS[n.status.value],
                "main": n.is_main,
                "destination": n.main_destination or "",
                "user": n.user.full_name if n.user else "",
                "phone_id": n.handset.phone_id if n.handset else "",
                "confirm_main": change.warning() if (change.loses_user or change.steps_down) else "",
                "has_code": bool(n.features is not None and getattr(n.features, AUTHORIZATION_CODE.column)),
            }
        )
    hq, hpaging = _paging("h", HANDSETS_PER_PAGE)
    handsets = console.handsets_page(db, actor, hq, hpaging)
    handset_rows = [
        {"phone_id": h.phone_id, "site": h.site.name, "number": national(h.number.e164) if h.number else None}
        for h in handsets.rows
    ]
    return {
        "occupiers": occupier_rows,
        "all_occupiers": [{"id": o.id, "name": o.name} for o in all_occupiers],
        "selected": selected,
        "selected_name": selected_name,
        "sites": sites,
        "numbers": numbers,
        "handsets": handset_rows,
        "lists": {
            "o": ListState("o", oq, opaging.page, occupiers.pages, occupiers.total),
            "n": ListState(
                "n",
                nq,
                npaging.page,
                numbers_page.pages if numbers_page else 1,
                numbers_page.total if numbers_page else 0,
            ),
            "h": ListState("h", hq, hpaging.page, handsets.pages, handsets.total),
        },
    }
