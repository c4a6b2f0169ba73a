"""The number store: the single source of truth that Asterisk's state is rebuilt from.

The rules that can live in the schema do (one number per handset, one number per
user, unique E.164 number, unique extension per occupier), so no code path can
break them, whatever it forgets to check.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pbx.feature_table import FEATURES, Kind
from pbx.store import feature_columns


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Role(str, enum.Enum):
    OPERATOR_ADMIN = "operator_admin"
    OCCUPIER_ADMIN = "occupier_admin"
    USER = "user"


class NumberStatus(str, enum.Enum):
    RESERVED = "reserved"
    ACTIVE = "active"
    PENDING = "pending"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Store the lower-case values ("active"), which is what the JSON and the CLI speak.
    return Enum(
        cls,
        name=name,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        native_enum=False,
        length=20,
    )


class Operator(Base):
    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)

    sites: Mapped[list[Site]] = relationship(back_populates="operator")
    occupiers: Mapped[list[Occupier]] = relationship(back_populates="operator")


occupier_site = Table(
    "occupier_site",
    Base.metadata,
    Column("occupier_id", ForeignKey("occupier.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)


class Site(Base):
    __tablename__ = "site"
    __table_args__ = (
        UniqueConstraint("operator_id", "name"),
        UniqueConstraint("portal_number", name="uq_site_portal_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    name: Mapped[str] = mapped_column(String(100))
    # ISO 3166 region: how national numbers dialled at this site become E.164.
    country: Mapped[str] = mapped_column(String(2), default="GB")
    # Emergency numbers besides 112/999/911 that always go out (R22).
    local_emergency: Mapped[str] = mapped_column(String(40), default="")
    # R42: the voice portal's number (E.164), anyone calls it; None: no portal number.
    portal_number: Mapped[str | None] = mapped_column(String(16), default=None)

    operator: Mapped[Operator] = relationship(back_populates="sites")
    occupiers: Mapped[list[Occupier]] = relationship(secondary=occupier_site, back_populates="sites")
    numbers: Mapped[list[PhoneNumber]] = relationship(back_populates="site")
    handsets: Mapped[list[Handset]] = relationship(back_populates="site")
    hours: Mapped[SiteHours | None] = relationship(uselist=False, cascade="all, delete-orphan")  # R35


class Occupier(Base):
    __tablename__ = "occupier"
    __table_args__ = (UniqueConstraint("operator_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    name: Mapped[str] = mapped_column(String(100))
    voice_services_active: Mapped[bool] = mapped_column(Boolean, default=False)
    # R39: the classes of destination its calls and forwards may reach (pbx.services.call_policy).
    allowed_classes: Mapped[str] = mapped_column(
        String(100), default="national,mobile", server_default="national,mobile"
    )
    # R36: how many voice services (live numbers) the occupier has bought (pbx.services.licences).
    voice_licences: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    operator: Mapped[Operator] = relationship(back_populates="occupiers")
    sites: Mapped[list[Site]] = relationship(secondary=occupier_site, back_populates="occupiers", order_by="Site.name")
    users: Mapped[list[User]] = relationship(back_populates="occupier")
    numbers: Mapped[list[PhoneNumber]] = relationship(back_populates="occupier")


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        # Operator admins belong to the operator; everyone else to an occupier.
        CheckConstraint("(role = 'operator_admin') = (occupier_id IS NULL)", name="role_matches_occupier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id"))
    occupier_id: Mapped[int | None] = mapped_column(ForeignKey("occupier.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))

    operator: Mapped[Operator] = relationship()
    occupier: Mapped[Occupier | None] = relationship(back_populates="users")
    number: Mapped[PhoneNumber | None] = relationship(back_populates="user", uselist=False)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PhoneNumber(Base):
    __tablename__ = "phone_number"
    __table_args__ = (
        UniqueConstraint("occupier_id", "extension", name="uq_extension_per_occupier"),
        CheckConstraint("failed_pin_count >= 0", name="failed_pin_count_not_negative"),
        CheckConstraint("failed_code_count >= 0", name="failed_code_count_not_negative"),
        # R5: one main number per occupier at each site.
        Index(
            "uq_main_number_per_occupier_site",
            "occupier_id",
            "site_id",
            unique=True,
            sqlite_where=text("is_main"),
            postgresql_where=text("is_main"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    extension: Mapped[str] = mapped_column(String(8))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    occupier_id: Mapped[int] = mapped_column(ForeignKey("occupier.id"), index=True)
    status: Mapped[NumberStatus] = mapped_column(_enum(NumberStatus, "number_status"), default=NumberStatus.RESERVED)
    is_main: Mapped[bool] = mapped_column(Boolean, default=False)
    # What the main number rings (R32): an extension of the occupier or an E.164 number.
    main_destination: Mapped[str | None] = mapped_column(String(16))
    default_pin: Mapped[str] = mapped_column(String(8))
    custom_pin_hash: Mapped[str | None] = mapped_column(String(200))
    failed_pin_count: Mapped[int] = mapped_column(Integer, default=0)
    pin_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # R40: wrong authorization codes in a row, and the lock they lead to (the code's hash is a feature).
    failed_code_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    code_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # One number per user: the unique constraint is the rule.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)
    label_first: Mapped[str] = mapped_column(String(40), default="")
    label_second: Mapped[str] = mapped_column(String(40), default="")
    # Why the last change could not be applied to Asterisk, for the UI to show.
    last_error: Mapped[str | None] = mapped_column(Text)

    site: Mapped[Site] = relationship(back_populates="numbers")
    occupier: Mapped[Occupier] = relationship(back_populates="numbers")
    user: Mapped[User | None] = relationship(back_populates="number")
    handset: Mapped[Handset | None] = relationship(back_populates="number", uselist=False)
    features: Mapped[NumberFeatures] = relationship(
        back_populates="number", uselist=False, cascade="all, delete-orphan", foreign_keys="NumberFeatures.number_id"
    )
    # R35: a main number's hunt group, out-of-hours destination and greeting (None: it rings main_destination).
    handling: Mapped[MainNumberHandling | None] = relationship(
        uselist=False, cascade="all, delete-orphan", foreign_keys="MainNumberHandling.number_id"
    )
    # R44: set when this number is its occupier's conference number (calls to it join the bridge).
    conference: Mapped[Conference | None] = relationship(back_populates="number", uselist=False)

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.label_first, self.label_second) if p)


class Handset(Base):
    __tablename__ = "handset"
    # Phone IDs are unique whatever their case: people type what the handset's screen shows.
    __table_args__ = (Index("uq_handset_phone_id_nocase", func.lower(text("phone_id")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Phone ID on the handset's screen; also its SIP user name and endpoint name.
    phone_id: Mapped[str] = mapped_column(String(40), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    sip_password: Mapped[str] = mapped_column(String(64))
    # One number per handset, one handset per number: both come from this unique key.
    number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_number.id"), unique=True)

    site: Mapped[Site] = relationship(back_populates="handsets")
    number: Mapped[PhoneNumber | None] = relationship(back_populates="handset")

    @property
    def sip_username(self) -> str:
        return self.phone_id


class NumberFeatures(Base):
    """R20-R27: the per-number features, each read by the dialplan at call time.

    One column per feature of pbx.feature_table, added below the class.
    """

    __tablename__ = "number_features"
    __table_args__ = feature_columns.check_constraints()

    number_id: Mapped[int] = mapped_column(ForeignKey("phone_number.id", ondelete="CASCADE"), primary_key=True)

    number: Mapped[PhoneNumber] = relationship(back_populates="features", foreign_keys=[number_id])


for _feature in FEATURES:
    setattr(NumberFeatures, _feature.column, feature_columns.column(_feature))
    if _feature.kind is Kind.NUMBER:
        setattr(
            NumberFeatures,
            feature_columns.related(_feature),
            relationship(PhoneNumber, foreign_keys=[getattr(NumberFeatures, _feature.column)]),
        )


class Conference(Base):
    """R44: an occupier's meet-me bridge: its PIN (argon2 hash, set by the occupier admin)
    and the number the operator assigned for calls from outside (one of the occupier's
    own, so a DID can be the conference's and nobody else's: the unique constraint)."""

    __tablename__ = "conference"
    __table_args__ = (CheckConstraint("failed_pin_count >= 0", name="conference_failed_pin_count_not_negative"),)

    occupier_id: Mapped[int] = mapped_column(ForeignKey("occupier.id", ondelete="CASCADE"), primary_key=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_number.id", ondelete="SET NULL"), unique=True)
    # Wrong PINs in a row (R18's style): the third locks the bridge until the admin sets a PIN again.
    failed_pin_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pin_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    number: Mapped[PhoneNumber | None] = relationship(back_populates="conference")


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Who acted, in words that survive the user's deletion ("system", "handset desk-1", an email).
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    occupier_id: Mapped[int | None] = mapped_column(ForeignKey("occupier.id", ondelete="SET NULL"), index=True)
    number_id: Mapped[int | None] = mapped_column(ForeignKey("phone_number.id", ondelete="SET NULL"), index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON


class WebSession(Base):
    """A signed-in browser session; only the token's hash is kept, so the table opens no door."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    started: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    seen: Mapped[float] = mapped_column(Float)


