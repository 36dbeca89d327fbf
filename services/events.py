"""Events that travel on the bus: small, JSON-able, public fields only, each with its channels.

A service queues one with `send_event_on_commit(session, event)` (services/database.py) while
it writes; the database layer publishes it on `event.channels()` once the transaction commits.
Every event's name (its `type`) is written here and nowhere else.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from models.message import MessagePublic
from models.room import RoomState

ROOMS_CHANNEL = "rooms"  # the room list: rooms created, changed, active, deleted


def room_channel(slug: str) -> str:
    """Slugs never change (a rename changes the name only), and every view knows its slug."""
    return f"room.{slug}"


class MessageCreated(BaseModel):
    type: Literal["message.created"] = "message.created"
    room: str  # slug
    message: MessagePublic

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class MessageDeleted(BaseModel):
    type: Literal["message.deleted"] = "message.deleted"
    room: str  # slug
    message_id: int

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class RoomCreated(BaseModel):
    type: Literal["room.created"] = "room.created"
    room: RoomState

    def channels(self) -> tuple[str, ...]:
        return (ROOMS_CHANNEL,)


class RoomUpdated(BaseModel):
    """Renamed, described, locked or unlocked, joined or left: its views and the room list show it."""

    type: Literal["room.updated"] = "room.updated"
    room: RoomState

    def channels(self) -> tuple[str, ...]:
        return room_channel(self.room.slug), ROOMS_CHANNEL


class RoomActivity(BaseModel):
    """A room had a new message; at most one every few seconds per room and instance."""

    type: Literal["room.activity"] = "room.activity"
    room: str  # slug
    last_message_at: datetime

    def channels(self) -> tuple[str, ...]:
        return (ROOMS_CHANNEL,)


class RoomDeleted(BaseModel):
    type: Literal["room.deleted"] = "room.deleted"
    room: str  # slug

    def channels(self) -> tuple[str, ...]:
        return room_channel(self.room), ROOMS_CHANNEL


class GuestRemoved(BaseModel):
    """The room's owner or an admin removed a guest: their open views of the room close."""

    type: Literal["guest.removed"] = "guest.removed"
    room: str  # slug
    guest_id: int

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class Resync(BaseModel):
    """Never published: a feed hands this to its views when the bus reports a gap (a lost Redis
    connection, an overflowing queue), so that they reload what they may have missed."""

    type: Literal["bus.resync"] = "bus.resync"


ChatEvent = MessageCreated | MessageDeleted | RoomCreated | RoomUpdated | RoomActivity | RoomDeleted | GuestRemoved
RoomEvent = Annotated[ChatEvent | Resync, Field(discriminator="type")]
_adapter: TypeAdapter[RoomEvent] = TypeAdapter(RoomEvent)


def decode(data: dict[str, Any]) -> RoomEvent:
    """An event as it arrived from the bus; ValueError for one this version does not know."""
    return _adapter.validate_python(data)
