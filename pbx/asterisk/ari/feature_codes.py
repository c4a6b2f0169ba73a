"""R34: feature codes keyed on a handset change its own number's features through pbx.services.

Same service, same rules, same audit as the web UI, so a change made on the phone
shows there and the other way round; a refused change is announced and nothing changes.
"""
from __future__ import annotations

from pbx.asterisk.ari import prompts, store_ops
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store_ops import Desk, Store
from pbx.services.errors import InvalidInput, PbxError
from pbx.services.feature_input import TARGET_KEYS

# FreePBX's codes: (feature key of pbx.services.feature_input, on?)
CODES: dict[str, tuple[str, bool]] = {
    "*72": ("forward_always", True), "*73": ("forward_always", False),
    "*90": ("forward_busy", True), "*91": ("forward_busy", False),
    "*52": ("forward_no_answer", True), "*53": ("forward_no_answer", False),
    "*78": ("dnd", True), "*79": ("dnd", False),
    "*70": ("call_waiting", True), "*71": ("call_waiting", False),
}
NAMES = {
    "forward_always": "call-fwd-unconditional", "forward_busy": "call-fwd-on-busy",
    "forward_no_answer": "call-fwd-no-ans", "dnd": "do-not-disturb", "call_waiting": "call-waiting",
}
TARGET_DIGITS = 16


def dialled_target(digits: str, country: str) -> str:
    """A forward target keyed on the phone as the services take it: an extension or E.164."""
    return store_ops.dialled_e164(digits, country) or digits


async def change(call: Call, store: Store, desk: Desk, code: str) -> None:
    key, on = CODES[code]
    name = prompts.sounds(NAMES[key])
    if key in TARGET_KEYS:
        value: str | bool = ""
        if on:
            digits = await call.read(*name, *prompts.ENTER_TARGET, max_digits=TARGET_DIGITS)
            if not digits:
                await call.play(*prompts.NOT_A_NUMBER)
                return
            value = dialled_target(digits, desk.country)
    else:
        value = on
    try:
        await store(store_ops.update_features, desk.phone_id, desk.number_id, {key: value})
    except InvalidInput:
        await call.play(*prompts.NOT_A_NUMBER, interruptible=False)
        return
    except PbxError:
        await call.play(*prompts.REFUSED, interruptible=False)
        return
    await call.play(*name, *(prompts.ACTIVATED if on else prompts.DEACTIVATED), interruptible=False)


async def handle(call: Call, store: Store) -> None:
    """Stasis(pbx,feature,<code>) from pbx-feature-codes."""
    code = call.args[0] if call.args else ""
    desk = await store(store_ops.find_desk, call.endpoint)
    await call.answer()
    if code not in CODES or desk is None or desk.number_id is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    await change(call, store, desk, code)
