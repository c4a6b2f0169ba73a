"""Every per-number feature (R20-R27), declared once.

This table drives everything a feature touches: the store's columns and CHECK
constraints, parsing of the CLI's `key=value`, the JSON API's bodies and the web
form, the features JSON, the snapshot, the AstDB keys the dialplan reads, the
details pop-up and the FreePBX-style feature codes. Adding a feature is one entry
here, its dialplan lines and its tests.

Pure declarations: no store, no Flask, no Asterisk.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

DEFAULT_NO_ANSWER_SECONDS = 18
NO_ANSWER_MIN_S, NO_ANSWER_MAX_S = 5, 120


class Kind(enum.Enum):
    FLAG = "flag"  # on/off; stored as a boolean
    TARGET = "target"  # where calls go: an extension of the occupier or an E.164 number; None is off
    SECONDS = "seconds"  # a whole number of seconds in a range
    EMAIL = "email"  # an e-mail address; None is off
    NUMBER = "number"  # another live number of the occupier at the site (stored as its id); None is off
    SECRET = "secret"  # digits kept only as an argon2 hash; shown as on/off, never read back


class Group(enum.Enum):
    """The features page's sections (R28), in the help page's order."""

    FORWARDING = "Call forwarding"
    VOICEMAIL = "Voicemail"
    CALLS = "Call settings"


@dataclass(frozen=True)
class Feature:
    key: str  # the name the CLI, the JSON API, the forms and the audit log use
    kind: Kind
    label: str  # what the person sees next to it
    help: str
    group: Group
    column: str  # the NumberFeatures column
    default: object = None
    astdb: str | None = None  # the key under pbx/num/<id>/ the dialplan reads; None: not in Asterisk
    main_value: object = None  # what the main number always has in AstDB (R5), when it differs
    operator_only: bool = False  # R22: only the operator sets it
    on_code: str | None = None  # R34: the feature code that turns it on (asks for a target)...
    off_code: str | None = None  # ...and the one that turns it off
    sound: str | None = None  # the prompt naming it after a feature code
    minimum: int | None = None
    maximum: int | None = None
    hidden_by: str | None = None  # R24: the flag that overrides it (the form hides it, with a note)
    name: str | None = None  # the feature in a message, when the label alone needs its section
    field_label: str | None = None  # the label of the value's own input, for a feature with a toggle
    part_of: str | None = None  # shown inside that feature's row (the form, the details pop-up)

    @property
    def title(self) -> str:
        """How messages name the feature: the words of the page, with the section when needed."""
        return self.name or self.label

    @property
    def toggled(self) -> bool:
        """A value that is off when empty (None): the form shows a toggle and the value's own input."""
        return self.kind in (Kind.TARGET, Kind.EMAIL, Kind.NUMBER, Kind.SECRET)

    @property
    def in_form(self) -> bool:
        """The features page shows it; an operator-only feature is set by the operator's CLI or API."""
        return not self.operator_only


@dataclass(frozen=True)
class Exclusion:
    """Features that cannot be on together: refused at save time and by a CHECK in the store."""

    rule: str
    name: str  # the CHECK constraint's name
    first: str
    others: tuple[str, ...]
    message: str


