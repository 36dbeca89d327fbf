"""The composer: a text field (Enter sends, Shift+Enter adds a line), a send button and an image picker."""

from collections.abc import Awaitable, Callable

from nicegui import events, ui

from models.message import MESSAGE_TEXT_MAX


class Composer:
    """Reports intent only: `on_send(text)` and `on_image(name, data)` return True when it went out."""

    def __init__(
        self,
        *,
        on_send: Callable[[str], Awaitable[bool]],
        on_image: Callable[[str, bytes], Awaitable[bool]],
        max_upload_bytes: int,
    ) -> None:
        self._on_send = on_send
        self._on_image = on_image
        self._max_upload_bytes = max_upload_bytes
        self._sending = False
        self._locked_notice = (
            ui.label("🔒 This room is locked by a moderator: you can read it, not write in it.")
            .classes("chat-surface chat-border-top chat-muted w-full text-center text-sm px-3 py-3")
            .props("data-testid=room-locked")
            .mark("room-locked")
        )
        self._locked_notice.visible = False
        with ui.element("div").classes(
            "chat-surface chat-border-top w-full flex items-end gap-2 px-3 py-2"
        ) as self._bar:
            self._upload = self._image_picker()
            self._input = self._text_field()
            ui.button(icon="send", on_click=self._send).props(
                "round unelevated aria-label='Send' data-testid=send-button"
            ).mark("send-button")

    def _image_picker(self) -> ui.upload:
        upload = (
            ui.upload(
                auto_upload=True,
                max_files=1,
                max_file_size=self._max_upload_bytes,  # checked in the browser first, then again on arrival
                on_upload=self._uploaded,
                on_rejected=self._rejected,
            )
            .props("accept='image/jpeg,image/png,image/gif,image/webp' data-testid=image-upload")
            .mark("image-upload")
            .classes("hidden")
        )
        ui.button(icon="image", on_click=lambda: upload.run_method("pickFiles")).props(
            "flat round aria-label='Send an image'"
        ).classes("chat-muted").tooltip("Send an image")
        return upload

    def _text_field(self) -> ui.textarea:
        return (
            ui.textarea(placeholder="Write a message…")
            .props(
                f"autogrow outlined dense rounded maxlength={MESSAGE_TEXT_MAX} "
                "input-class='max-h-40' data-testid=message-input"
            )
            .mark("message-input")
            .classes("flex-1")
            # Enter that confirms an input method's candidate (Japanese, Chinese, ...) must not send:
            # one of the three allowed one-line guards (tests/test_no_javascript.py).
            .on("keydown.enter.exact.prevent", self._send, js_handler="(e) => { if (!e.isComposing) emit(); }")
        )

    def set_locked(self, locked: bool) -> None:
        """A locked room: the notice instead of the composer (what was typed stays for later)."""
        self._locked_notice.visible = locked
        self._bar.visible = not locked

    def focus(self) -> None:
        self._input.run_method("focus")

    async def _send(self) -> None:
        text = (self._input.value or "").strip()
        if not text or self._sending:  # a second Enter while the first is on its way sends nothing twice
            return
        self._sending = True
        try:
            # The text stays in the field until it is saved: a refusal or an outage loses nothing.
            if await self._on_send(text) and (self._input.value or "").strip() == text:
                self._input.value = ""
        finally:
            self._sending = False

    async def _uploaded(self, event: events.UploadEventArguments) -> None:
        try:
            if event.file.size() > self._max_upload_bytes:
                limit = self._max_upload_bytes / (1024 * 1024)
                ui.notify(f"{event.file.name} is larger than {limit:g} MB", type="negative")
                return
            await self._on_image(event.file.name, await event.file.read())
        finally:
            self._upload.reset()

    def _rejected(self) -> None:
        limit = self._max_upload_bytes / (1024 * 1024)
        ui.notify(f"Images can be at most {limit:g} MB, in JPEG, PNG, GIF or WebP", type="negative")
