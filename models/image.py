"""Stored images: the cleaned original and its thumbnail, both kept in the media store."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Column, Field, SQLModel

from models.base import UTCDateTime, utcnow


class Image(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # Media-store keys of the re-encoded original and its thumbnail; indexed because the media route
    # finds a private room's image by its key to check that the caller belongs to the room.
    key: str = Field(max_length=200, index=True)
    thumbnail_key: str = Field(max_length=200, index=True)
    content_type: str = Field(max_length=40)
    width: int
    height: int
    size_bytes: int  # of the stored original plus thumbnail, for the admin's storage figures
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ImagePublic(BaseModel):
    model_config = ConfigDict(frozen=True)  # hashable, as part of a MessagePublic

    url: str
    thumbnail_url: str
    width: int
    height: int
