"""R34: feature codes keyed on a handset: prompts and digits; the change is pbx.services.phone's.

The codes and their names come from pbx.feature_table; the change goes through the
web UI's own service, so it shows there and the other way round; a refused change is
announced with the rule that refused it (reasons.py) and nothing changes.
"""

from __future__ import annotations

from pbx.asterisk.ari import prompts
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.reasons import refusal
from pbx.asterisk.ari.store import Store, caller
from pbx.feature_table import Kind, feature_codes
from pbx.services import phone
from pbx.services.errors import InvalidInput, PbxError

TARGET_DIGITS = 16


async def handle(call: Call, store: Store) -> None:
    """Stasis(pbx,feature,<code>) from pbx-feature-codes."""
    code = call.args[0] if call.args else ""
    codes = feature_codes()
    desk = await store(phone.find_desk, caller(call))
    await call.answer()
    if code not in codes or desk is None or desk.number_id is None:
        await call.play(*prompts.NO_NUMBER_HERE, interruptible=False)
        return
    feature, on = codes[code]
    name = prompts.sounds(*filter(None, [feature.sound]))
    keyed = ""
    if feature.kind is Kind.TARGET and on:
        keyed = await call.read(*name, *prompts.ENTER_TARGET, max_digits=TARGET_DIGITS)
    try:
        await store(phone.change_feature, desk.actor, code, keyed)
    except InvalidInput:
        await call.play(*prompts.NOT_A_NUMBER, interruptible=False)
        return
    except PbxError as error:
        await call.play(*refusal(error, feature), interruptible=False)  # says which rule refused it
        return
    await call.play(*name, *(prompts.ACTIVATED if on else prompts.DEACTIVATED), interruptible=False)
