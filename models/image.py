"""Stored images: the cleaned original and its thumbnail, both kept in the media store."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Column, Field, SQLModel

from models.base import UTCDateTime, utcnow


class Image(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # media-store key of the re-encoded original
    thumbnail_key: str = Field(max_length=200)
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
