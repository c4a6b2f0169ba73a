"""outbound call policy per occupier (R39): occupier.allowed_classes, national + mobile by default

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The server default gives every existing occupier national + mobile too.
    with op.batch_alter_table("occupier") as batch:
        batch.add_column(
            sa.Column("allowed_classes", sa.String(length=100), nullable=False, server_default="national,mobile")
        )


def downgrade() -> None:
    with op.batch_alter_table("occupier") as batch:
        batch.drop_column("allowed_classes")
