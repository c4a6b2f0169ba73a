"""R16-R19 on the phone: ask for the PIN, force a custom PIN at first use, announce a lock.

Asterisk's own password check has no lasting lockout, so every PIN is checked
here against the store (pbx.services.pins), which counts failures across calls.
"""
from __future__ import annotations

from pbx.asterisk.ari import store_ops
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store_ops import Store
from pbx.services.errors import RuleBroken
from pbx.services.pins import MAX_FAILED_ATTEMPTS, PinCheck

# Long enough that a 9-digit PIN reaches the policy (and is refused) instead of being cut.
MAX_KEYED = 16
NEW_PIN_TRIES = 3
ENTER_PIN = "sound:agent-pass"            # "Please enter your password followed by the pound key"
WRONG_PIN = "sound:vm-incorrect"
LOCKED = ("sound:vm-incorrect", "sound:sorry-youre-having-problems", "sound:vm-goodbye")
NEW_PIN = "sound:vm-newpassword"
AGAIN = "sound:vm-reenterpassword"
MISMATCH = "sound:vm-mismatch"
REFUSED_PIN = "sound:vm-invalid-password"
CHANGED = "sound:vm-passchanged"


async def unlock(call: Call, store: Store, phone_id: str, number_id: int) -> bool:
    """True once the number's PIN is proved (and a custom PIN chosen if it was still the default)."""
    for _ in range(MAX_FAILED_ATTEMPTS):
        pin = await call.read(ENTER_PIN, max_digits=MAX_KEYED)
        if not pin:
            continue  # nothing keyed is no attempt
        result = await store(store_ops.check_pin, phone_id, number_id, pin)
        if result is PinCheck.OK:
            return True
        if result is PinCheck.MUST_CHANGE:
            return await choose_custom_pin(call, store, phone_id, number_id)
        if result is PinCheck.LOCKED:
            await call.play(*LOCKED, interruptible=False)
            return False
        await call.play(WRONG_PIN)
    return False


async def choose_custom_pin(call: Call, store: Store, phone_id: str, number_id: int) -> bool:
    """R17, R19: the default PIN opened the box once; a custom PIN, keyed twice, replaces it now."""
    for _ in range(NEW_PIN_TRIES):
        first = await call.read(NEW_PIN, max_digits=MAX_KEYED)
        second = await call.read(AGAIN, max_digits=MAX_KEYED)
        if first != second:
            await call.play(MISMATCH)
            continue
        try:
            await store(store_ops.set_custom_pin, phone_id, number_id, first)
        except RuleBroken:
            await call.play(REFUSED_PIN)
            continue
        await call.play(CHANGED)
        return True
    return False
