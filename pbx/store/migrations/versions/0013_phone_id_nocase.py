"""phone IDs unique regardless of case (issue 12): a unique index on lower(phone_id)

A handset's Phone ID is typed by people reading a screen; "Desk-1" and "desk-1" are one handset.
Both dialects take the same expression index. A store that already holds two Phone IDs differing
only in case is refused here: rename one (pbx handset commands) and upgrade again.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_handset_phone_id_nocase", "handset", [sa.text("lower(phone_id)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_handset_phone_id_nocase", table_name="handset")
