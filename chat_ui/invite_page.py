"""`/invite/{code}`: joins the visitor to the room and lands them in it (being built)."""

from nicegui import ui

from chat_ui.page_frame import PageFrame


async def invite_page(frame: PageFrame, code: str) -> None:
    ui.label("Invitations are being built.")
