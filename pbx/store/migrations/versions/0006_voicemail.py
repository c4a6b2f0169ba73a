"""shared voicemail: messages in PostgreSQL (app_voicemail ODBC), realtime mailboxes, mail jobs

Revision ID: 0006
Revises: 0005

voicemail_mail_job (both databases): one row per voicemail message to mail, keyed by its
msg_id, so each message is mailed once across nodes (claimed with FOR UPDATE SKIP LOCKED on
PostgreSQL, a conditional UPDATE on SQLite).
PostgreSQL only: voicemessages, the table app_voicemail_odbc stores every message in (audio
included), laid out as Asterisk's own contrib/ast-db-manage voicemail_messages; and the view
pbx_voicemail_users, the realtime mailboxes: one per personal number (live, not a main
number), named n<id> in context pbx with the fixed password '-', as voicemail_pbx.conf was.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MAILBOX_VIEW = """
CREATE VIEW pbx_voicemail_users AS
SELECT n.id AS uniqueid,
       CAST('pbx' AS varchar(80)) AS context,
       CAST('n' || n.id AS varchar(80)) AS mailbox,
       CAST('-' AS varchar(80)) AS password
FROM phone_number n JOIN occupier o ON o.id = n.occupier_id
WHERE n.status <> 'reserved' AND o.voice_services_active AND NOT n.is_main
"""


def upgrade() -> None:
    op.create_table(
        "voicemail_mail_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(length=64), nullable=False),
        sa.Column("number_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("done_at", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("msg_id", name="uq_voicemail_mail_job_msg_id"),
    )
    op.create_index("ix_voicemail_mail_job_due", "voicemail_mail_job", ["done_at", "next_at"])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "voicemessages",
        sa.Column("dir", sa.String(length=255), nullable=False),
        sa.Column("msgnum", sa.Integer(), nullable=False),
        sa.Column("context", sa.String(length=80)),
        sa.Column("macrocontext", sa.String(length=80)),
        sa.Column("callerid", sa.String(length=80)),
        sa.Column("origtime", sa.Integer()),
        sa.Column("duration", sa.Integer()),
        sa.Column("recording", sa.LargeBinary()),
        sa.Column("flag", sa.String(length=30)),
        sa.Column("category", sa.String(length=30)),
        sa.Column("mailboxuser", sa.String(length=30)),
        sa.Column("mailboxcontext", sa.String(length=30)),
        sa.Column("msg_id", sa.String(length=40)),
        sa.PrimaryKeyConstraint("dir", "msgnum"),
    )
    op.create_index("ix_voicemessages_msg_id", "voicemessages", ["msg_id"])
    op.execute(MAILBOX_VIEW)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP VIEW pbx_voicemail_users")
        op.drop_index("ix_voicemessages_msg_id", table_name="voicemessages")
        op.drop_table("voicemessages")
    op.drop_index("ix_voicemail_mail_job_due", table_name="voicemail_mail_job")
    op.drop_table("voicemail_mail_job")
