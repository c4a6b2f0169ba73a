"""R34: a feature code keyed on a handset changes its own number's features (FreePBX's codes).

The codes come from pbx.feature_table; the change goes through the web UI's own service
(pbx.services.features.update_features): same rules, audit and outbox.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.feature_table import Kind, feature_codes
from pbx.services import features
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput, NotFound
from pbx.services.phone.desk import dialled_target, handset_of, own_number


def change_feature(session: Session, actor: Actor, code: str, keyed: str = "") -> None:
    """`code` on the number logged in to this handset; `keyed`: the target a forward-on code asks for."""
    codes = feature_codes()
    if code not in codes:
        raise InvalidInput("feature_code", f"{code} is not a feature code")
    feature, on = codes[code]
    handset = handset_of(session, actor)
    number = own_number(handset)
    if number is None or actor.number_id != number.id:
        raise NotFound("No number is logged in to this handset")
    value: str | bool = on
    if feature.kind is Kind.TARGET:
        if on and not keyed.isdigit():
            raise InvalidInput(feature.key, "key the number to forward to")
        value = dialled_target(keyed, handset.site.country) if on else ""
    features.update_features(session, actor, number.id, {feature.key: value})