FEATURES: tuple[Feature, ...] = (
    Feature(
        "forward_always",
        Kind.TARGET,
        "Always",
        "Forward all calls.",
        Group.FORWARDING,
        column="forward_always",
        astdb="fwd_always",
        on_code="*72",
        off_code="*73",
        sound="call-fwd-unconditional",
        name="Forward always",
        field_label="Forward to",
    ),
    Feature(
        "forward_busy",
        Kind.TARGET,
        "Busy",
        "When the line is on another call. Cannot be used with Call waiting: a call either waits or is forwarded.",
        Group.FORWARDING,
        column="forward_busy",
        astdb="fwd_busy",
        on_code="*90",
        off_code="*91",
        sound="call-fwd-on-busy",
        name="Forward on busy",
        field_label="Forward to",
    ),
    Feature(
        "forward_no_answer",
        Kind.TARGET,
        "No answer",
        "When the call is not answered in time (three rings are about 18 seconds).",
        Group.FORWARDING,
        column="forward_no_answer",
        astdb="fwd_noanswer",
        on_code="*52",
        off_code="*53",
        sound="call-fwd-no-ans",
        name="Forward on no answer",
        field_label="Forward to",
    ),
    Feature(
        "no_answer_seconds",
        Kind.SECONDS,
        "After (seconds)",
        "How long the handset rings first.",
        Group.FORWARDING,
        column="no_answer_seconds",
        default=DEFAULT_NO_ANSWER_SECONDS,
        astdb="ring",
        minimum=NO_ANSWER_MIN_S,
        maximum=NO_ANSWER_MAX_S,
        name="No answer after (seconds)",
        part_of="forward_no_answer",
    ),
    Feature(
        "voicemail",
        Kind.FLAG,
        "Voicemail",
        "Callers can leave a message.",
        Group.VOICEMAIL,
        column="voicemail",
        default=True,
        astdb="vm",
        main_value=False,
    ),
    Feature(
        "voicemail_email",
        Kind.EMAIL,
        "Voicemail to email",
        "Each message is sent with its audio attached.",
        Group.VOICEMAIL,
        column="voicemail_email",
        field_label="Email address",
    ),
    Feature(
        "hide_caller_id",
        Kind.FLAG,
        "Hide caller ID",
        "Your number is hidden on outgoing calls. This overrides CLI.",
        Group.CALLS,
        column="hide_caller_id",
        default=False,
        astdb="hide",
    ),
    Feature(
        "call_waiting",
        Kind.FLAG,
        "Call waiting",
        "A second call while you are on a call is signalled. Cannot be used with Forward on busy.",
        Group.CALLS,
        column="call_waiting",
        default=True,
        astdb="cw",
        on_code="*70",
        off_code="*71",
        sound="call-waiting",
    ),
    Feature(
        "dnd",
        Kind.FLAG,
        "Do Not Disturb",
        "Every call goes to voicemail; if voicemail is off, callers hear an engaged tone.",
        Group.CALLS,
        column="dnd",
        default=False,
        astdb="dnd",
        on_code="*78",
        off_code="*79",
        sound="do-not-disturb",
    ),
    Feature(
        "cli",
        Kind.NUMBER,
        "CLI",
        "The number shown as caller ID on outgoing calls.",
        Group.CALLS,
        column="cli_number_id",
        astdb="cli",
        hidden_by="hide_caller_id",
        field_label="Number to be displayed",
    ),
    Feature(
        "authorization_code",
        Kind.SECRET,
        "Authorization code",
        "Outgoing external calls need this code (set by your operator).",
        Group.CALLS,
        column="authorization_code_hash",
        astdb="authcode",
        operator_only=True,
    ),
)

BY_KEY: dict[str, Feature] = {f.key: f for f in FEATURES}

EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(
        "R21",
        "r21_busy_forward_or_waiting",
        "forward_busy",
        ("call_waiting",),
        "Forward on busy and call waiting exclude each other: when the line is busy, calls either wait "
        "or are forwarded. Turn one of them off.",
    ),
    Exclusion(
        "R22",
        "r22_no_forwarding_with_authorization_code",
        "authorization_code",
        ("forward_always", "forward_busy", "forward_no_answer"),
        "Call forwarding is disabled for a number with an authorization code",
    ),
)


# The number's one-read key `num/<id>/call` (dialplan pbx-number, the fast path): these keys, in this
# order, joined by commas. Features' AstDB keys mixed with the number's own (main_dest, handset).
CALL_FIELDS = ("main_dest", "fwd_always", "dnd", "handset", "ring", "cw")


def feature(key: str) -> Feature:
    return BY_KEY[key]


def excluded_with(key: str) -> tuple[str, ...]:
    """The features that cannot be on together with this one, by the rules of EXCLUSIONS."""
    peers: list[str] = []
    for exclusion in EXCLUSIONS:
        if key == exclusion.first:
            peers += exclusion.others
        elif key in exclusion.others:
            peers.append(exclusion.first)
    return tuple(dict.fromkeys(peers))


def of_kind(*kinds: Kind) -> tuple[Feature, ...]:
    return tuple(f for f in FEATURES if f.kind in kinds)


def feature_codes() -> dict[str, tuple[Feature, bool]]:
    """R34: `*72` -> (forward always, on), `*73` -> (forward always, off), ..."""
    codes: dict[str, tuple[Feature, bool]] = {}
    for f in FEATURES:
        if f.on_code:
            codes[f.on_code] = (f, True)
        if f.off_code:
            codes[f.off_code] = (f, False)
    return codes


# The features some code needs by name: the loop check follows unconditional forwards (R20), the
# voicemail mailer sends to the address (R23), outgoing calls ask for the code (R22).
FORWARD_ALWAYS = BY_KEY["forward_always"]
VOICEMAIL_EMAIL = BY_KEY["voicemail_email"]
AUTHORIZATION_CODE = BY_KEY["authorization_code"]
DND = BY_KEY["dnd"]  # the voice portal toggles it (R42)
