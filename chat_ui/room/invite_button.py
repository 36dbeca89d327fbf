"""The invite button of a private room: opens the invite dialog (chat_ui/room/invite_dialog.py).

A public room has none: its address is its link. Anyone who sees a private room's page is one of
its members (the page is "not found" to everyone else), and any member may invite.
"""

from nicegui import ui

from chat_ui.page_frame import PageFrame
from chat_ui.room.invite_dialog import InviteDialog
from models.room import RoomState


class InviteButton:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame, self._room = frame, room
        self._dialog: InviteDialog | None = None  # made on the first click

    def build(self, closes: str) -> None:
        """Called by the room bar among its actions; `closes` closes the phone's menu on a click."""
        if not self._room.is_private:
            return
        ui.button("Invite", icon="person_add", on_click=self._open, color=None).props(
            f"flat no-caps align=left {closes} data-testid=invite-button title='Invite people with a link'"
        ).mark("invite-button")

    async def _open(self) -> None:
        if self._dialog is None:
            self._dialog = InviteDialog(self._frame, self._room)
        await self._dialog.open()
