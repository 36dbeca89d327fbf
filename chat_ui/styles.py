"""The product's CSS, every rule of every part, added once for all pages (NiceGUI's shared head).

Added per page instead, each connected client would keep its own copy (some 27 KB) for as long as
it is open: memory that grows with the viewers (docs/PERFORMANCE.md). Only what differs per reader
is still added per page (the reader's own reactions and "you" in the presence list). The order is
the cascade's: the palette and base rules first, then the parts.
"""

from nicegui import app, ui

from chat_ui import layout, room_list_page, search_box, theme
from chat_ui.room import composer, header, image_staging, length_gauge, message_list, presence_panel, sidebar
from chat_ui.room.export_button import EXPORT_CSS
from chat_ui.room.invite_dialog import INVITE_CSS
from chat_ui.room.row_css import ROW_CSS

ALL_CSS = (
    theme.CSS,
    ROW_CSS,
    layout.HEADER_CSS,
    room_list_page.ROOM_CARD_CSS,
    sidebar.SIDEBAR_CSS,
    header.ROOM_BAR_CSS,
    presence_panel.CHIP_CSS,
    message_list.LIST_CSS,
    composer.CSS,
    length_gauge.CSS,
    image_staging.CSS,
    INVITE_CSS,
    EXPORT_CSS,
    search_box.SEARCH_CSS,  # last: it overrides the header's rules on a phone
)


def share() -> None:
    """Call once at start, before any page is served."""
    ui.add_css("\n".join(ALL_CSS), shared=True)
    # Quasar's loading bar (shown while an upload or other XHR runs) is a progressbar without a name;
    # its options fall through to its element as attributes (axe-core: aria-progressbar-name).
    app.config.quasar_config["loadingBar"]["aria-label"] = "Loading"
