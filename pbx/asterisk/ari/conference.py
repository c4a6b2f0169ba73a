"""R44: into the occupier's meet-me bridge after its PIN; the rules are pbx.services.phone's.

Stasis(pbx,conference,<phone ID>) from *88 (the caller's own occupier's bridge), or
Stasis(pbx,conference,,<number id>) from pbx-conference (a call to a conference number,
from anywhere). Once the PIN passes, the call continues at pbx-conference-room with the
bridge's name as the extension, where ConfBridge takes it: the PIN never reaches Asterisk.
"""

from __future__ import annotations

from pbx.asterisk.ari import prompts
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store import Store, caller
from pbx.services import phone
from pbx.services.actor import Actor
from pbx.services.attempts import MAX_FAILED_ATTEMPTS

ROOM_CONTEXT = "pbx-conference-room"
PIN_DIGITS = 16
ENTER_PIN = prompts.sounds("conf-getpin")
WRONG_PIN = prompts.sounds("conf-invalidpin")
LOCKED = prompts.sounds("conf-locked", "vm-goodbye")
NO_CONFERENCE = prompts.sounds("feature-not-avail-line")


async def handle(call: Call, store: Store) -> None:
    number = call.args[0] if call.args else ""
    if call.endpoint:
        actor = caller(call)
        occupier_id = await store(phone.conference_of_handset, actor)
    elif number.isdigit():
        actor = Actor.system(f"caller to conference number {int(number)}")
        occupier_id = await store(phone.conference_of_number, actor, int(number))
    else:
        occupier_id = None
    await call.answer()
    if occupier_id is None:
        await call.play(*NO_CONFERENCE, interruptible=False)
        return
    for _ in range(MAX_FAILED_ATTEMPTS):
        pin = await call.read(*ENTER_PIN, max_digits=PIN_DIGITS)
        if not pin:
            continue  # nothing keyed is no attempt
        entry, room = await store(phone.enter_conference, actor, occupier_id, pin)
        if entry is phone.Entry.OK:
            await call.continue_to(ROOM_CONTEXT, room)
            return
        if entry is phone.Entry.LOCKED:
            await call.play(*LOCKED, interruptible=False)
            return
        await call.play(*WRONG_PIN, interruptible=False)
    await call.play(*prompts.GOODBYE, interruptible=False)
