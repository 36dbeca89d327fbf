"""Events that travel on the bus: small, JSON-able, public fields only."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from models.message import MessagePublic
from models.room import RoomState

ROOMS_CHANNEL = "rooms"  # room list changes


def room_channel(slug: str) -> str:
    """Slugs never change (a rename changes the name only), and every view knows its slug."""
    return f"room.{slug}"


class MessageCreated(BaseModel):
    type: Literal["message.created"] = "message.created"
    room: str  # slug
    message: MessagePublic


class MessageDeleted(BaseModel):
    type: Literal["message.deleted"] = "message.deleted"
    room: str  # slug
    message_id: int


class RoomCreated(BaseModel):
    type: Literal["room.created"] = "room.created"
    room: RoomState


class RoomUpdated(BaseModel):
    type: Literal["room.updated"] = "room.updated"
    room: RoomState


class RoomActivity(BaseModel):
    """A room had a new message; at most one every few seconds per room and instance."""

    type: Literal["room.activity"] = "room.activity"
    room: str  # slug
    last_message_at: datetime


class RoomDeleted(BaseModel):
    type: Literal["room.deleted"] = "room.deleted"
    room: str  # slug


class GuestRemoved(BaseModel):
    """The room's owner or an admin removed a guest: their open views of the room close."""

    type: Literal["guest.removed"] = "guest.removed"
    room: str  # slug
    guest_id: int


class Resync(BaseModel):
    """Never published: a bus tells its local subscribers this after a gap (a lost Redis
    connection, an overflowing queue) so that views reload what they may have missed."""

    type: Literal["bus.resync"] = "bus.resync"


RoomEvent = Annotated[
    MessageCreated | MessageDeleted | RoomCreated | RoomUpdated | RoomActivity | RoomDeleted | GuestRemoved | Resync,
    Field(discriminator="type"),
]
_adapter: TypeAdapter[RoomEvent] = TypeAdapter(RoomEvent)


def encode(event: BaseModel) -> dict[str, Any]:
    return event.model_dump(mode="json")


def decode(data: dict[str, Any]) -> RoomEvent:
    return _adapter.validate_python(data)
