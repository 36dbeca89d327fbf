"""Rooms and who belongs to them."""

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ForeignKey, Index, Integer
from sqlmodel import Column, Field, SQLModel

from models.base import TrimmedInput, UTCDateTime, utcnow

ROOM_NAME_MAX = 64
ROOM_DESCRIPTION_MAX = 500
ROOM_SLUG_MAX = 80
ROOM_PAGE_DEFAULT = 50  # rooms per page of the room list (GET /rooms, the page `/`)
ROOM_PAGE_MAX = 100


class Room(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=ROOM_SLUG_MAX, unique=True, index=True)
    name: str = Field(max_length=ROOM_NAME_MAX)
    # casefold() of the name: the unique index makes "Lobby" and "LOBBY" one room, in every database.
    name_key: str = Field(max_length=ROOM_NAME_MAX * 3, unique=True)
    description: str = Field(default="", max_length=ROOM_DESCRIPTION_MAX)
    is_private: bool = Field(default=False)
    owner_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("guest.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_message_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Set while the room is read-only: everyone can read, nobody can post.
    locked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    locked_by: str | None = Field(default=None, max_length=80)  # "admin" or "guest:<id>": an owner cannot undo an admin
    # max(created_at, last_message_at), kept so the room list is one indexed sort.
    last_activity_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class Membership(SQLModel, table=True):
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id", ondelete="CASCADE"), primary_key=True))
    guest_id: int = Field(sa_column=Column(Integer, ForeignKey("guest.id", ondelete="CASCADE"), primary_key=True))
    joined_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The newest message id the guest has read here: what is after it is unread.
    last_read_id: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))

    __table_args__ = (Index("ix_membership_guest_id", "guest_id"),)


class RoomRemoval(SQLModel, table=True):
    """A guest removed from a room by its owner or an admin: they can read it, not post or join."""

    __tablename__ = "room_removal"
    room_id: int = Field(sa_column=Column(Integer, ForeignKey("room.id", ondelete="CASCADE"), primary_key=True))
    guest_id: int = Field(sa_column=Column(Integer, ForeignKey("guest.id", ondelete="CASCADE"), primary_key=True))
    removed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    removed_by: str = Field(max_length=80)  # "admin" or "guest:<id>": an owner cannot undo an admin


class RoomCreate(TrimmedInput):
    name: str = Field(min_length=1, max_length=ROOM_NAME_MAX)
    description: str = Field(default="", max_length=ROOM_DESCRIPTION_MAX)
    # A private room is seen only by its members (CONTRACT §7); others join by an invitation link.
    is_private: bool = False


class RoomUpdate(TrimmedInput):
    """What a moderator may change about a room; fields left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=ROOM_NAME_MAX)
    description: str | None = Field(default=None, max_length=ROOM_DESCRIPTION_MAX)


class RoomPublic(BaseModel):
    id: int
    slug: str
    name: str
    description: str
    is_private: bool
    created_at: datetime
    member_count: int
    last_message_at: datetime | None
    # Messages after the caller's last read one in a room they belong to; None for anyone else.
    unread: int | None = None


class RoomState(RoomPublic):
    """A room with what its pages need besides the API's shape (which the contract fixes)."""

    # Defaults, so that events from an instance that predates these fields still validate.
    owner_id: int | None = None  # the guest who created it, who moderates it
    locked: bool = False  # read-only: set by the owner or an admin


class RoomPage(BaseModel):
    """One page of the room list, most recent activity first, and the cursor of the next page
    (None on the last one). The cursor is opaque to callers: pass it back as `before`."""

    rooms: list[RoomState]
    next_cursor: str | None
