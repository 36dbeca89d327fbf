"""`/admin`: the operator's pages, only when CHAT_ADMIN_TOKEN is set (otherwise /admin is a 404).

Signing in asks for the token once per browser session; a wrong token is refused without a
hint, and shuts the client address out for longer after each failure (services/backoff.py, the
same back-off as the admin API's, so the page is no side door for guessing).
"""

import asyncio
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from nicegui import app, ui

from chat_ui import forms, identity, theme
from chat_ui.notices import notify
from chat_ui.page_frame import UiContext
from models.room import RoomUpdate
from services import admin_queries, audit, guests, moderation
from services.audit import ADMIN
from services.backoff import FIRST_DELAY, TooManyFailures, secret_matches
from services.bus import TransportUnavailable
from services.errors import ServiceError

SIGNED_IN_KEY = "admin_token_sha256"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def admin_page(context: UiContext) -> None:
    theme.apply()
    ui.page_title(f"Admin · {theme.PRODUCT_NAME}")
    token = context.app.settings.admin_token
    assert token is not None  # the page is only registered with a token
    expected = _digest(token.get_secret_value())
    with ui.header().classes("chat-surface items-center gap-3 px-4 py-2 shadow-sm"):
        ui.icon("admin_panel_settings", size="28px").classes("text-primary")
        ui.label(f"{theme.PRODUCT_NAME} admin").classes("text-lg font-semibold")
    content = ui.column().classes("w-full max-w-5xl mx-auto p-4 gap-4")
    if hmac.compare_digest(str(app.storage.user.get(SIGNED_IN_KEY, "")), expected):
        with content:
            await _console(context)
        return

    address, user_storage = identity.page_address(context.app), app.storage.user

    async def sign_in() -> None:
        given, backoff = field.value or "", context.app.admin_backoff
        try:
            matches = await anyio.to_thread.run_sync(
                lambda: secret_matches(given=given, expected=token.get_secret_value(), address=address, backoff=backoff)
            )
        except TooManyFailures as refused:
            notify(f"Too many wrong tokens: try again in {refused.retry_after} s.", type="negative")
            return
        if matches:
            user_storage[SIGNED_IN_KEY] = expected
            ui.navigate.reload()
            return
        await asyncio.sleep(FIRST_DELAY)  # answer once a retry is allowed: a typo then costs no refusal
        field.value = ""
        notify("Not signed in.", type="negative")

    with content, ui.card().classes("w-96 max-w-full mx-auto mt-16 gap-3"):
        ui.label("Sign in").classes("text-lg font-semibold")
        field = (
            ui.input("Admin token", password=True)
            .props("outlined autofocus data-testid=admin-token-input")
            .mark("admin-token-input")
            .classes("w-full")
            .on("keydown.enter", sign_in)
        )
        ui.button("Sign in", on_click=sign_in).props("unelevated no-caps data-testid=admin-sign-in").mark(
            "admin-sign-in"
        )


async def _console(context: UiContext) -> None:
    await _overview(context)
    with ui.tabs().classes("w-full") as tabs:
        rooms_tab, messages_tab, guests_tab, audit_tab = (
            ui.tab("Rooms"),
            ui.tab("Messages"),
            ui.tab("Guests"),
            ui.tab("Audit log"),
        )
    with ui.tab_panels(tabs, value=rooms_tab).classes("w-full"):
        with ui.tab_panel(rooms_tab):
            _rooms_table(context)
        with ui.tab_panel(messages_tab):
            _messages_table(context)
        with ui.tab_panel(guests_tab):
            _guests_table(context)
        with ui.tab_panel(audit_tab):
            entries = await context.db.run(audit.audit_log, limit=200)
            columns = [{"name": c, "label": c.title(), "field": c, "align": "left"} for c in AUDIT_COLUMNS]
            ui.table(columns=columns, rows=[e.model_dump(mode="json") for e in entries], row_key="id").props(
                "flat bordered dense data-testid=admin-audit"
            ).classes("w-full")


