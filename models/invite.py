"""Invitations: links that let anyone holding them join a room, until they expire or are revoked."""

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ForeignKey, Integer
from sqlmodel import Column, Field, SQLModel

from models.base import UTCDateTime, utcnow
from models.guest import GuestPublic
from models.room import RoomState

INVITE_LIFETIME = timedelta(days=7)
INVITE_CODE_MAX = 64
# What secrets.token_urlsafe makes (URL-safe base64); anything else names no invitation, and must
# not reach the database (PostgreSQL refuses a NUL in a query).
INVITE_CODE_PATTERN = r"^[A-Za-z0-9_-]+$"
INVITE_CODE_BYTES = 16  # 128 random bits: 22 characters, beyond guessing
# Live links one guest may hold for one room: enough for any honest use, and a member with a script
# cannot fill the table. Revoked and expired links do not count.
LIVE_INVITES_PER_CREATOR = 100
INVITE_PAGE_DEFAULT = 50
INVITE_PAGE_MAX = 100


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Random and unguessable (secrets.token_urlsafe): holding the code is the permission.
    code: str = Field(max_length=INVITE_CODE_MAX, unique=True, index=True)
    room_id: int = Field(
        sa_column=Column(Integer, ForeignKey("room.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("guest.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class InvitePublic(BaseModel):
    code: str
    url: str  # the page that joins the visitor: /invite/<code>, absolute where the caller's host is known
    expires_at: datetime


class InviteListed(InvitePublic):
    """A live link as its room's owner sees it: who made it and when, so they know what to revoke."""

    created_at: datetime
    created_by: GuestPublic | None  # None once that guest is gone


class InviteAccepted(BaseModel):
    """What accepting did: the room, and whether the guest joined now (False: a member already)."""

    room: RoomState
    joined: bool
