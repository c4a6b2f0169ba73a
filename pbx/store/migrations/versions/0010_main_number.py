"""the main number's call handling (R35): site_hours, main_number_handling, main_greeting

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# R35: a main number's out-of-hours destination can be its own mailbox, so main numbers have
# a box too (the realtime view of 0006, without "AND NOT n.is_main"; PostgreSQL only).
MAILBOX_VIEW = """
CREATE OR REPLACE VIEW pbx_voicemail_users AS
SELECT n.id AS uniqueid,
       CAST('pbx' AS varchar(80)) AS context,
       CAST('n' || n.id AS varchar(80)) AS mailbox,
       CAST('-' AS varchar(80)) AS password
FROM phone_number n JOIN occupier o ON o.id = n.occupier_id
WHERE n.status <> 'reserved' AND o.voice_services_active{extra}
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MAILBOX_VIEW.format(extra=""))
    op.create_table(
        "site_hours",
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekly", sa.Text(), nullable=False),
        sa.Column("closed_days", sa.Text(), nullable=False),
    )
    op.create_table(
        "main_number_handling",
        sa.Column(
            "number_id", sa.Integer(), sa.ForeignKey("phone_number.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("strategy", sa.String(length=10), nullable=False),
        sa.Column("members", sa.Text(), nullable=False),
        sa.Column("out_of_hours", sa.String(length=16), nullable=False),
        sa.Column("greeting", sa.String(length=12), nullable=False),
    )
    op.create_table(
        "main_greeting",
        sa.Column(
            "number_id", sa.Integer(), sa.ForeignKey("phone_number.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("digest", sa.String(length=12), nullable=False),
        sa.Column("audio_8k", sa.LargeBinary(), nullable=False),
        sa.Column("audio_16k", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MAILBOX_VIEW.format(extra=" AND NOT n.is_main"))
    op.drop_table("main_greeting")
    op.drop_table("main_number_handling")
    op.drop_table("site_hours")
