"""Which DID or extension is which number: AstDB keys, so a new number needs no reload.

Keys (family "pbx"), written by the controller for every live number:
  did/<E.164 digits, no '+'>     -> number id     (pbx-from-trunk, pbx-e164, pbx-dial)
  ext/<occupier id>/<extension>  -> number id     (pbx-dial: extensions are per occupier)
  num/<id>/dial                  -> "<occupier id>,<site country, lower case>": what a call
                                    placed or forwarded by the number can dial (pbx-dial)
  num/<id>/routes                -> "did/<digits> ext/<occ>/<ext>": the routing keys the
                                    number owns, so the controller can delete them when the
                                    number stops being live or changes its DID or extension

did/ and ext/ are outside num/<id>/, so deleting the number's tree does not delete them:
`stale_routes` (read before a batch is applied) and `delete_routes` (after) do. A full
sync needs neither: it deletes every key the store no longer wants.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pbx.asterisk.ami import Ami
from pbx.asterisk.snapshot import NumberView

FAMILY = "pbx"


def did_key(e164: str) -> str:
    return f"did/{e164.removeprefix('+')}"


def ext_key(occupier_id: int, extension: str) -> str:
    return f"ext/{int(occupier_id)}/{extension}"


def number_routes(number: NumberView) -> dict[str, str]:
    """The routing keys of one live number (and its num/<id>/dial and num/<id>/routes)."""
    owned = [did_key(number.e164)]
    if number.extension:
        owned.append(ext_key(number.occupier_id, number.extension))
    keys = {key: str(number.id) for key in owned}
    keys[f"num/{number.id}/dial"] = f"{int(number.occupier_id)},{number.country.lower()}"
    keys[f"num/{number.id}/routes"] = " ".join(owned)
    return keys


async def stale_routes(ami: Ami, number_ids: Iterable[int], keys: dict[str, str]) -> list[str]:
    """Before a batch is applied: the routing keys its numbers own now that the batch drops.

    A key is stale when the number owned it (num/<id>/routes in AstDB), the batch does not
    put it again (the number's new routes, or another number taking it over in the same
    batch), and it still names this number."""
    ids = sorted(set(number_ids))
    if not ids:
        return []
    owned = await asyncio.gather(*(ami.db_get(FAMILY, f"num/{i}/routes") for i in ids))
    candidates = [
        (key, str(number_id))
        for number_id, routes in zip(ids, owned, strict=True)
        for key in (routes or "").split()
        if key not in keys
    ]
    if not candidates:
        return []
    values = await asyncio.gather(*(ami.db_get(FAMILY, key) for key, _ in candidates))
    return [key for (key, number_id), value in zip(candidates, values, strict=True) if value == number_id]


async def delete_routes(ami: Ami, stale: list[str]) -> None:
    """After the batch's keys are put: delete the routing keys `stale_routes` found."""
    await asyncio.gather(*(ami.db_del(FAMILY, key) for key in stale))
