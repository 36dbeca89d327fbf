"""An image waits above the composer before it is sent: its preview, name and size, an optional
caption, Send and Cancel. Like Slack and Discord, the file starts uploading the moment it is chosen,
so the reader writes the caption while it travels and Send is quick.

No script: Quasar's QUploader draws the preview from the file in the browser (a blob URL, which the
Content-Security-Policy allows for images), its name and its upload progress; CSS shapes its list
into the card. The server hears when a file was added (to check its size and start the upload),
when it arrived (to check it again) and when the browser refused one by its type.

Checks, in order: the browser refuses what is not a JPEG, PNG, GIF or WebP by its type (Quasar's
`accept`; it does not say which file, so that notice cannot name it); when a file is added, its
size against CHAT_MAX_UPLOAD_MB, before a byte travels (QUploader's own `max-file-size` would not
say which file or how big: what it reports of an added file does, see `chosen_file`); on arrival,
the size again and the first bytes against the four formats; on Send, the service decodes it and
says why not. (The server's body limit, api/body_limit.py, refuses an oversized upload anyway.)

Scripts drive it through the file input inside `data-testid=image-stage`: set its files, then
click `data-testid=upload-send` (a click before the file arrived sends it once it has). CONTRACT §4's
`image-upload` is another, hidden uploader (QuickImageUpload): choosing an image there sends it at
once, with no preview, as the contract promises scripts.
"""

import re
from collections.abc import Awaitable, Callable
from typing import Literal

from nicegui import events, ui

from chat_ui.notices import notify
from chat_ui.room.length_gauge import LengthGauge

ACCEPTED = "image/jpeg,image/png,image/gif,image/webp,.jpg,.jpeg,.png,.gif,.webp"
FORMATS = "a JPEG, PNG, GIF or WebP"
SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
MB = 1024 * 1024
SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")  # Quasar's humanStorageSize, "1.5MB"
SIZE_LABEL = re.compile(r"^(\d+(?:\.\d+)?)(B|KB|MB|GB|TB|PB)$")
MODIFIED_DIGITS = 13  # a file's lastModified in ms: 13 digits from 2001 to 2286

SendImage = Callable[[str, bytes, str], Awaitable[bool]]  # (file name, bytes, caption) -> it was sent
BindEnter = Callable[[ui.input, Callable[[], Awaitable[None]]], object]  # Enter (not an IME's) runs it
State = Literal["idle", "uploading", "ready", "sending"]

CSS = """
.chat-staging { padding: 0.5rem 0.75rem 0; }
.chat-staging-card { position: relative; display: flex; align-items: center; padding: 0.5rem 3.25rem 0.5rem 0.5rem;
  background: var(--chat-raised); border: 1px solid var(--chat-border); border-radius: 0.75rem; }
.chat-uploader.q-uploader { flex: 1; min-width: 0; width: auto; max-height: none; background: transparent;
  box-shadow: none; border-radius: 0; color: var(--chat-text); }
.chat-uploader .q-uploader__header { display: none; }
.chat-uploader .q-uploader__list { padding: 0; min-height: 0; overflow: visible; }
.chat-uploader .q-uploader__file { display: flex; align-items: center; height: 4rem; min-width: 0;
  padding-left: 4.75rem; border: 0; border-radius: 0; color: var(--chat-text);
  background-size: 0 0 !important; background-repeat: no-repeat; }
.chat-uploader .q-uploader__file::before { content: ""; position: absolute; inset: 0 auto 0 0; width: 4rem;
  height: 4rem; border-radius: 0.5rem; opacity: 1; pointer-events: none; border: 1px solid var(--chat-border);
  background: var(--chat-hover) center / cover no-repeat; background-image: inherit; }
.chat-uploader .q-uploader__file-header { flex: 1; min-width: 0; padding: 0; background: none; }
.chat-uploader .q-uploader__file-header-content { min-width: 0; }
.chat-uploader .q-uploader__title { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  word-break: normal; }
.chat-uploader .q-uploader__subtitle { color: var(--chat-muted); }
.chat-uploader .q-uploader__file--uploaded .q-uploader__subtitle { visibility: hidden; }
.chat-uploader .q-uploader__file-header .q-btn { display: none; }
.chat-uploader .q-uploader__file .q-circular-progress { color: var(--chat-accent); font-size: 1.75rem; }
.chat-staging-status { position: absolute; left: 5.25rem; right: 3.25rem; top: calc(50% + 0.1rem);
  font-size: 0.75rem; line-height: 1.5; color: var(--chat-muted); white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; pointer-events: none; }
.chat-staging-status:empty { display: none; }
.chat-staging-cancel { position: absolute; top: 50%; right: 0.25rem; transform: translateY(-50%); }
"""


