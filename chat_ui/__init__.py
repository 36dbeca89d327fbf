"""NiceGUI pages. Only pages call services; components get data and report intent."""

from nicegui import ui

from chat_ui import open_views, styles
from chat_ui.admin_page import admin_page
from chat_ui.collector import collector
from chat_ui.feed import RoomFeeds
from chat_ui.invite_page import invite_page
from chat_ui.page_frame import PageFrame, UiContext, open_frame
from chat_ui.room import room_page
from chat_ui.room_list_page import room_list_page
from chat_ui.search_box import SearchBox
from chat_ui.theme import PRODUCT_NAME
from services.context import AppContext

__all__ = ["PRODUCT_NAME", "collector", "register"]

# <html lang>: screen readers pick their voice and pronunciation from it (axe-core: html-has-lang).
LANGUAGE = "en-US"


def register(context: AppContext) -> None:
    ui_context = UiContext(app=context, feeds=RoomFeeds(context.bus))
    open_views.install()
    styles.share()

    async def open_page(title: str) -> PageFrame:
        frame = await open_frame(ui_context, title)
        if frame.header is not None:
            with frame.header.search_slot:
                SearchBox(frame)
        return frame

    @ui.page("/", language=LANGUAGE)
    async def index() -> None:
        await room_list_page(await open_page(PRODUCT_NAME))

    @ui.page("/rooms/{slug}", language=LANGUAGE)
    async def room(slug: str, message: str | None = None) -> None:
        await room_page(await open_page("Room"), slug, message=message)

    @ui.page("/invite/{code}", language=LANGUAGE)
    async def invite(code: str) -> None:
        await invite_page(await open_page("Invitation"), code)

    if context.settings.admin_token is not None:  # without a token, /admin does not exist (404)

        @ui.page("/admin", language=LANGUAGE)
        async def admin() -> None:
            await admin_page(ui_context)
