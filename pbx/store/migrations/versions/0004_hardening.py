"""hardening: authorization code lockout (R40), sign-in failures kept in the store

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("phone_number") as batch_op:
        batch_op.add_column(sa.Column("failed_code_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("code_locked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_check_constraint("failed_code_count_not_negative", "failed_code_count >= 0")
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_failure_key_at", "sign_in_failure", ["key", "at"])
    op.create_index("ix_sign_in_failure_at", "sign_in_failure", ["at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failure_at", table_name="sign_in_failure")
    op.drop_index("ix_sign_in_failure_key_at", table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
    with op.batch_alter_table("phone_number") as batch_op:
        batch_op.drop_constraint("failed_code_count_not_negative", type_="check")
        batch_op.drop_column("code_locked")
        batch_op.drop_column("failed_code_count")
