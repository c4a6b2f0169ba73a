"""R15: a handset shows the label (display name, else the user's name, else its extension and
E.164 number) of the number logged in to it.

Two routes, both fed by the controller as it applies a change (see docs/architecture.md):
- the caller ID name the handset presents: the dialplan sets CALLERID(name) from the
  AstDB key num/<id>/label at call time, so nothing is pushed for it;
- the handset's screen: a SIP NOTIFY sent with AMI PJSIPNotify through the SIP edge
  (`URI=sip:<phone ID>@<edge>`: the edge relays it to the contact the phone registered,
  as it does a call; a node has no endpoint per handset),
  "Event: check-sync;reboot=false" (phones re-read their provisioned config,
  without rebooting) with a text/plain body "Label: <label>" for phones that show it
  directly. The label is percent-encoded (RFC 3986, UTF-8): AMI splits Variable values
  on commas and strips quotes, and the label is a person's text.
What a real phone does with it is vendor-specific; a phone that is not registered
simply misses the push and shows the label from its next provisioning.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from pbx.asterisk.ami import Ami, AmiError
from pbx.settings import Settings

log = logging.getLogger("pbx.handset_label")
EVENT = "check-sync;reboot=false"
_PHONE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def label_pushes(keys: dict[str, str]) -> dict[str, str]:
    """The AstDB keys a batch puts -> {phone ID: label to show} ("" clears the screen label)."""
    pushes: dict[str, str] = {}
    for key, value in keys.items():
        if key.startswith("handset/") and not value:  # logged out: nothing to show
            pushes[key.removeprefix("handset/")] = ""
    for key, phone_id in keys.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "num" and parts[2] == "handset" and phone_id:
            prefix = f"num/{parts[1]}"
            pushes[phone_id] = keys.get(f"{prefix}/label", "") or fallback_label(
                keys.get(f"{prefix}/ext", ""), keys.get(f"{prefix}/e164", "")
            )
    return pushes


def fallback_label(extension: str, e164: str) -> str:
    """R15: a number with no display name (and no user's name) is shown by its extension and
    E.164 number, never as a blank screen: "204 +442071234567"."""
    return " ".join(part for part in (extension, e164) if part)


def notify_variables(label: str) -> list[str]:
    return [f"Event={EVENT}", "Content-Type=text/plain", f"Content=Label: {quote(label, safe=' ')}"]


def notify_uri(phone_id: str, settings: Settings) -> str:
    """Where the NOTIFY goes: the phone, through the first edge (every edge knows every
    registration, docs/edge.md)."""
    if not _PHONE_ID.fullmatch(phone_id):
        raise ValueError(f"not a phone ID: {phone_id!r}")
    return f"sip:{phone_id}@{settings.edge_hosts[0]}:{settings.edge_sip_port}"


async def push_labels(ami: Ami, keys: dict[str, str], settings: Settings) -> int:
    """Send each handset of the batch its label; a phone that cannot be reached is no error here."""
    sent = 0
    for phone_id, label in sorted(label_pushes(keys).items()):
        try:
            await ami.action("PJSIPNotify", URI=notify_uri(phone_id, settings), Variable=notify_variables(label))
            sent += 1
        except (AmiError, ValueError) as error:
            log.info("label for %s not pushed now (%s)", phone_id, error)
    return sent
