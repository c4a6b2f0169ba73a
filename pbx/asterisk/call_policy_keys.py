"""R39: the AstDB key of an occupier's outbound call policy, read by [pbx-outbound].

  occ/<occupier id>/allow -> the classes its calls and forwards may reach, "national,mobile"
                             ("" none: only emergency calls and our own numbers)

Written with each of the occupier's live numbers (a policy change queues them all,
pbx.services.call_policy), so it needs no outbox kind of its own.
"""

from __future__ import annotations

from pbx.asterisk.snapshot import NumberView


def call_policy_keys(number: NumberView) -> dict[str, str]:
    return {f"occ/{int(number.occupier_id)}/allow": number.allowed_classes}
