"""The room page in parts: page (wiring), header, message list and its rows, composer, the room's
actions, and the live view that keeps it in step."""

from chat_ui.room.page import room_page

__all__ = ["room_page"]
