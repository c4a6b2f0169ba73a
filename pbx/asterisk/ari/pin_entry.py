"""R16-R19 on the phone: ask for the PIN, force a custom PIN at first use, announce a lock.

Asterisk's own password check has no lasting lockout, so every PIN is checked by
pbx.services.phone against the store, which counts failures across calls. What a PIN
opens needs the proof the service hands back; this module only asks and says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store import Store
from pbx.services import phone
from pbx.services.actor import Actor
from pbx.services.errors import RuleBroken
from pbx.services.pins import MAX_FAILED_ATTEMPTS, PinCheck

# Long enough that a 9-digit PIN reaches the policy (and is refused) instead of being cut.
MAX_KEYED = 16
NEW_PIN_TRIES = 3
ENTER_PIN = "sound:agent-pass"  # "Please enter your password followed by the pound key"
WRONG_PIN = "sound:vm-incorrect"
LOCKED = ("sound:vm-incorrect", "sound:sorry-youre-having-problems", "sound:vm-goodbye")
NEW_PIN = "sound:vm-newpassword"
AGAIN = "sound:vm-reenterpassword"
MISMATCH = "sound:vm-mismatch"
REFUSED_PIN = "sound:vm-invalid-password"
CHANGED = "sound:vm-passchanged"


async def unlock(call: Call, store: Store, actor: Actor, number_id: int, reach: phone.Reach) -> phone.PinProof | None:
    """The proof once the number's PIN is keyed right (and a custom PIN chosen if it was still the default)."""
    return await unlock_by(call, store, actor, lambda pin: store(phone.check_pin, actor, number_id, pin, reach))


async def unlock_by(
    call: Call, store: Store, actor: Actor, check: Callable[[str], Awaitable[phone.PinResult]]
) -> phone.PinProof | None:
    """`unlock` with the service that checks the keyed PIN given (a handset's reach, or the voice portal)."""
    for _ in range(MAX_FAILED_ATTEMPTS):
        pin = await call.read(ENTER_PIN, max_digits=MAX_KEYED)
        if not pin:
            continue  # nothing keyed is no attempt
        result = await check(pin)
        if result.check is PinCheck.OK:
            return result.proof
        if result.check is PinCheck.MUST_CHANGE and result.proof is not None:
            return await choose_custom_pin(call, store, actor, result.proof)
        if result.check is PinCheck.LOCKED:
            await call.play(*LOCKED, interruptible=False)
            return None
        await call.play(WRONG_PIN)
    return None


async def choose_custom_pin(call: Call, store: Store, actor: Actor, proof: phone.PinProof) -> phone.PinProof | None:
    """R17, R19: the default PIN opened the box once; a custom PIN, keyed twice, replaces it now."""
    for _ in range(NEW_PIN_TRIES):
        first = await call.read(NEW_PIN, max_digits=MAX_KEYED)
        second = await call.read(AGAIN, max_digits=MAX_KEYED)
        if first != second:
            await call.play(MISMATCH)
            continue
        try:
            renewed = await store(phone.set_custom_pin, actor, proof, first)
        except RuleBroken:
            await call.play(REFUSED_PIN)
            continue
        await call.play(CHANGED)
        return renewed
    return None
