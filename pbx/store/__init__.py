"""The number store: models, sessions and migrations."""

from pbx.store.db import make_engine, make_session_factory, transaction
from pbx.store.models import (
    AuditEntry,
    Base,
    Conference,
    Handset,
    Node,
    NodeState,
    NumberFeatures,
    NumberStatus,
    Occupier,
    Operator,
    OutboxEntry,
    OutboxKind,
    PhoneNumber,
    Role,
    Site,
    User,
)

__all__ = [
    "AuditEntry",
    "Base",
    "Conference",
    "Handset",
    "Node",
    "NodeState",
    "NumberFeatures",
    "NumberStatus",
    "Occupier",
    "Operator",
    "OutboxEntry",
    "OutboxKind",
    "PhoneNumber",
    "Role",
    "Site",
    "User",
    "make_engine",
    "make_session_factory",
    "transaction",
]
