"""The export button: the room's history as a zip, JSON or Markdown with its images (being built)."""

from chat_ui.page_frame import PageFrame
from models.room import RoomState


class ExportButton:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame, self._room = frame, room

    def build(self, closes: str) -> None:
        """Called by the room bar among its actions; `closes` closes the phone's menu on a click."""
