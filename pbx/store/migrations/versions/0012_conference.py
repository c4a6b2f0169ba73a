"""meet-me conferences (R44): one row per occupier with a bridge: its PIN hash, its number

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conference",
        sa.Column("occupier_id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("number_id", sa.Integer(), nullable=True),
        sa.Column("failed_pin_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("pin_locked", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.CheckConstraint("failed_pin_count >= 0", name="conference_failed_pin_count_not_negative"),
        sa.ForeignKeyConstraint(["occupier_id"], ["occupier.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["number_id"], ["phone_number.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("occupier_id"),
        sa.UniqueConstraint("number_id"),
    )


def downgrade() -> None:
    op.drop_table("conference")
