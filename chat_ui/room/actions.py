"""What a visitor can do in a room. Each intent is one service call; a refusal or a failure
becomes a notice, and the caller learns whether it went through (the composer keeps the text
of a message that did not)."""

import logging
from collections.abc import Awaitable

from nicegui import ui

from chat_ui.forms import confirm, sentence
from chat_ui.page_frame import PageFrame
from chat_ui.room.message_list import RowActions
from models.message import MessagePage
from models.room import RoomState
from services import guests, messages, moderation, rooms
from services.database import DATABASE_DOWN
from services.errors import ServiceError

log = logging.getLogger(__name__)


class RoomActions:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame = frame
        self._context = frame.context
        self.room = room  # kept current by the live view: notices and questions use the room's name
        self.me = frame.guest.id

    @property
    def is_owner(self) -> bool:
        return self.room.owner_id == self.me

    async def load_page(self, before: int | None, after: int | None) -> MessagePage:
        db = self._context.db
        return await db.run_read(messages.page_messages, room_slug=self.room.slug, before=before, after=after)

    async def send_text(self, text: str) -> bool:
        # When it works, the message appears through the bus, like everyone else's.
        db, limiter = self._context.db, self._context.app.send_limiter(self._frame.address)
        sending = db.run(messages.send_message, room_slug=self.room.slug, author_id=self.me, text=text, limiter=limiter)
        return await attempt("The message", sending)

    async def send_image(self, name: str, data: bytes) -> bool:
        app = self._context.app
        notice = ui.notification(f"Sending {name}…", spinner=True, timeout=None)
        sending = messages.send_image(
            db=app.db,
            media=app.media,
            room_slug=self.room.slug,
            author_id=self.me,
            data=data,
            max_bytes=app.settings.max_upload_bytes,
            limiter=app.send_limiter(self._frame.address),
            images=app.images,  # a busy pool says so in the notice: "…: the server is busy…; try again in 3 s"
        )
        try:
            return await attempt(name, sending, name_the_refusal=True)
        finally:
            notice.dismiss()

    async def delete_message(self, message_id: int) -> None:
        if await confirm("Delete this message?", "It disappears for everyone.", "Delete", testid="confirm-delete"):
            deleting = self._context.db.run(moderation.delete_message, message_id=message_id, by=self.me)
            await attempt("The message", deleting, failed="could not be deleted")

    async def remove_author(self, guest_id: int) -> None:
        db, room = self._context.db, self.room
        try:
            author = await db.run(guests.get_guest, guest_id=guest_id)
        except (ServiceError, *DATABASE_DOWN):
            ui.notify("That guest cannot be found right now. Please try again.", type="negative")
            return
        question = f"Remove {author.display_name} from {room.name}?"
        detail = "They can still read this room, but not post in it or join it again."
        if not await confirm(question, detail, "Remove", testid="confirm-remove"):
            return
        removing = db.run(moderation.remove_guest_from_room, slug=room.slug, guest_id=guest_id, by=self.me)
        if await attempt(author.display_name, removing, failed="could not be removed"):
            ui.notify(f"{author.display_name} was removed from {room.name}.", type="positive")

    async def set_locked(self, locked: bool) -> None:
        # Every view, this one included, shows the change when the room.updated event arrives.
        change = moderation.lock_room if locked else moderation.unlock_room
        changing = self._context.db.run(change, slug=self.room.slug, by=self.me)
        await attempt("The room", changing, failed="could not be locked" if locked else "could not be unlocked")

    async def leave(self) -> None:
        leaving = self._context.db.run(rooms.leave_room, slug=self.room.slug, guest_id=self.me)
        if await attempt("The room", leaving, failed="could not be left"):
            ui.navigate.to("/")

    def row_actions(self) -> RowActions:
        """Owners delete any message and remove its author; everyone deletes their own."""
        return RowActions(
            may_delete=lambda message: self.is_owner or message.author.id == self.me,
            may_remove=lambda message: self.is_owner and message.author.id != self.me,
            delete=self.delete_message,
            remove_author=self.remove_author,
        )


async def attempt(
    what: str, call: Awaitable[object], *, name_the_refusal: bool = False, failed: str = "could not be sent"
) -> bool:
    """Await a service call; if it is refused or fails, say why in a notice and return False."""
    try:
        await call
    except ServiceError as error:
        ui.notify(f"{what}: {error.detail}" if name_the_refusal else sentence(error.detail), type="negative")
    except DATABASE_DOWN as error:
        log.warning("%s %s: %s", what, failed, str(error).splitlines()[0])
        ui.notify(f"{what} {failed}: the server cannot reach its database.", type="negative")
    except Exception:
        log.exception("%s %s", what, failed)
        ui.notify(f"{what} {failed}. Please try again.", type="negative")
    else:
        return True
    return False
