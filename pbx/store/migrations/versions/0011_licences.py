"""voice services bought per occupier (R36): occupier.voice_licences

Every existing occupier gets exactly what it uses now (its activated numbers and its
main numbers), so nothing that works stops working, and the next activation needs the
operator to set how many were bought.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("occupier") as batch:
        batch.add_column(sa.Column("voice_licences", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE occupier SET voice_licences = (SELECT count(*) FROM phone_number"
        " WHERE phone_number.occupier_id = occupier.id"
        " AND (phone_number.status != 'reserved' OR phone_number.is_main))"
    )


def downgrade() -> None:
    with op.batch_alter_table("occupier") as batch:
        batch.drop_column("voice_licences")
