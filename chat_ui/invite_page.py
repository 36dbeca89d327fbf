"""`/invite/{code}`: joins the visitor to the invitation's room and lands them in it, with a notice
there; an unknown, expired or revoked link gets a page that says so.

The join waits until the page has connected: a chat app that unfurls a pasted link fetches the
page without running it, and must not make a guest of its own a member of the room.
"""

from nicegui import ui

from chat_ui.forms import sentence
from chat_ui.identity import READ_ONLY_VISITOR
from chat_ui.page_frame import PageFrame
from models.invite import INVITE_LIFETIME
from services import invites
from services.database import DATABASE_DOWN
from services.errors import Forbidden, NotFound

CONNECT_TIMEOUT = 15  # seconds: a browser that never connects (a link preview) never joins


async def invite_page(frame: PageFrame, code: str) -> None:
    ui.page_title("Invitation")
    if frame.guest.id == READ_ONLY_VISITOR.id:
        _read_only()
        return
    with _panel("hourglass_top") as waiting:
        ui.spinner(size="2em").classes("text-primary")
        ui.label("Joining the room…").classes("text-lg font-semibold")
    try:
        await ui.context.client.connected(timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        return
    try:
        accepted = await frame.context.db.run(invites.accept_invite, code=code, guest_id=frame.guest.id)
    except NotFound:
        waiting.delete()
        _no_longer_valid()
        return
    except Forbidden as refused:  # banned, or removed from the room by a moderator
        waiting.delete()
        _refused(sentence(refused.detail))
        return
    except DATABASE_DOWN:  # nothing was saved; the link still works once the database answers
        waiting.delete()
        _unavailable()
        return
    room = accepted.room
    said = f"You joined {room.name}" if accepted.joined else f"You are already a member of {room.name}"
    frame.leave_with_notice(said, f"/rooms/{room.slug}", type="positive")


def _panel(icon: str) -> ui.column:
    """The page's one centred column, led by a large icon."""
    with ui.column().classes("w-full items-center py-24 px-4 gap-3 text-center") as panel:
        ui.icon(icon, size="64px").classes("chat-faint")
    return panel


def _back_button() -> None:
    ui.button("Back to all rooms", icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props(
        "unelevated no-caps rounded"
    )


def _no_longer_valid() -> None:
    ui.page_title("Invitation not valid")
    days = INVITE_LIFETIME.days
    with _panel("link_off"):
        ui.label("This invitation link is no longer valid").classes("text-2xl font-semibold").props(
            "data-testid=not-found"
        ).mark("not-found")
        ui.label(
            f"Invitation links work for {days} days, and whoever made one (or the room's owner) can revoke it "
            "sooner. It may also have been copied incompletely. Ask the person who sent it for a new link."
        ).classes("chat-muted max-w-md")
        _back_button()


def _refused(reason: str) -> None:
    ui.page_title("Cannot join")
    with _panel("block"):
        ui.label("You cannot join this room").classes("text-2xl font-semibold").props("data-testid=invite-refused")
        ui.label(reason).classes("chat-muted max-w-md")
        _back_button()


def _unavailable() -> None:
    with _panel("cloud_off"):
        ui.label("The invitation could not be accepted just now").classes("text-2xl font-semibold")
        ui.label("The chat cannot reach its database at the moment. Nothing is lost: try the link again.").classes(
            "chat-muted max-w-md"
        )
        ui.button("Try again", icon="refresh", on_click=ui.navigate.reload).props("unelevated no-caps rounded")


def _read_only() -> None:
    """The visitor a busy network's guest budget left without an identity (chat_ui.identity)."""
    with _panel("hourglass_empty"):
        ui.label("You cannot join rooms just yet").classes("text-2xl font-semibold").props("data-testid=invite-refused")
        ui.label(
            "Many new visitors came from your network just now, so this browser has no guest identity yet "
            "and can only read. Open this link again in a few minutes to accept the invitation."
        ).classes("chat-muted max-w-md")
        with ui.row().classes("gap-2 justify-center"):
            ui.button("Try again", icon="refresh", on_click=ui.navigate.reload).props("flat no-caps rounded")
            _back_button()
