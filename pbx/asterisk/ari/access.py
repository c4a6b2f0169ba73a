"""Voicemail access (*97, *98) and hot desk (*11, *12): what a PIN opens (R16).

Once the PIN passes, voicemail is handed back to the dialplan (pbx-ari-voicemail,
extension n<id>), which runs VoiceMailMain(n<id>@pbx,s) without asking again:
the channel carries the mailbox in its extension, never in a variable set over
ARI (that would block the dialplan's later DB() reads).
"""
from __future__ import annotations

from pbx.asterisk.ari import pin_entry, prompts, store_ops
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store_ops import Desk, Mailbox, Store
from pbx.services.errors import Conflict, PbxError

VOICEMAIL_CONTEXT = "pbx-ari-voicemail"
NUMBER_DIGITS = 16


async def ask_number(call: Call, store: Store, desk: Desk, own_occupier: bool) -> Mailbox | None:
    """An extension keyed on the phone; the full number when the extension is ambiguous."""
    digits = await call.read(*prompts.ENTER_EXTENSION, max_digits=NUMBER_DIGITS)
    found = await store(store_ops.find_numbers, desk, digits, own_occupier)
    if len(found) > 1:
        digits = await call.read(*prompts.ENTER_FULL_NUMBER, max_digits=NUMBER_DIGITS)
        again = await store(store_ops.find_numbers, desk, digits, own_occupier)
        found = [m for m in again if m in found]
    if len(found) != 1:
        await call.play(*prompts.NOT_A_NUMBER, interruptible=False)
        return None
    return found[0]


async def voicemail(call: Call, store: Store) -> None:
    """Stasis(pbx,voicemail,own|any): *97 opens the caller's own box, *98 asks which."""
    which = call.args[0] if call.args else ""
    desk = await store(store_ops.find_desk, call.endpoint)
    await call.answer()
    if desk is None or which not in ("own", "any") or (which == "own" and desk.number_id is None):
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    if which == "own":
        box = Mailbox(desk.number_id, desk.extension or "")
    else:
        box = await ask_number(call, store, desk, own_occupier=True)
        if box is None:
            return
    if not await pin_entry.unlock(call, store, desk.phone_id, box.number_id):
        return
    await store(store_ops.audit, desk.phone_id, "voicemail.open", box.number_id)
    await call.continue_to(VOICEMAIL_CONTEXT, f"n{box.number_id}")


async def log_in(call: Call, store: Store) -> None:
    """*11, R15: extension and PIN, then the number is logged in to this handset."""
    desk = await store(store_ops.find_desk, call.endpoint)
    await call.answer()
    if desk is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    holder = await store(store_ops.holder_extension, desk.phone_id)
    if holder is not None:
        # One number per handset: say so before asking for anything.
        await call.play(*prompts.in_use(holder), interruptible=False)
        return
    box = await ask_number(call, store, desk, own_occupier=False)
    if box is None or not await pin_entry.unlock(call, store, desk.phone_id, box.number_id):
        return
    try:
        await store(store_ops.log_in, desk.phone_id, box.number_id)
    except Conflict:
        holder = await store(store_ops.holder_extension, desk.phone_id)
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
        extension = await store(store_ops.log_out, call.endpoint)
    except PbxError:
        extension = None
    if extension is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    await call.play(*prompts.LOGGED_OUT, interruptible=False)
