"""voice portal (R42): site.portal_number, an E.164 number per site, unique

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("portal_number", sa.String(length=16), nullable=True))
        batch.create_unique_constraint("uq_site_portal_number", ["portal_number"])


def downgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.drop_constraint("uq_site_portal_number", type_="unique")
        batch.drop_column("portal_number")