async def _overview(context: UiContext) -> None:
    overview = await context.db.run(admin_queries.overview)
    try:
        instances: int | str = await context.bus.connected_instances()
    except TransportUnavailable:
        instances = "unknown: the bus is down"
    with ui.row().classes("w-full gap-3").props("data-testid=admin-overview"):
        for label, value in (
            ("Rooms", overview.rooms),
            ("Guests", overview.guests),
            ("Messages today", overview.messages_today),
            ("Images", f"{overview.images} ({overview.image_bytes / 2**20:.1f} MB)"),
            ("Instances connected", instances),
        ):
            with ui.card().classes("min-w-[9rem] gap-0"):
                ui.label(str(value)).classes("text-2xl font-bold")
                ui.label(label).classes("text-sm chat-muted")


def _rooms_table(context: UiContext) -> None:
    db, media = context.db, context.app.media

    def on_room(action: Callable[..., object], **values: Any) -> RowAction:
        async def act(row: dict[str, Any]) -> None:
            await db.run(action, slug=row["slug"], by=ADMIN, **values)

        return act

    def edit(field: str) -> Edit:
        async def apply(row: dict[str, Any], value: str) -> None:
            # Unvalidated here: the service checks the name and says why in words the page shows
            # (the model's own limits would raise a bare ValidationError instead).
            update = RoomUpdate.model_construct(**{field: value})
            await db.run(moderation.edit_room, slug=row["slug"], update=update, by=ADMIN)

        return Edit(field, apply)

    SearchableTable(
        columns=["name", "slug", "members", "locked", "last_message_at"],
        row_key="slug",
        testid="admin-rooms",
        load=lambda given: db.run(admin_queries.find_rooms, search=given["search"]),
        actions={
            "Lock": on_room(moderation.lock_room),
            "Unlock": on_room(moderation.unlock_room),
            "Delete": on_room(moderation.delete_room, media=media),
        },
        confirm={"Delete"},
        edits={"Rename": edit("name"), "Describe": edit("description")},
    )


def _messages_table(context: UiContext) -> None:
    db = context.db

    async def delete(row: dict[str, Any]) -> None:
        await db.run(moderation.delete_message, message_id=row["id"], by=ADMIN)

    SearchableTable(
        columns=["id", "room", "author", "text", "created_at"],
        row_key="id",
        testid="admin-messages",
        load=lambda given: db.run(
            admin_queries.find_messages, text=given["search"], room=given["room"], author=given["author"]
        ),
        filters={"search": "Text", "room": "Room", "author": "Author"},
        actions={"Delete": delete},
        confirm={"Delete"},
    )


def _guests_table(context: UiContext) -> None:
    db = context.db

    def on_guest(action: Callable[..., object]) -> RowAction:
        async def act(row: dict[str, Any]) -> None:
            await db.run(action, guest_id=row["id"], by=ADMIN)

        return act

    async def rename(row: dict[str, Any], name: str) -> None:
        await db.run(guests.rename_guest, guest_id=row["id"], display_name=name, by=ADMIN)

    SearchableTable(
        columns=["id", "display_name", "banned", "created_at"],
        row_key="id",
        testid="admin-guests",
        load=lambda given: db.run(admin_queries.find_guests, search=given["search"]),
        actions={"Ban": on_guest(moderation.ban_guest), "Unban": on_guest(moderation.unban_guest)},
        edits={"Rename": Edit("display_name", rename)},
    )


AUDIT_COLUMNS = ("at", "actor", "action", "target", "detail")
RowAction = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Edit:
    """An action on one row that asks for a new value of `field` first."""

    field: str
    apply: Callable[[dict[str, Any], str], Awaitable[None]]


