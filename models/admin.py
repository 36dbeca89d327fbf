"""What the admin pages show: the overview's counts and the rows of their tables."""

from pydantic import BaseModel


class Overview(BaseModel):
    rooms: int
    guests: int
    messages_today: int
    images: int
    image_bytes: int


class RoomRow(BaseModel):
    slug: str
    name: str
    description: str
    members: int
    locked: bool
    last_message_at: str


class GuestRow(BaseModel):
    id: int
    display_name: str
    banned: bool
    created_at: str


class MessageRow(BaseModel):
    id: int
    room: str
    author: str
    text: str
    created_at: str
