"""Voicemail access (*97, *98) and hot desk (*11, *12): prompts and digits; the rules are pbx.services.phone.

Once the PIN passes, voicemail is handed back to the dialplan (pbx-ari-voicemail,
extension n<id>), which runs VoiceMailMain(n<id>@pbx,s) without asking again:
the channel carries the mailbox in its extension, never in a variable set over
ARI (that would block the dialplan's later DB() reads).
"""

from __future__ import annotations

from pbx.asterisk.ari import pin_entry, prompts
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store import Store, caller
from pbx.services import phone
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, PbxError

VOICEMAIL_CONTEXT = "pbx-ari-voicemail"
NUMBER_DIGITS = 16
REACH = {"own": phone.Reach.OWN, "any": phone.Reach.OCCUPIER}


async def ask_number(call: Call, store: Store, actor: Actor, reach: phone.Reach) -> phone.Reachable | None:
    """An extension keyed on the phone; the full number when the extension is ambiguous."""
    digits = await call.read(*prompts.ENTER_EXTENSION, max_digits=NUMBER_DIGITS)
    found = await store(phone.find_numbers, actor, digits, reach)
    if len(found) > 1:
        digits = await call.read(*prompts.ENTER_FULL_NUMBER, max_digits=NUMBER_DIGITS)
        again = await store(phone.find_numbers, actor, digits, reach)
        found = [m for m in again if m in found]
    if len(found) != 1:
        await call.play(*prompts.NOT_A_NUMBER, interruptible=False)
        return None
    return found[0]


async def voicemail(call: Call, store: Store) -> None:
    """Stasis(pbx,voicemail,own|any): *97 opens the caller's own box, *98 asks which."""
    reach = REACH.get(call.args[0] if call.args else "")
    desk = await store(phone.find_desk, caller(call))
    await call.answer()
    if desk is None or reach is None or (reach is phone.Reach.OWN and desk.number_id is None):
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    if desk.number_id is not None and reach is phone.Reach.OWN:
        box = phone.Reachable(desk.number_id, desk.extension or "")
    else:
        found = await ask_number(call, store, desk.actor, reach)
        if found is None:
            return
        box = found
    proof = await pin_entry.unlock(call, store, desk.actor, box.number_id, reach)
    if proof is None:
        return
    mailbox = await store(phone.open_voicemail, desk.actor, proof)
    await call.continue_to(VOICEMAIL_CONTEXT, f"n{mailbox}")


async def log_in(call: Call, store: Store) -> None:
    """*11, R15: extension and PIN, then the number is logged in to this handset."""
    desk = await store(phone.find_desk, caller(call))
    await call.answer()
    if desk is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    holder = await store(phone.number_in_the_way, desk.actor)
    if holder is not None:
        # One number per handset: say so before asking for anything.
        await call.play(*prompts.in_use(holder), interruptible=False)
        return
    box = await ask_number(call, store, desk.actor, phone.Reach.SITE)
    if box is None:
        return
    proof = await pin_entry.unlock(call, store, desk.actor, box.number_id, phone.Reach.SITE)
    if proof is None:
        return
    try:
        await store(phone.log_in, desk.actor, proof)
    except Conflict:
        holder = await store(phone.number_in_the_way, desk.actor)
        await call.play(*prompts.in_use(holder or ""), interruptible=False)
        return
    except PbxError:
        await call.play(*prompts.REFUSED, interruptible=False)
        return
    await call.play(*prompts.LOGGED_IN, interruptible=False)


async def log_out(call: Call, store: Store) -> None:
    """*12: the number logged in to this handset is logged out (R15)."""
    await call.answer()
    try:
        desk = await store(phone.find_desk, caller(call))
        extension = await store(phone.log_out, desk.actor) if desk is not None else None
    except PbxError:
        extension = None
    if extension is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    await call.play(*prompts.LOGGED_OUT, interruptible=False)
