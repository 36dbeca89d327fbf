"""Invitations: links that let anyone holding them join a room, until they expire or are revoked."""

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ForeignKey, Integer
from sqlmodel import Column, Field, SQLModel

from models.base import UTCDateTime, utcnow

INVITE_LIFETIME = timedelta(days=7)
INVITE_CODE_MAX = 64


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
