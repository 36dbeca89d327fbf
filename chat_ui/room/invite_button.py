"""The invite button of a private room: shows and copies an invitation link (being built)."""

from chat_ui.page_frame import PageFrame
from models.room import RoomState


class InviteButton:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame, self._room = frame, room

    def build(self, closes: str) -> None:
        """Called by the room bar among its actions; `closes` closes the phone's menu on a click."""
