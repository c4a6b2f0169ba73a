"""the SIP edge's credential view

Revision ID: 0005
Revises: 0004

Kamailio's auth_db reads handset credentials from this view (pbx/edge/credentials.py):
a view, not a copy, so a handset added to the store registers at once. The same SQL
works on SQLite and PostgreSQL.
"""
from alembic import op

from pbx.edge.credentials import CREATE_VIEW, DROP_VIEW

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(CREATE_VIEW)


def downgrade() -> None:
    op.execute(DROP_VIEW)
