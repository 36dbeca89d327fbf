"""SQLModel tables (one module per aggregate) and the public shapes that leave the services."""

from models.audit import AuditEntry, AuditEntryPublic
from models.guest import Guest, GuestPublic, GuestWithToken
from models.image import Image, ImagePublic
from models.message import Message, MessagePage, MessagePublic
from models.room import Membership, Room, RoomCreate, RoomPublic, RoomRemoval, RoomState, RoomUpdate

__all__ = [
    "AuditEntry",
    "AuditEntryPublic",
    "Guest",
    "GuestPublic",
    "GuestWithToken",
    "Image",
    "ImagePublic",
    "Membership",
    "Message",
    "MessagePage",
    "MessagePublic",
    "Room",
    "RoomCreate",
    "RoomPublic",
    "RoomRemoval",
    "RoomState",
    "RoomUpdate",
]
