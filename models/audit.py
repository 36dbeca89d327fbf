"""The audit log: who did what to whom, and when, for every admin and moderator action."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Column, Field, SQLModel

from models.base import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor: str = Field(max_length=80)  # "admin", or "guest:<id>" for a room owner
    action: str = Field(max_length=40)  # message.delete, room.delete, room.lock, guest.ban, ...
    target: str = Field(max_length=120)  # what it was done to: "message:12", "room:lobby", "guest:7"
    detail: str = Field(default="", max_length=500)


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str
