"""NiceGUI pages. Only pages call services; components get data and report intent."""

from nicegui import ui

from services.context import AppContext
from services.rooms import list_rooms

PRODUCT_NAME = "Chat"


def register(context: AppContext) -> None:
    @ui.page("/")
    async def index() -> None:
        ui.page_title(PRODUCT_NAME)
        ui.label(PRODUCT_NAME).classes("text-2xl font-bold")
        with ui.column().props("data-testid=room-list"):
            for room in await context.db.run(list_rooms):
                ui.label(room.name).props("data-testid=room-item")
        ui.link("REST API documentation", "/docs")
