"""Store snapshot -> the AstDB keys the dialplan reads at call time. Pure.

Every number and handset always has its full set of keys ("" meaning off), so
applying a change is only DBPut: no delete, and no moment when a key is missing.
"""

from __future__ import annotations

from typing import Any

from pbx.asterisk.call_policy_keys import call_policy_keys
from pbx.asterisk.main_number_keys import HUNT_MARK, main_number_keys
from pbx.asterisk.portal_keys import site_keys
from pbx.asterisk.routing import number_routes
from pbx.asterisk.snapshot import HandsetView, NumberView, Snapshot
from pbx.feature_table import CALL_FIELDS, FEATURES, Feature, Kind
from pbx.services.emergency import dialplan_value

FAMILY = "pbx"
__all__ = ["CALL_FIELDS", "FAMILY", "handset_keys", "live_state", "number_keys"]


def _astdb_value(f: Feature, value: Any) -> str:
    """Flags (and a secret's being set) are "1" or ""; everything else its text, "" meaning off."""
    if f.kind in (Kind.FLAG, Kind.SECRET):
        return "1" if value else ""
    return str(value)


def feature_keys(number: NumberView) -> dict[str, str]:
    """The features the dialplan reads, by their AstDB keys; the main number has its own values (R5)."""
    return {
        f.astdb: _astdb_value(
            f, f.main_value if number.is_main and f.main_value is not None else number.features[f.key]
        )
        for f in FEATURES
        if f.astdb
    }


def number_keys(number: NumberView) -> dict[str, str]:
    prefix = f"num/{number.id}"
    keys = {
        "e164": number.e164,
        "ext": number.extension,
        "occ": str(number.occupier_id),
        "site": str(number.site_id),
        "label": number.label,
        "handset": number.handset,
        "main_dest": number.main_destination if number.is_main else "",
        # R44: "1" on the occupier's conference number (dialplan pbx-number, off the fast path).
        "conf": "1" if number.conference else "",
        **feature_keys(number),
    }
    # Everything a plain call to the number needs, in one read (dialplan pbx-number): one
    # key is also one atomic put, so a call never sees half of a change.
    # The fields are validated tokens (digits, E.164, flags, a phone ID) with no comma; were
    # one there, it is dropped so no field shifts (the call then fails, never mis-routes).
    call = {**keys, "main_dest": HUNT_MARK} if number.handling else keys  # R35: [pbx-main] takes the call
    keys["call"] = ",".join(call[k].replace(",", "") for k in CALL_FIELDS)
    main = main_number_keys(number.id, number.handling) if number.handling else {}
    return (
        {f"{prefix}/{key}": value for key, value in keys.items()}
        | number_routes(number)
        | call_policy_keys(number)
        | main
    )


def handset_keys(handset: HandsetView) -> dict[str, str]:
    """handset/<phone id>: the number logged in ("" none); sos/<phone id>: its site's own
    emergency numbers (",101,105,", "" none), read by pbx-from-handset before anything else (R22)."""
    return {
        f"handset/{handset.phone_id}": str(handset.number_id) if handset.number_id else "",
        f"sos/{handset.phone_id}": dialplan_value(handset.emergency),
    }


def live_state(snapshot: Snapshot) -> dict[str, str]:
    """Every key under the `pbx` family, for a full rewrite on (re)connect."""
    state: dict[str, str] = {}
    for number in snapshot.numbers:
        if number.live:
            state.update(number_keys(number))
    for handset in snapshot.handsets:
        state.update(handset_keys(handset))
    for site in snapshot.sites:
        state.update(site_keys(site))  # R42: the voice portal's DID
    return state
