"""private rooms: invitations, and image keys indexed for the media route's membership check

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["guest.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_invite_code", "invite", ["code"], unique=True)
    op.create_index("ix_invite_room_id", "invite", ["room_id"])
    op.create_index("ix_image_key", "image", ["key"])
    op.create_index("ix_image_thumbnail_key", "image", ["thumbnail_key"])


def downgrade() -> None:
    op.drop_index("ix_image_thumbnail_key", table_name="image")
    op.drop_index("ix_image_key", table_name="image")
    op.drop_index("ix_invite_room_id", table_name="invite")
    op.drop_index("ix_invite_code", table_name="invite")
    op.drop_table("invite")
