"""R41: a handset's message-waiting lamp follows the voicemail box of the number logged in to it.

The lamp is a SIP NOTIFY (RFC 3842: Event message-summary, a simple-message-summary
body) sent with AMI PJSIPNotify to `sip:<phone ID>@<edge>`: the edge relays it to the
contact the phone registered, as it does a call (nodes have no endpoint per handset).
Who sends it, and when:
- a box changes on a node (a message left, heard, deleted): Asterisk raises
  MessageWaiting there, and that node's agent (`MessageLamp`) asks the store which
  handset shows the box and NOTIFYs it with the box's counts (MailboxCount: the shared
  ODBC store in a cluster, the spool on one machine);
- a number is logged in to or out of a handset (hot desk): the controller, as it applies
  the change, NOTIFYs each handset whose number changed: the new number's state, or
  "no" for a handset left with none (`push_lamps`). Every node's agent applies every
  change, so in a cluster each NOTIFYs once: the same state, harmless;
- a handset SUBSCRIBEs: the edge grants it and a node's dialplan NOTIFYs the state at once
  (dialplan/pbx-lamp.conf builds the same body as `summary_lines`).
Only validated values reach the NOTIFY: a phone ID of a narrow alphabet (notify_uri),
numbers, and the edge's address from the settings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ami import Ami, AmiError
from pbx.asterisk.handset_label import notify_uri
from pbx.asterisk.reconnect import Backoff
from pbx.services.phone.lamp import handset_showing
from pbx.settings import Settings
from pbx.store.db import transaction

log = logging.getLogger("pbx.lamp")
EVENT = "message-summary"
CONTENT_TYPE = "application/simple-message-summary"
ACCESS_CODE = "*97"  # what the lamp's voicemail key dials: the caller's own box (R16)
BOX = re.compile(r"n([0-9]{1,18})@pbx")
NUMBER_ID = re.compile(r"[0-9]{1,18}")
RETRY_S, BACKOFF_MAX_S = 1.0, 5.0
CHECK_S = 1.0  # how soon a lost AMI connection is noticed


@dataclass(frozen=True)
class Counts:
    new: int = 0
    old: int = 0


def summary_lines(counts: Counts, edge_host: str) -> list[str]:
    """The simple-message-summary body, line by line (RFC 3842 section 5.2)."""
    return [
        f"Messages-Waiting: {'yes' if counts.new > 0 else 'no'}",
        f"Message-Account: sip:{ACCESS_CODE}@{edge_host}",
        f"Voice-Message: {counts.new}/{counts.old} (0/0)",
        "",
    ]


def notify_variables(counts: Counts, settings: Settings) -> list[str]:
    lines = summary_lines(counts, settings.edge_hosts[0])
    return [f"Event={EVENT}", f"Content-Type={CONTENT_TYPE}", *(f"Content={line}" for line in lines)]


def lamp_changes(before: Mapping[str, str | None], keys: Mapping[str, str]) -> dict[str, int | None]:
    """R41 hot desk: {phone ID: number id now logged in there, or None} for each handset whose
    number changes between what Asterisk held (`before`) and the keys put now. A label or
    feature change moves no lamp."""
    changed = {k: keys[k] for k, old in before.items() if k in keys and old != keys[k]}
    lamps: dict[str, int | None] = {}
    for key, value in changed.items():
        if key.startswith("handset/"):
            lamps[key.removeprefix("handset/")] = int(value) if NUMBER_ID.fullmatch(value) else None
    for key, value in changed.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "num" and parts[2] == "handset" and value and NUMBER_ID.fullmatch(parts[1]):
            lamps[value] = int(parts[1])
    return lamps


async def mailbox_counts(ami: Ami, number_id: int) -> Counts:
    resp = await ami.action("MailboxCount", Mailbox=f"n{number_id}@pbx")
    first = resp[0] if isinstance(resp, list) else resp

    def count(field: str) -> int:
        value = str(first.get(field, "0"))
        return int(value) if value.isdigit() else 0

    return Counts(count("NewMessages"), count("OldMessages"))


async def push_lamp(ami: Ami, phone_id: str, number_id: int | None, settings: Settings) -> bool:
    """NOTIFY one handset its lamp; a phone that cannot be reached now is no error here."""
    try:
        counts = await mailbox_counts(ami, number_id) if number_id is not None else Counts()
        await ami.action("PJSIPNotify", URI=notify_uri(phone_id, settings), Variable=notify_variables(counts, settings))
    except (AmiError, ValueError) as error:
        log.info("lamp of %s not sent now (%s)", phone_id, error)
        return False
    return True


async def push_lamps(ami: Ami, lamps: dict[str, int | None], settings: Settings) -> int:
    """R41 hot desk: each handset whose number changed shows the new number's box (or none)."""
    results = [await push_lamp(ami, phone, number_id, settings) for phone, number_id in sorted(lamps.items())]
    return sum(results)


class MessageLamp:
    """The agent's part that follows this node's MessageWaiting events (see the module)."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self.sent = 0
        self.listening = threading.Event()  # set once MessageWaiting is listened for (tests wait)
        self._boxes: asyncio.Queue[int] = asyncio.Queue()

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(RETRY_S, BACKOFF_MAX_S)
        while not stop.is_set():
            try:
                ami = await Ami.connect(self.settings)
            except AmiError as error:
                log.info("message lamp: Asterisk not reachable (%s)", error)
                await backoff.wait(stop)
                continue
            backoff.reset()
            ami.on_event("MessageWaiting", lambda _m, event: self._changed(str(event.get("Mailbox", ""))))
            self.listening.set()
            try:
                await self._serve(ami, stop)
            finally:
                self.listening.clear()
                await ami.close()

    def _changed(self, mailbox: str) -> None:
        match = BOX.fullmatch(mailbox)
        if match:
            self._boxes.put_nowait(int(match.group(1)))

    async def _serve(self, ami: Ami, stop: asyncio.Event) -> None:
        while not stop.is_set() and ami.connected:
            try:
                number_id = await asyncio.wait_for(self._boxes.get(), CHECK_S)
            except TimeoutError:
                continue
            phone_id = await asyncio.to_thread(self._handset_showing, number_id)
            if phone_id is not None and await push_lamp(ami, phone_id, number_id, self.settings):
                self.sent += 1

    def _handset_showing(self, number_id: int) -> str | None:
        with transaction(self.factory) as session:
            return handset_showing(session, number_id)
