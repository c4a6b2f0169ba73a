"""R42: the voice portal's DID in AstDB, so a portal number needs no dialplan line and no reload.

Keys (family "pbx"), written by the controller for every site:
  did/<E.164 digits, no '+'>  -> "p<site id>"   the portal of that site: dialplan/pbx.conf's
                                                 pbx-number sends n p<site> to pbx-portal (a
                                                 number id is digits only, so "p" cannot clash)
  site/<id>/portal            -> "did/<digits>" the DID key the site owns ("" none), so the
                                                 controller deletes it when the number changes

`stale_portal` (read before a batch is applied) and `delete_routes` (after) drop a portal DID
the site gave up; a full sync needs neither: it deletes every key the store no longer wants.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from pbx.asterisk.ami import Ami
from pbx.asterisk.routing import FAMILY, did_key
from pbx.asterisk.snapshot import SiteView

PORTAL_PREFIX = "p"


def portal_target(site_id: int) -> str:
    return f"{PORTAL_PREFIX}{int(site_id)}"


def site_keys(site: SiteView) -> dict[str, str]:
    """The site's portal keys: always its owned-key record, and the DID when it has a portal number."""
    keys = {f"site/{int(site.id)}/portal": ""}
    if site.portal_number:
        did = did_key(site.portal_number)
        keys[did] = portal_target(site.id)
        keys[f"site/{int(site.id)}/portal"] = did
    return keys


async def stale_portal(ami: Ami, site_ids: Iterable[int], keys: dict[str, str]) -> list[str]:
    """Before a batch is applied: the portal DID keys its sites owned that the batch drops (and
    that still name that site's portal)."""
    ids = sorted(set(site_ids))
    if not ids:
        return []
    owned = await asyncio.gather(*(ami.db_get(FAMILY, f"site/{i}/portal") for i in ids))
    candidates = [(key, portal_target(i)) for i, key in zip(ids, owned, strict=True) if key and key not in keys]
    values = await asyncio.gather(*(ami.db_get(FAMILY, key) for key, _ in candidates))
    return [key for (key, target), value in zip(candidates, values, strict=True) if value == target]
