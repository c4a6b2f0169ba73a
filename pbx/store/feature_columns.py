"""NumberFeatures' columns and CHECK constraints, made from pbx.feature_table.

Names, types and nullability are those of migration 0001, so existing databases and
Alembic's comparison see no change.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import MappedColumn, mapped_column

from pbx.feature_table import BY_KEY, EXCLUSIONS, FEATURES, Feature, Kind

_STRING_LENGTHS = {Kind.TARGET: 16, Kind.EMAIL: 254, Kind.SECRET: 200}


def column(f: Feature) -> MappedColumn:
    """A flag or a number of seconds always has a value; the other kinds are NULL when off."""
    if f.kind is Kind.FLAG:
        return mapped_column(Boolean, nullable=False, default=f.default)
    if f.kind is Kind.SECONDS:
        return mapped_column(Integer, nullable=False, default=f.default)
    if f.kind is Kind.NUMBER:
        # Deleting the chosen number falls back to the number's own.
        return mapped_column(Integer, ForeignKey("phone_number.id", ondelete="SET NULL"), nullable=True)
    return mapped_column(String(_STRING_LENGTHS[f.kind]), nullable=True)


def related(f: Feature) -> str:
    """The relationship to the number a NUMBER feature stores the id of (cli_number_id -> cli_number)."""
    return f.column.removesuffix("_id")


def _on(f: Feature) -> str:
    return f.column if f.kind is Kind.FLAG else f"{f.column} IS NOT NULL"


def _exclusion_sql(first: Feature, others: list[Feature]) -> str:
    either = " OR ".join(_on(o) for o in others)
    return f"NOT ({_on(first)} AND {either if len(others) == 1 else f'({either})'})"


def check_constraints() -> tuple[CheckConstraint, ...]:
    """R21 and R22 hold even against a buggy writer; every number of seconds stays in its range."""
    checks = [
        CheckConstraint(_exclusion_sql(BY_KEY[e.first], [BY_KEY[o] for o in e.others]), name=e.name) for e in EXCLUSIONS
    ]
    checks += [
        CheckConstraint(f"{f.column} BETWEEN {f.minimum} AND {f.maximum}", name=f"{f.column}_range")
        for f in FEATURES
        if f.minimum is not None and f.maximum is not None
    ]
    return tuple(checks)
