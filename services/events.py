"""Events that travel on the bus: small, JSON-able, public fields only, each with its channels.

A service queues one with `send_event_on_commit(session, event)` (services/database.py) while
it writes; the database layer publishes it on `event.channels()` once the transaction commits.
Every event's name (its `type`) is written here and nowhere else.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from models.guest import GuestPublic
from models.message import MessagePublic
from models.room import RoomState

ROOMS_CHANNEL = "rooms"  # the room list: rooms created, changed, active, deleted
TYPING_SHOWN_SECONDS = 5.0  # how long a view shows a guest typing after their last typing.started


def room_channel(slug: str) -> str:
    """Slugs never change (a rename changes the name only), and every view knows its slug."""
    return f"room.{slug}"


def guest_channel(guest_id: int) -> str:
    """What concerns one guest in all their open pages (their read positions)."""
    return f"guest.{guest_id}"


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


class MessageUpdated(BaseModel):
    """Edited, or its reactions changed: views replace the message they show with this one."""

    type: Literal["message.updated"] = "message.updated"
    room: str  # slug
    message: MessagePublic

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class TypingStarted(BaseModel):
    """A guest is typing in the room: views show it for TYPING_SHOWN_SECONDS unless it is repeated.
    Their message arriving ends it sooner."""

    type: Literal["typing.started"] = "typing.started"
    room: str  # slug
    guest: GuestPublic

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class PresenceChanged(BaseModel):
    """Who has the room open now, on every instance: views replace their list with this one."""

    type: Literal["presence.changed"] = "presence.changed"
    room: str  # slug
    online: list[GuestPublic]

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class ReadMarked(BaseModel):
    """A guest read a room up to a message (in any of their pages, or through the API): their
    other pages update its unread count."""

    type: Literal["read.marked"] = "read.marked"
    guest_id: int
    room: str  # slug
    last_read_id: int
    unread: int

    def channels(self) -> tuple[str, ...]:
        return (guest_channel(self.guest_id),)


class GuestRenamed(BaseModel):
    """A guest's new display name: the views of the rooms they belong to or wrote in show it on
    their earlier messages (rows, quotes, reaction tooltips)."""

    type: Literal["guest.renamed"] = "guest.renamed"
    guest: GuestPublic
    rooms: list[str]  # slugs

    def channels(self) -> tuple[str, ...]:
        return tuple(room_channel(slug) for slug in self.rooms)


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


class MemberLeft(BaseModel):
    """A guest left a private room (in another page, or through the API): their open views of it
    close, since they may no longer read it. Not sent for a public room, which anyone may read."""

    type: Literal["member.left"] = "member.left"
    room: str  # slug
    guest_id: int

    def channels(self) -> tuple[str, ...]:
        return (room_channel(self.room),)


class Resync(BaseModel):
    """Never published: a feed hands this to its views when the bus reports a gap (a lost Redis
    connection, an overflowing queue), so that they reload what they may have missed."""

    type: Literal["bus.resync"] = "bus.resync"


ChatEvent = (
    MessageCreated
    | MessageDeleted
    | MessageUpdated
    | TypingStarted
    | PresenceChanged
    | ReadMarked
    | GuestRenamed
    | RoomCreated
    | RoomUpdated
    | RoomActivity
    | RoomDeleted
    | GuestRemoved
    | MemberLeft
)
RoomEvent = Annotated[ChatEvent | Resync, Field(discriminator="type")]
_adapter: TypeAdapter[RoomEvent] = TypeAdapter(RoomEvent)


def decode(data: dict[str, Any]) -> RoomEvent:
    """An event as it arrived from the bus; ValueError for one this version does not know."""
    return _adapter.validate_python(data)
