"""Guests: visitors with a generated name and a bearer token, no sign-up."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Column, Field, SQLModel

from models.base import TrimmedInput, UTCDateTime, utcnow

DISPLAY_NAME_MAX = 32


class Guest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(max_length=DISPLAY_NAME_MAX)
    # Only a hash of the token is kept: a leaked database does not leak identities.
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    banned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class GuestCreate(TrimmedInput):
    # None: a generated name like "Guest 4821"
    display_name: str | None = Field(default=None, min_length=1, max_length=DISPLAY_NAME_MAX)


class GuestUpdate(TrimmedInput):
    display_name: str = Field(min_length=1, max_length=DISPLAY_NAME_MAX)


class GuestPublic(BaseModel):
    model_config = ConfigDict(frozen=True)  # hashable, as part of a MessagePublic

    id: int
    display_name: str


class GuestWithToken(GuestPublic):
    token: str
