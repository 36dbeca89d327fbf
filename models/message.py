"""Messages: text or an image (with an optional caption) posted to a room."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, Index, Integer
from sqlmodel import Column, Field, SQLModel

from models.base import TrimmedInput, UTCDateTime, utcnow
from models.guest import GuestPublic
from models.image import ImagePublic

MESSAGE_TEXT_MAX = 4000
MessageKind = Literal["text", "image"]


class Message(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id", ondelete="CASCADE"), nullable=False))
    author_id: int = Field(sa_column=Column(Integer, ForeignKey("guest.id", ondelete="CASCADE"), nullable=False))
    kind: str = Field(max_length=10)
    text: str = Field(default="", max_length=MESSAGE_TEXT_MAX)
    image_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("image.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Deleted messages stay as rows (ids never come back) but are never shown or paged again.
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    # Every history query is "this room, ids before/after X": keyset paging walks this index.
    __table_args__ = (
        Index("ix_message_room_id_id", "room_id", "id"),
        Index("ix_message_author_id", "author_id"),
        # Without AUTOINCREMENT SQLite reuses the highest id after a delete; ids must only grow.
        {"sqlite_autoincrement": True},
    )


class MessageCreate(TrimmedInput):
    text: str = Field(min_length=1, max_length=MESSAGE_TEXT_MAX)


class MessagePublic(BaseModel):
    model_config = ConfigDict(frozen=True)  # immutable and hashable: rendered rows are cached by value

    id: int
    room: str  # the room's slug
    author: GuestPublic
    kind: MessageKind
    text: str
    image: ImagePublic | None
    created_at: datetime


class MessagePage(BaseModel):
    messages: list[MessagePublic]  # oldest first
    has_more: bool
