"""R34: a refused feature code says which rule refused it, not only "not available".

Asterisk has no speech synthesis here, so a reason is a sequence of the core sounds
(en) that exist in the chroot, chosen by the rule the service gave (`RuleBroken.rule`)
and the feature keyed. What is said, word for word (docs/architecture.md keeps the list):
- R21: "I'm sorry. Call waiting is set to activated. Call forward on busy: feature not
  available on this line." (or the other way round for *70 with busy forwarding on);
- R22: "I'm sorry. Password is set to activated. Call forward ...: feature not available
  on this line." (the authorization code is "password": there is no sound for it);
- R20 (a forwarding loop), R39 (the call policy refuses the target): "I'm sorry. Call
  forwarding. The call cannot be completed as dialed.";
- R2, R5, R6 (the number cannot be changed from here): "I'm sorry. This line has no service";
- anything else: "I'm sorry. Feature not available on this line."
"""

from __future__ import annotations

from pbx.asterisk.ari.prompts import REFUSED, sounds
from pbx.feature_table import BY_KEY, EXCLUSIONS, Feature
from pbx.services.errors import PbxError, RuleBroken

# Features with no sound of their own (no feature code), said by the nearest word there is.
_SAID_AS = {"authorization_code": "vm-password"}
NO_SERVICE_RULES = frozenset({"R2", "R5", "R6"})
TARGET_RULES = frozenset({"R20", "R39"})


def said(feature: Feature) -> str | None:
    return _SAID_AS.get(feature.key) or feature.sound


def in_the_way(rule: str, keyed: Feature) -> Feature | None:
    """The feature that is on and excludes the one keyed, by the rule's entry in EXCLUSIONS."""
    for exclusion in EXCLUSIONS:
        if exclusion.rule != rule:
            continue
        if keyed.key == exclusion.first and exclusion.others:
            return BY_KEY[exclusion.others[0]]
        if keyed.key in exclusion.others:
            return BY_KEY[exclusion.first]
    return None


def refusal(error: PbxError, keyed: Feature) -> tuple[str, ...]:
    """The sounds that say why changing `keyed` was refused (see the module)."""
    if not isinstance(error, RuleBroken):
        return REFUSED
    if error.rule in NO_SERVICE_RULES:
        return sounds("im-sorry", "ss-noservice")
    if error.rule in TARGET_RULES:
        return sounds("im-sorry", "call-forwarding", "cannot-complete-as-dialed")
    other = in_the_way(error.rule, keyed)
    other_word, keyed_word = (said(other) if other else None), said(keyed)
    if other_word is None or keyed_word is None:
        return REFUSED
    return sounds("im-sorry", other_word, "is-set-to", "activated", keyed_word, "feature-not-avail-line")
