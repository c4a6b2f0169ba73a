"""the outbox becomes the change log: per-node cursors, an order safe against late commits

Revision ID: 0003
Revises: 0002

outbox: + txid (PostgreSQL: the writer's transaction id, server default
pg_current_xact_id() as bigint; SQLite: NULL, the id is the order), + index (txid, id),
+ index created_at; - applied_at, attempts, last_error (applied-ness is per node now).
node: one row per Asterisk node's agent, with its cursor.
PostgreSQL: a statement trigger NOTIFYs "pbx_changelog" on insert (delivered at commit),
which only wakes the agents up.
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TXID_DEFAULT = "(pg_current_xact_id()::text::bigint)"
NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION pbx_changelog_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('pbx_changelog', '');
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_applied_at")
        batch_op.drop_column("applied_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("last_error")
        batch_op.add_column(sa.Column("txid", sa.BigInteger(), nullable=True,
                                      server_default=sa.text(TXID_DEFAULT) if postgres else None))
        batch_op.create_index("ix_outbox_txid_id", ["txid", "id"], unique=False)
        batch_op.create_index("ix_outbox_created_at", ["created_at"], unique=False)
    op.create_table(
        "node",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("cursor_txid", sa.BigInteger(), nullable=False),
        sa.Column("cursor_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Enum("syncing", "catching_up", "in_service", "down", name="node_state",
                                   native_enum=False, length=20), nullable=False),
        sa.Column("sync_token", sa.String(length=64), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("progress", sa.String(length=200), nullable=True),
        sa.Column("refused", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    if postgres:
        op.execute(NOTIFY_FUNCTION)
        op.execute("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
                   "FOR EACH STATEMENT EXECUTE FUNCTION pbx_changelog_notify()")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS pbx_changelog_notify()")
    op.drop_table("node")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_created_at")
        batch_op.drop_index("ix_outbox_txid_id")
        batch_op.drop_column("txid")
        batch_op.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.create_index("ix_outbox_applied_at", ["applied_at"], unique=False)