class SearchableTable:
    """Search fields (`filters`: name -> label), buttons that act on the selected rows (after a
    confirmation where it cannot be undone) or edit one of them, and the table, reloaded after
    every change. Cells show text, never HTML."""

    def __init__(
        self,
        *,
        columns: list[str],
        row_key: str,
        testid: str,
        load: Callable[[dict[str, str]], Awaitable[list[Any]]],
        actions: dict[str, RowAction],
        confirm: frozenset[str] | set[str] = frozenset(),
        edits: dict[str, Edit] | None = None,
        filters: dict[str, str] | None = None,
    ) -> None:
        self._row_key, self._testid, self._load = row_key, testid, load
        self._actions, self._confirm, self._edits = actions, confirm, edits or {}
        with ui.row().classes("w-full items-center gap-2"):
            self._fields = {
                name: ui.input(label, on_change=self.reload)
                .props(f"outlined dense clearable debounce=300 data-testid={testid}-{name}")
                .classes("w-56")
                for name, label in (filters or {"search": "Search"}).items()
            }
            for name in [*actions, *self._edits]:
                handler = self._run if name in actions else self._edit
                ui.button(name, on_click=lambda name=name, handler=handler: handler(name)).props(
                    f"outlined no-caps data-testid={testid}-{name.lower()}"
                )
        self._table = (
            ui.table(
                columns=[
                    {"name": c, "label": c.replace("_", " ").title(), "field": c, "align": "left", "sortable": True}
                    for c in columns
                ],
                rows=[],
                row_key=row_key,
                selection="multiple",
                pagination=25,
            )
            .props(f"flat bordered dense data-testid={testid}")
            .classes("w-full")
        )
        ui.timer(0, self.reload, once=True)

    async def reload(self) -> None:
        given = {name: field.value or "" for name, field in self._fields.items()}
        rows = [row.model_dump() for row in await self._load(given)]
        chosen = {row[self._row_key] for row in self._table.selected}
        self._table.rows = rows
        self._table.selected = [row for row in rows if row[self._row_key] in chosen]  # rows still shown stay selected

    async def _run(self, name: str) -> None:
        chosen = list(self._table.selected)
        if not chosen:
            notify("Select one or more rows first.")
            return
        if name in self._confirm and not await forms.confirm(
            f"{name} {len(chosen)} selected?", "This cannot be undone.", name, testid=f"{self._testid}-confirm"
        ):
            return
        try:
            for row in chosen:
                await self._actions[name](row)
        except ServiceError as error:
            notify(error.detail, type="negative")
        else:
            notify(f"{name}: done for {len(chosen)}.", type="positive")
        await self.reload()

    async def _edit(self, name: str) -> None:
        if len(self._table.selected) != 1:
            notify("Select exactly one row to change.")
            return
        row, edit = self._table.selected[0], self._edits[name]
        if await self._ask(name, row, edit):
            notify(f"{name}: done.", type="positive")
            await self.reload()

    async def _ask(self, name: str, row: dict[str, Any], edit: Edit) -> bool:
        """A dialog for the new value; True once it is saved (a refusal keeps the dialog and the text)."""
        field = edit.field
        with ui.dialog() as dialog, ui.card().classes("w-[28rem] max-w-full"):
            dialog.props["aria-label"] = name  # its name for screen readers
            ui.label(f"{name}: {row[field]}" if field != "description" else name).classes("font-semibold")
            label = field.replace("_", " ").capitalize()
            value = (
                ui.textarea(label, value=row[field]) if field == "description" else ui.input(label, value=row[field])
            )
            value.props(f"outlined autofocus data-testid={self._testid}-value").classes("w-full")

            async def save() -> None:
                try:
                    await edit.apply(row, value.value or "")
                except ServiceError as error:
                    notify(forms.sentence(error.detail), type="negative")
                    return
                dialog.submit(True)

            with ui.row().classes("justify-end w-full"):
                ui.button("Cancel", on_click=lambda: dialog.submit(False)).props("flat no-caps")
                ui.button("Save", on_click=save).props(f"unelevated no-caps data-testid={self._testid}-save")
        saved = bool(await dialog)
        dialog.delete()
        return saved