class SignInFailure(Base):
    """A failed sign-in, counted per address, per account and per pair across processes (webui.ratelimit).

    `key` is a hash ("address:<ip>", "account:<e-mail>", ...): e-mails people mistype, or
    passwords typed into the e-mail field, are not kept readable.
    """

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


class OutboxKind(str, enum.Enum):
    NUMBER = "number"  # a number's live state (AstDB): features, login, labels
    HANDSET = "handset"  # a handset's live state (which number is logged in)
    STRUCTURE = "structure"  # rendered files changed: numbers, handsets or mailboxes added/removed
    SITE = "site"  # a site's live state (its voice portal number, R42)


class OutboxEntry(Base):
    """One row of the change log: written with the store change, applied by every node's agent.

    The log is a broadcast: each node's agent (pbx.asterisk.controller) reads the rows after its
    own cursor (Node) and applies them. An agent re-reads the subject from the store rather than
    trusting a payload, so applying a row twice, or an old row after a newer one, is harmless.

    Order: on PostgreSQL a row's position is (txid, id), txid being the writer's transaction id
    (`pg_current_xact_id()`, a server default, so every writer sets it without code), and agents
    read only rows below `pg_snapshot_xmin(pg_current_snapshot())`: every transaction there has
    ended, so no row can still appear behind a cursor (ids are taken before commit, so `id` alone
    would skip a late commit). On SQLite (one writer at a time, ids allocated inside the write lock)
    commit order is id order and the position is (0, id); txid stays NULL.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # PostgreSQL: pg_current_xact_id() as a bigint (migration 0003); SQLite: NULL.
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[OutboxKind] = mapped_column(_enum(OutboxKind, "outbox_kind"))
    subject_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_outbox_txid_id", "txid", "id"),)


class NodeState(str, enum.Enum):
    SYNCING = "syncing"  # a full sync is running
    CATCHING_UP = "catching_up"  # replaying the log from its cursor: given no calls yet
    IN_SERVICE = "in_service"  # at the head of the log: given calls, counted for Active
    DOWN = "down"  # its agent stopped, or lost Asterisk


class Node(Base):
    """An Asterisk node as its agent sees it: its cursor in the change log, and its health.

    cursor (cursor_txid, cursor_id): every row at or before it has been applied to this
    node's Asterisk (committed after applying: a crash re-applies, never skips).
    """

    __tablename__ = "node"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_id: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[NodeState] = mapped_column(_enum(NodeState, "node_state"), default=NodeState.SYNCING)
    # Written into the node's AstDB by its last full sync: the same token there means the
    # Asterisk still holds what the cursor says (a wiped or new Asterisk has none).
    sync_token: Mapped[str | None] = mapped_column(String(64))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str | None] = mapped_column(String(200))  # a long sync's last step, for `pbx up`
    refused: Mapped[str] = mapped_column(Text, default="{}")  # JSON: number id -> why this node has it not live


class VoicemailMailJob(Base):
    """One voicemail message to mail (R23), keyed by its msg_id: mailed once across nodes.

    Any node's mailer inserts it when it sees the message (a unique msg_id: the first
    insert wins); a worker claims it (next_at moved a lease ahead, attempts + 1), sends,
    and sets done_at. `node` is the node that found it: on SQLite only that node has
    the audio (its own spool); on PostgreSQL the audio is in voicemessages, any node sends.
    """

    __tablename__ = "voicemail_mail_job"
    __table_args__ = (Index("ix_voicemail_mail_job_due", "done_at", "next_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    msg_id: Mapped[str] = mapped_column(String(64), unique=True)
    number_id: Mapped[int] = mapped_column(Integer)
    node: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[float] = mapped_column(Float)
    next_at: Mapped[float] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    done_at: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(20))  # sent, no-address, gone
    last_error: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A per-user API token for scripts (pbx.services.api_tokens): only its SHA-256 is kept.

    `prefix` (the token's first characters, unique) finds the row; the hash proves it.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(10), default="write")  # read | write
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Event(Base):
    """R45: one change as subscribers see it, written in the change's own transaction.

    Ordered like the change log (store.OutboxEntry): (txid, id) on PostgreSQL, read only below
    the oldest running transaction; (0, id) on SQLite.
    """

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_txid_id", "txid", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(60))
    occupier_id: Mapped[int | None] = mapped_column(Integer, index=True)
    number_id: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text, default="{}")  # JSON


class Webhook(Base):
    """A subscriber URL: an occupier admin's (its occupier's events) or the operator's (all: occupier_id NULL).

    The secret signs each body (HMAC-SHA256), so it is kept as it is, not hashed.
    (cursor_txid, cursor_id): the last event fanned out to this webhook's deliveries.
    """

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    occupier_id: Mapped[int | None] = mapped_column(ForeignKey("occupier.id", ondelete="CASCADE"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cursor_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    cursor_id: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookDelivery(Base):
    """One event to POST to one webhook; `ordering_key` (the number) keeps a number's events in order."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "webhook_id", "delivered_at", "ordering_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"))
    ordering_key: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class SiteHours(Base):
    """R35: a site's business hours, which its main numbers follow (pbx.services.business_hours).

    weekly: JSON {"mon": [["09:00", "17:00"], ...], ...}, the end minute excluded;
    closed_days: JSON ["2026-12-25", ...]. Rendered into AstDB (pbx.asterisk.main_number_keys)
    and evaluated by the dialplan at call time, in the site's time zone.
    """

    __tablename__ = "site_hours"

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[str] = mapped_column(Text, default="{}")
    closed_days: Mapped[str] = mapped_column(Text, default="[]")


