"""conversation: edits, replies, reactions, mentions and read positions

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs, no batch copy: SQLite keeps the message table's AUTOINCREMENT that way.
    op.add_column("message", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("message", sa.Column("reply_to_id", sa.Integer(), nullable=True))
    op.add_column("membership", sa.Column("last_read_id", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "reaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("guest_id", sa.Integer(), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guest.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id", "emoji", "guest_id", name="uq_reaction_message_emoji_guest"),
    )
    op.create_table(
        "mention",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("guest_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["guest_id"], ["guest.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "guest_id"),
    )
    op.create_index("ix_mention_guest_id", "mention", ["guest_id"])
    # Joining a room before this version meant having read it: nothing old counts as unread.
    op.execute(
        "UPDATE membership SET last_read_id = COALESCE("
        "(SELECT MAX(message.id) FROM message WHERE message.room_id = membership.room_id), 0)"
    )


def downgrade() -> None:
    op.drop_index("ix_mention_guest_id", table_name="mention")
    op.drop_table("mention")
    op.drop_table("reaction")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_column("last_read_id")
    op.drop_column("message", "reply_to_id")
    op.drop_column("message", "edited_at")
