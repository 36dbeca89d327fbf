"""The header's search: a box, results in a panel (being built)."""

from chat_ui.page_frame import PageFrame


class SearchBox:
    def __init__(self, frame: PageFrame) -> None:
        self._frame = frame