def describe_size(size: int) -> str:
    """ "830 KB", "14.2 MB": as a person reads a file's size."""
    if size < 1024:
        return f"{size} bytes"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB"


def megabytes(size: int) -> str:
    return f"{size / MB:g} MB"


def too_big(name: str, size: int, limit: int) -> str:
    """ "photo.png is 14.2 MB; images can be at most 10 MB" (in bytes when the rounding would hide it)."""
    shown = describe_size(size)
    if size > limit and f"{size / MB:.1f}" == f"{limit / MB:.1f}":
        shown = f"{size:,} bytes"
        return f"{name} is {shown}; images can be at most {megabytes(limit)} ({limit:,} bytes)"
    return f"{name} is {shown}; images can be at most {megabytes(limit)}"


def not_an_image(name: str) -> str:
    return f"{name} is not a readable image: send {FORMATS}"


def looks_like_an_image(head: bytes) -> bool:
    """The first bytes of a JPEG, PNG, GIF or WebP (the service decodes it properly on Send)."""
    return head.startswith(SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def refusal(reasons: list[str], limit: int | None = None) -> str:
    """What the browser refused, from Quasar's `failedPropValidation` values."""
    if "accept" in reasons:
        return f"That file is not an image: send {FORMATS}."
    if "max-file-size" in reasons and limit is not None:
        return f"That image is too large: images can be at most {megabytes(limit)}."
    return "Choose one image at a time."


def rejection_reasons(event: events.GenericEventArguments) -> list[str]:
    """Why the browser refused files: Quasar's `rejected` event lists each with its `failedPropValidation`."""
    entries = event.args if isinstance(event.args, list) else [event.args]
    return [str(entry.get("failedPropValidation")) for entry in entries if isinstance(entry, dict)]


def _quasar_size_label_fits(size: int, label: str) -> bool:
    """Whether Quasar would label `size` bytes as `label` ("1.5MB": one decimal, units of 1024)."""
    match = SIZE_LABEL.match(label)
    if match is None:
        return False
    value, unit = float(size), 0
    while value >= 1024 and unit < len(SIZE_UNITS) - 1:
        value, unit = value / 1024, unit + 1
    return SIZE_UNITS[unit] == match[2] and abs(value - float(match[1])) <= 0.05 + 1e-9


def chosen_file(entry: object) -> tuple[str | None, int] | None:
    """The name and exact size of a file QUploader added, from what its `added` event tells the
    server: a File's own fields do not survive JSON, but Quasar's `__key` (its folder path, last
    modification in ms, name and size in bytes, run together) and `__sizeLabel` ("1.5MB") do. The
    shortest run of final digits that the label confirms is the size; the name follows the 13-digit
    time. None when the entry is not what is expected (then the checks on arrival still hold)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("__key"), str):
        return None
    key, label = entry["__key"], str(entry.get("__sizeLabel", ""))
    digits = re.search(r"\d+$", key)
    if digits is None:
        return None
    for length in range(1, len(digits[0]) + 1):
        text = digits[0][-length:]
        if (text[0] != "0" or length == 1) and _quasar_size_label_fits(int(text), label):
            rest = key[:-length]
            modified = re.match(r"\d+", rest)
            skip = min(len(modified[0]), MODIFIED_DIGITS) if modified else 0
            return rest[skip:] or None, int(text)
    return None


class _Controls:
    """What the panel shows around the uploader: built when the first image is chosen, then kept."""

    def __init__(self, staging: "ImageStaging", bind_enter: BindEnter) -> None:
        with staging.card:
            self.status = ui.label().classes("chat-staging-status").props("data-testid=upload-status aria-live=polite")
            ui.button(icon="close", on_click=staging.cancel).props(  # 42 px: easy to hit on a phone
                "flat round aria-label='Cancel the image' data-testid=upload-cancel"
            ).classes("chat-staging-cancel chat-muted").tooltip("Cancel (Escape)")
        with staging.panel:
            self.gauge = LengthGauge()
            with ui.element("div").classes("w-full flex items-end gap-2 py-2"):
                self.caption = (
                    ui.input(placeholder="Add a caption (optional)…")
                    .props("outlined dense rounded aria-label='Caption' data-testid=upload-caption")
                    .classes("flex-1")
                    .on("keydown.esc", staging.cancel)
                )
                self.caption.on_value_change(lambda event: self.gauge.show(event.value or ""))
                bind_enter(self.caption, staging.send)
                self.send = ui.button(icon="send", on_click=staging.send).props(
                    "round unelevated aria-label='Send the image' data-testid=upload-send"
                )
                self.send.tooltip("Send (Enter)")


class ImageStaging:
    """The panel and its uploader (which holds the file input). Reports intent only: `on_send(name,
    data, caption)` returns True once the message is saved; `on_open(True/False)` says the panel
    opened or closed (the composer hides its own field meanwhile)."""

    def __init__(
        self, *, max_upload_bytes: int, on_send: SendImage, on_open: Callable[[bool], None], bind_enter: BindEnter
    ) -> None:
        self._max, self._on_send, self._on_open, self._bind_enter = max_upload_bytes, on_send, on_open, bind_enter
        self._state: State = "idle"
        self._send_when_ready = False
        self._name, self._data = "", b""
        self._controls: _Controls | None = None
        self._expected: tuple[str | None, int] | None = None  # (name, size) of the file last chosen
        with (
            ui.element("div").classes("chat-staging w-full").props("data-testid=upload-staging") as self.panel,
            ui.element("div").classes("chat-staging-card w-full") as self.card,
        ):
            self.upload = self._uploader()
        self.panel.visible = False

    def _uploader(self) -> ui.upload:
        upload = (
            ui.upload(auto_upload=False, max_files=1, on_upload=self._arrived)
            .props(f"accept='{ACCEPTED}' flat data-testid=image-stage")
            .classes("chat-uploader")
        )
        upload.on("added", self._added)
        upload.on("rejected", self._rejected)
        upload.on("failed", self._failed, args=[])
        return upload

    @property
    def is_open(self) -> bool:
        return self._state != "idle"

    def pick(self) -> None:
        """The image button: the browser's file chooser."""
        self.upload.run_method("pickFiles")

    def focus(self) -> None:
        if self._controls is not None:
            self._controls.caption.run_method("focus")

    async def send(self) -> None:
        controls = self._controls
        if controls is None or self._state in ("idle", "sending"):
            return
        if LengthGauge.refuses(controls.caption.value or ""):  # said so; a send deferred till arrival is off
            self._send_when_ready = False
            controls.send.props(remove="loading")
            return
        if self._state == "uploading":  # it goes as soon as it has arrived
            self._send_when_ready = True
            controls.send.props("loading")
            return
        self._state = "sending"
        self._show_status("Sending…")
        controls.send.props("loading")
        sent = False
        try:
            sent = await self._on_send(self._name, self._data, (controls.caption.value or "").strip())
        finally:
            controls.send.props(remove="loading")
            if self._state == "sending":
                self._state = "ready"
                if sent:
                    self.cancel()
                else:  # refused or failed (the notice said why): still here, to retry or cancel
                    self._show_status(f"{describe_size(len(self._data))} · Ready to send")

    def cancel(self) -> None:
        if self._state == "sending":
            return
        self._state, self._send_when_ready = "idle", False
        self._name, self._data = "", b""
        self.upload.reset()
        self.panel.visible = False
        if self._controls is not None:
            self._controls.caption.value = ""
            self._controls.send.props(remove="loading")
            self._show_status("")
        self._on_open(False)

    # What the browser reports

    def _added(self, event: events.GenericEventArguments) -> None:
        entries = event.args if isinstance(event.args, list) else [event.args]
        chosen = chosen_file(entries[0]) if entries else None
        if chosen is not None and chosen[1] > self._max:  # refused before it travels
            notify(too_big(chosen[0] or "That image", chosen[1], self._max), type="negative")
            self.upload.reset()
            return
        self._expected = chosen  # what must arrive: a cancelled file's late arrival is not this one
        self.upload.run_method("upload")
        if self._controls is None:
            self._controls = _Controls(self, self._bind_enter)
        self._state, self._send_when_ready = "uploading", False
        self._name, self._data = "", b""
        self._show_status("")  # Quasar's own line shows the size and the progress meanwhile
        self.panel.visible = True
        self._on_open(True)
        self.focus()

    async def _arrived(self, event: events.UploadEventArguments) -> None:
        file = event.file
        if self._state != "uploading" or not self._is_expected(file.name, file.size()):  # cancelled meanwhile
            return
        if file.size() > self._max:
            notify(too_big(file.name, file.size(), self._max), type="negative")
            self.cancel()
            return
        data = await file.read()
        if self._state != "uploading":
            return
        if not looks_like_an_image(data[:12]):
            notify(not_an_image(file.name), type="negative")
            self.cancel()
            return
        self._name, self._data, self._state = file.name, data, "ready"
        self._show_status(f"{describe_size(len(data))} · Ready to send")
        if self._send_when_ready:
            await self.send()

    def _is_expected(self, name: str, size: int) -> bool:
        """Whether an arrival is the file last chosen (as far as the browser said what that was)."""
        if self._expected is None:
            return True
        expected_name, expected_size = self._expected
        return size == expected_size and expected_name in (None, name)

    def _rejected(self, event: events.GenericEventArguments) -> None:
        notify(refusal(rejection_reasons(event)), type="negative")

    def _failed(self) -> None:
        if self._state == "uploading":
            notify(
                f"The image could not be uploaded (images can be at most {megabytes(self._max)}). Please try again.",
                type="negative",
            )
            self.cancel()

    def _show_status(self, text: str) -> None:
        if self._controls is not None and self._controls.status.text != text:
            self._controls.status.set_text(text)


class QuickImageUpload:
    """CONTRACT §4's `image-upload`: an image chosen through its file input is sent at once, with no
    preview and no caption. Scripts and acceptance checks drive the page this way; people use the
    image button, whose image waits in ImageStaging. Hidden: it has no button of its own."""

    def __init__(self, *, max_upload_bytes: int, on_send: Callable[[str, bytes], Awaitable[bool]]) -> None:
        self._max, self._on_send = max_upload_bytes, on_send
        self.upload = (
            ui.upload(auto_upload=True, max_files=1, max_file_size=max_upload_bytes, on_upload=self._arrived)
            .props(f"accept='{ACCEPTED}' data-testid=image-upload")
            .mark("image-upload")
            .classes("hidden")
        )
        self.upload.on("rejected", self._rejected)

    async def _arrived(self, event: events.UploadEventArguments) -> None:
        try:
            if event.file.size() > self._max:
                notify(too_big(event.file.name, event.file.size(), self._max), type="negative")
                return
            await self._on_send(event.file.name, await event.file.read())  # the service says what is wrong
        finally:
            self.upload.reset()

    def _rejected(self, event: events.GenericEventArguments) -> None:
        notify(refusal(rejection_reasons(event), self._max), type="negative")