class MainNumberHandling(Base):
    """R35: how a main number handles a call (pbx.services.main_number_handling).

    members: JSON [[number id, ring seconds], ...] in hunt order; strategy "ring_all" or
    "in_order"; out_of_hours "voicemail" or the extension / E.164 number calls go to when
    the site is closed or nobody answers; greeting: the first 12 hex digits of the
    greeting's SHA-256 ("" none), naming its sound file on every node.
    """

    __tablename__ = "main_number_handling"

    number_id: Mapped[int] = mapped_column(ForeignKey("phone_number.id", ondelete="CASCADE"), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(10), default="ring_all")
    members: Mapped[str] = mapped_column(Text, default="[]")
    out_of_hours: Mapped[str] = mapped_column(String(16), default="voicemail")
    greeting: Mapped[str] = mapped_column(String(12), default="")


class MainGreeting(Base):
    """R35: a main number's greeting, converted once (sox) and kept here so every node's agent
    can write the same sound file (pbx.asterisk.greeting_files): 8 kHz and 16 kHz mono WAV."""

    __tablename__ = "main_greeting"

    number_id: Mapped[int] = mapped_column(ForeignKey("phone_number.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(12))
    audio_8k: Mapped[bytes] = mapped_column(LargeBinary)
    audio_16k: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
