"""R42: the voice portal on a call: prompts, digits and the menu; the rules are pbx.services.phone.portal.

Stasis(pbx,portal,<phone ID or "">,<site id | here>) from dialplan/pbx-ari.conf. The caller
keys a number (or, from a handset, an extension of its own occupier) and its PIN, then a
menu key: 1 voicemail, 2 forward always on (a target, then #) / off, 3 Do Not Disturb on/off,
4 the unavailable greeting, 5 a new PIN. A refused change is announced by its rule
(`REASONS`) and nothing changes; the menu comes back after each change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pbx.asterisk.ari import pin_entry, prompts
from pbx.asterisk.ari.access import VOICEMAIL_CONTEXT
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store import Store
from pbx.feature_table import DND, FORWARD_ALWAYS
from pbx.services import phone
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput, PbxError, RuleBroken
from pbx.services.phone import portal

GREETING_CONTEXT = "pbx-ari-greeting"
NUMBER_DIGITS = 16
NUMBER_TRIES = 3
MENU_ROUNDS = 10  # then goodbye: nobody spends longer here
ENTER_NUMBER = prompts.ENTER_TARGET  # "telephone number ... followed by the pound key"
MENU = prompts.sounds(
    *("vm-press", "digits/1", "for", "vm-messages"),
    *("vm-press", "digits/2", "for", "call-fwd-unconditional"),
    *("vm-press", "digits/3", "for", "do-not-disturb"),
    *("vm-press", "digits/4", "for", "vm-rec-unv"),
    *("vm-press", "digits/5", "for", "vm-newpassword"),
)
# The spoken reason of each rule a portal change can break (Asterisk core sounds, en).
REASONS: dict[str, tuple[str, ...]] = {
    "R2": prompts.sounds("im-sorry", "feature-not-avail-line"),
    "R5": prompts.sounds("im-sorry", "feature-not-avail-line"),
    "R6": prompts.sounds("im-sorry", "feature-not-avail-line"),
    "R18": pin_entry.LOCKED,
    "R19": (pin_entry.REFUSED_PIN,),
    "R20": prompts.sounds("im-sorry", "call-fwd-unconditional", "pbx-invalid"),
    "R21": prompts.sounds("im-sorry", "call-waiting", "enabled"),
    "R22": prompts.sounds("im-sorry", "call-forwarding", "disabled"),
    "R39": prompts.sounds("im-sorry", "cannot-complete-as-dialed"),
}


def reason(error: PbxError) -> tuple[str, ...]:
    """What the caller hears for a refusal: its rule's reason, else a plain 'not available'."""
    if isinstance(error, RuleBroken):
        return REASONS.get(error.rule, prompts.REFUSED)
    if isinstance(error, InvalidInput):
        return prompts.NOT_A_NUMBER
    return prompts.REFUSED


async def handle(call: Call, store: Store) -> None:
    """Stasis(pbx,portal,<phone>,<site>): sign in with a number and its PIN, then the menu."""
    site = call.args[0] if call.args else ""
    found = await store(portal.find_portal, site, call.endpoint)
    await call.answer()
    if found is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    proof = await sign_in(call, store, found)
    if proof is not None:
        await menu(call, store, found.actor, proof)


async def sign_in(call: Call, store: Store, found: portal.Portal) -> phone.PinProof | None:
    """A number this portal reaches (a few tries), then its PIN (R16-R18; the default forces a custom PIN)."""
    number_id = None
    for _ in range(NUMBER_TRIES):
        digits = await call.read(*ENTER_NUMBER, max_digits=NUMBER_DIGITS)
        number_id = await store(portal.find_number, found, digits)
        if number_id is not None:
            break
        await call.play(*prompts.NOT_A_NUMBER)
    if number_id is None:
        await call.play(*prompts.GOODBYE, interruptible=False)
        return None
    chosen: int = number_id
    return await pin_entry.unlock_by(call, store, found.actor, lambda pin: store(portal.check_pin, found, chosen, pin))


async def menu(call: Call, store: Store, actor: Actor, proof: phone.PinProof) -> None:
    for _ in range(MENU_ROUNDS):
        choice = await call.choose(*MENU)
        if choice is None:
            break
        if choice == "1":
            mailbox = await store(phone.open_voicemail, actor, proof)
            await call.continue_to(VOICEMAIL_CONTEXT, f"n{mailbox}")
            return
        if choice == "2":
            await forward_always(call, store, actor, proof)
        elif choice == "3":
            now = await store(portal.state, actor, proof)
            await change(call, store, DND.sound, not now.dnd, portal.set_dnd, actor, proof, not now.dnd)
        elif choice == "4":
            way, mailbox = await store(portal.record_greeting, actor, proof)
            record = way is portal.GreetingWay.RECORD
            await call.continue_to(GREETING_CONTEXT if record else VOICEMAIL_CONTEXT, f"n{mailbox}")
            return
        elif choice == "5":
            renewed = await pin_entry.choose_custom_pin(call, store, actor, proof)
            proof = renewed or proof
        else:
            await call.play(*prompts.NOT_A_NUMBER)
    await call.play(*prompts.GOODBYE, interruptible=False)


async def forward_always(call: Call, store: Store, actor: Actor, proof: phone.PinProof) -> None:
    """R20: on with a target keyed then '#', or off when it was on."""
    now = await store(portal.state, actor, proof)
    name = FORWARD_ALWAYS.sound
    if now.forward_always:
        await change(call, store, name, False, portal.set_forward_always, actor, proof, None)
        return
    keyed = await call.read(*prompts.sounds(name or ""), *prompts.ENTER_TARGET, max_digits=NUMBER_DIGITS)
    await change(call, store, name, True, portal.set_forward_always, actor, proof, keyed)


async def change(call: Call, store: Store, sound: str | None, on: bool, fn: Callable[..., Any], *args: Any) -> None:
    """One change through the services: announced done, or refused with its reason (nothing changed)."""
    try:
        await store(fn, *args)
    except PbxError as error:
        await call.play(*reason(error), interruptible=False)
        return
    name = prompts.sounds(sound) if sound else ()
    await call.play(*name, *(prompts.ACTIVATED if on else prompts.DEACTIVATED), interruptible=False)
