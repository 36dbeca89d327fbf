"""SQLModel tables (one module per aggregate) and the public shapes that leave the services."""

from models.admin import GuestRow, MessageRow, Overview, RoomRow
from models.audit import AuditEntry, AuditEntryPublic
from models.guest import Guest, GuestCreate, GuestPublic, GuestUpdate, GuestWithToken
from models.image import Image, ImagePublic
from models.invite import Invite, InvitePublic
from models.message import Mention, Message, MessageCreate, MessagePage, MessagePublic, Reaction
from models.room import Membership, Room, RoomCreate, RoomPublic, RoomRemoval, RoomState, RoomUpdate

__all__ = [
    "AuditEntry",
    "AuditEntryPublic",
    "Guest",
    "GuestCreate",
    "GuestPublic",
    "GuestRow",
    "GuestUpdate",
    "GuestWithToken",
    "Image",
    "ImagePublic",
    "Invite",
    "InvitePublic",
    "Membership",
    "Mention",
    "Message",
    "MessageCreate",
    "MessagePage",
    "MessagePublic",
    "MessageRow",
    "Overview",
    "Reaction",
    "Room",
    "RoomCreate",
    "RoomPublic",
    "RoomRemoval",
    "RoomRow",
    "RoomState",
    "RoomUpdate",
]
