"""Messages: text or an image (with an optional caption) posted to a room."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from models.base import ID_MAX, TrimmedInput, UTCDateTime, utcnow
from models.guest import GuestPublic
from models.image import ImagePublic

MESSAGE_TEXT_MAX = 4000
REPLY_QUOTE_MAX = 200  # characters of the original a reply quotes
EMOJI_MAX = 64  # characters: the longest emoji (ZWJ sequences, flags, skin tones) fits with room to spare
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
    edited_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The message this one answers, in the same room. No foreign key on purpose: originals are only
    # ever soft-deleted (the quote then says "deleted"), and a deleted room takes both with it; and
    # SQLite could only add one by copying the table, losing its AUTOINCREMENT.
    reply_to_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))

    # Every history query is "this room, ids before/after X": keyset paging walks this index.
    __table_args__ = (
        Index("ix_message_room_id_id", "room_id", "id"),
        Index("ix_message_author_id", "author_id"),
        # Without AUTOINCREMENT SQLite reuses the highest id after a delete; ids must only grow.
        {"sqlite_autoincrement": True},
    )


class Reaction(SQLModel, table=True):
    """One guest's reaction with one emoji to one message. The id orders emoji by first use."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(sa_column=Column(Integer, ForeignKey("message.id", ondelete="CASCADE"), nullable=False))
    guest_id: int = Field(sa_column=Column(Integer, ForeignKey("guest.id", ondelete="CASCADE"), nullable=False))
    emoji: str = Field(max_length=EMOJI_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    __table_args__ = (UniqueConstraint("message_id", "emoji", "guest_id", name="uq_reaction_message_emoji_guest"),)


class Mention(SQLModel, table=True):
    """A member of the message's room named in its text as @display name."""

    message_id: int = Field(sa_column=Column(Integer, ForeignKey("message.id", ondelete="CASCADE"), primary_key=True))
    guest_id: int = Field(sa_column=Column(Integer, ForeignKey("guest.id", ondelete="CASCADE"), primary_key=True))

    __table_args__ = (Index("ix_mention_guest_id", "guest_id"),)


class MessageCreate(TrimmedInput):
    text: str = Field(min_length=1, max_length=MESSAGE_TEXT_MAX)
    reply_to: int | None = Field(default=None, ge=1, le=ID_MAX, description="the id of a message in the same room")


class MessageEdit(TrimmedInput):
    # May be empty: an image's caption can be removed (a text message's cannot: the service says so).
    text: str = Field(max_length=MESSAGE_TEXT_MAX)


class ReplyQuote(BaseModel):
    """The message a reply answers, as the reply shows it."""

    model_config = ConfigDict(frozen=True)

    id: int
    author: GuestPublic
    kind: MessageKind
    text: str  # its first REPLY_QUOTE_MAX characters; "" once it is deleted
    deleted: bool = False


class ReactionPublic(BaseModel):
    model_config = ConfigDict(frozen=True)

    emoji: str
    count: int
    guest_ids: tuple[int, ...]  # in the order they reacted


class MessagePublic(BaseModel):
    model_config = ConfigDict(frozen=True)  # immutable and hashable: rendered rows are cached by value

    id: int
    room: str  # the room's slug
    author: GuestPublic
    kind: MessageKind
    text: str
    image: ImagePublic | None
    created_at: datetime
    # Conversation (CONTRACT §6). Tuples, not lists: the model stays hashable for the row cache.
    edited_at: datetime | None = None
    reply_to: ReplyQuote | None = None
    reactions: tuple[ReactionPublic, ...] = ()  # in the order each emoji was first used
    mentions: tuple[int, ...] = ()  # guest ids of the room's members it names


class MessagePage(BaseModel):
    messages: list[MessagePublic]  # oldest first
    has_more: bool


class MessageWindow(MessagePage):
    """A message with the messages around it (`?around=ID`), oldest first: `has_more` says older
    ones exist (as for any page), `has_newer` newer ones. Its own model rather than a field on
    every page, so that the pages walked with before/after keep their two keys."""

    has_newer: bool
