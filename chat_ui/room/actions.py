"""What a visitor can do in a room. Each intent is one service call; a refusal or a failure
becomes a notice, and the caller learns whether it went through (the composer keeps the text
of a message that did not).

Some intents come from a message's row and are answered by another part of the page (edit and
reply open in the composer, react opens the picker): the page attaches those parts once they
exist, after the message list that reports the intents."""

import logging
from collections.abc import Awaitable, Callable

from nicegui import background_tasks, ui

from chat_ui.forms import confirm, sentence
from chat_ui.notices import notify
from chat_ui.page_frame import PageFrame
from chat_ui.room.composer import Composer
from chat_ui.room.message_list import RowActions
from chat_ui.room.reaction_picker import ReactionPicker
from models.guest import GuestPublic
from models.message import MessagePage, MessagePublic, MessageWindow
from models.room import RoomState
from services import access, guests, mentions, messages, moderation, reactions, rooms, typing
from services.database import DATABASE_DOWN
from services.errors import NotFound, ServiceError
from services.rate_limit import RateLimiter

log = logging.getLogger(__name__)
OWN_MESSAGE_SEARCH_PAGES = 5  # Up in an empty composer looks this many pages of 100 back for the last own message


class RoomActions:
    def __init__(self, frame: PageFrame, room: RoomState) -> None:
        self._frame = frame
        self._context = frame.context
        self.room = room  # kept current by the live view: notices and questions use the room's name
        self.me = frame.guest.id
        self.composer: Composer | None = None  # attached by the page
        self.picker: ReactionPicker | None = None  # attached by the page
        # The reader's own messages this page has seen (loaded or live, not deleted since): Up in
        # the empty composer edits the newest of them without asking the database to search.
        self._own_ids: set[int] = set()
        self.leaving = False  # this page is leaving the room: it navigates away itself

    @property
    def is_owner(self) -> bool:
        return self.room.owner_id == self.me

    async def load_page(self, before: int | None, after: int | None) -> MessagePage:
        """A page of the history; none once the reader may no longer read this private room (the
        page then leaves: `still_readable`)."""
        if not await self.still_readable():
            return MessagePage(messages=[], has_more=False)
        db = self._context.db
        page = await db.run_read(messages.page_messages, room_slug=self.room.slug, before=before, after=after)
        for message in page.messages:
            self.note_message(message)
        return page

    async def load_around(self, message_id: int) -> MessageWindow | None:
        """The messages around one (a link to it, a reply's quote); None once it is gone (deleted,
        or never this room's), or the reader may no longer read this private room."""
        if not await self.still_readable():
            return None
        db = self._context.db
        try:
            window = await db.run_read(messages.page_around, room_slug=self.room.slug, around=message_id)
        except NotFound:
            return None
        for message in window.messages:
            self.note_message(message)
        return window

    async def still_readable(self) -> bool:
        """Whether the reader may still read the room; if not (a private room they left in another
        page or through the API, or were removed from), the page leaves with a notice. A public
        room costs nothing: anyone may read it, so only a private room's membership is asked."""
        if not self.room.is_private:
            return True
        try:
            await self._context.db.run_read(access.check_readable, slug=self.room.slug, reader_id=self.me)
        except NotFound:
            if not self.leaving:
                self._frame.leave_with_notice(gone_words(self.room.name))
            return False
        return True

    def note_message(self, message: MessagePublic) -> None:
        if message.author.id == self.me:
            self._own_ids.add(message.id)

    def note_deleted(self, message_id: int) -> None:
        self._own_ids.discard(message_id)

    async def send_text(self, text: str, reply_to: int | None = None) -> bool:
        # When it works, the message appears through the bus, like everyone else's.
        db, limiter = self._context.db, self._limiter()
        sending = db.run(
            messages.send_message,
            room_slug=self.room.slug,
            author_id=self.me,
            text=text,
            reply_to=reply_to,
            limiter=limiter,
        )
        return await attempt("The message", sending)

    async def edit_message(self, message_id: int, text: str) -> bool:
        # Every view, this one included, shows the change when the message.updated event arrives.
        editing = self._context.db.run(
            messages.edit_message,
            room_slug=self.room.slug,
            message_id=message_id,
            editor_id=self.me,
            text=text,
            limiter=self._limiter(),
        )
        return await attempt("The message", editing, failed="could not be saved")

    async def edit_last(self) -> None:
        """Up in the empty composer: edit the reader's newest message in the room."""
        try:
            message = await self._newest_own_message()
        except (ServiceError, *DATABASE_DOWN):
            notify("Your last message cannot be found right now. Please try again.", type="negative")
            return
        if message is None:
            notify("You have no message in this room to edit.", type="info")
        elif self.composer is not None:
            self.composer.start_edit(message)

    async def _newest_own_message(self) -> MessagePublic | None:
        db, slug = self._context.db, self.room.slug
        while self._own_ids:  # the newest seen, unless it went meanwhile
            newest = max(self._own_ids)
            try:
                return await db.run_read(messages.get_message, room_slug=slug, message_id=newest)
            except ServiceError:
                self._own_ids.discard(newest)
        before = None
        for _ in range(OWN_MESSAGE_SEARCH_PAGES):  # none seen: look further back
            page = await db.run_read(messages.page_messages, room_slug=slug, before=before, limit=100)
            own = [message for message in page.messages if message.author.id == self.me]
            if own:
                return own[-1]
            if not page.has_more or not page.messages:
                return None
            before = page.messages[0].id
        return None

    def start_edit(self, message: MessagePublic) -> None:
        if self.composer is not None and message.author.id == self.me:
            self.composer.start_edit(message)

    def start_reply(self, message: MessagePublic) -> None:
        if self.composer is not None:
            self.composer.reply_to(message)

    def open_picker(self, message_id: int) -> None:
        if self.picker is not None:
            self.picker.open(message_id)

    async def add_reaction(self, message_id: int, emoji: str) -> bool:
        """From the picker: the common emoji or whatever was typed, if it is one emoji."""
        try:
            emoji = reactions.validate_emoji(emoji)
        except ServiceError as error:
            notify(sentence(error.detail), type="warning")
            return False
        return await self._react(reactions.add_reaction, message_id, emoji)

    async def toggle_reaction(self, message_id: int, emoji: str) -> None:
        """A reaction chip: takes the reader's reaction back if they gave it, else adds it."""
        db = self._context.db
        try:
            message = await db.run_read(messages.get_message, room_slug=self.room.slug, message_id=message_id)
        except (ServiceError, *DATABASE_DOWN):
            notify("That message cannot be found right now. Please try again.", type="negative")
            return
        mine = any(r.emoji == emoji and self.me in r.guest_ids for r in message.reactions)
        await self._react(reactions.remove_reaction if mine else reactions.add_reaction, message_id, emoji)

    async def _react(self, change: Callable[..., MessagePublic], message_id: int, emoji: str) -> bool:
        # Every view, this one included, shows the change when the message.updated event arrives.
        reacting = self._context.db.run(
            change,
            room_slug=self.room.slug,
            message_id=message_id,
            guest_id=self.me,
            emoji=emoji,
            limiter=self._limiter(),
        )
        return await attempt("The reaction", reacting, failed="could not be changed")

    def announce_typing(self) -> None:
        """The reader is typing (the composer says so at most every few seconds). Nobody needs to
        hear that it failed: a missed signal only means a shorter "is typing"."""
        background_tasks.create(self._announce_typing(), name="announce typing")

    async def _announce_typing(self) -> None:
        try:
            await self._context.db.run(typing.announce_typing, room_slug=self.room.slug, guest_id=self.me)
        except (ServiceError, *DATABASE_DOWN) as error:
            log.debug("typing not announced: %s", error)

    async def room_members(self) -> list[GuestPublic]:
        """For the composer's @ suggestions; none while the database is away."""
        try:
            return await self._context.db.run_read(mentions.room_members, room_slug=self.room.slug)
        except (ServiceError, *DATABASE_DOWN) as error:
            log.warning("room members not loaded: %s", str(error).splitlines()[0])
            return []

    def _limiter(self) -> RateLimiter:
        return self._context.app.send_limiter(self._frame.address)

    async def send_image(self, name: str, data: bytes, reply_to: int | None = None, caption: str = "") -> bool:
        """Post an image (with its caption): the staging panel shows "Sending…" meanwhile; an image
        chosen through the quick `image-upload` input (scripts) goes without a panel."""
        app = self._context.app
        sending = messages.send_image(
            db=app.db,
            media=app.media,
            room_slug=self.room.slug,
            author_id=self.me,
            data=data,
            max_bytes=app.settings.max_upload_bytes,
            limiter=app.send_limiter(self._frame.address),
            images=app.images,  # a busy pool says so in the notice: "…: the server is busy…; try again in 3 s"
            reply_to=reply_to,
            caption=caption,
        )
        return await attempt(name, sending, name_the_refusal=True)

    async def delete_message(self, message_id: int) -> None:
        if await confirm("Delete this message?", "It disappears for everyone.", "Delete", testid="confirm-delete"):
            deleting = self._context.db.run(moderation.delete_message, message_id=message_id, by=self.me)
            await attempt("The message", deleting, failed="could not be deleted")

    async def remove_author(self, guest_id: int) -> None:
        db, room = self._context.db, self.room
        try:
            author = await db.run(guests.get_guest, guest_id=guest_id)
        except (ServiceError, *DATABASE_DOWN):
            notify("That guest cannot be found right now. Please try again.", type="negative")
            return
        question = f"Remove {author.display_name} from {room.name}?"
        detail = "They can still read this room, but not post in it or join it again."
        if not await confirm(question, detail, "Remove", testid="confirm-remove"):
            return
        removing = db.run(moderation.remove_guest_from_room, slug=room.slug, guest_id=guest_id, by=self.me)
        if await attempt(author.display_name, removing, failed="could not be removed"):
            notify(f"{author.display_name} was removed from {room.name}.", type="positive")

    async def set_locked(self, locked: bool) -> None:
        # Every view, this one included, shows the change when the room.updated event arrives.
        change = moderation.lock_room if locked else moderation.unlock_room
        changing = self._context.db.run(change, slug=self.room.slug, by=self.me)
        await attempt("The room", changing, failed="could not be locked" if locked else "could not be unlocked")

    async def leave(self) -> None:
        # Marked first: leaving a private room also closes this page's view (MemberLeft), which
        # must not navigate a second time (and lose the list's first load) when this one does.
        self.leaving = True
        leaving = self._context.db.run(rooms.leave_room, slug=self.room.slug, guest_id=self.me)
        if await attempt("The room", leaving, failed="could not be left"):
            ui.navigate.to("/")
        else:
            self.leaving = False

    def row_actions(self) -> RowActions:
        """Owners delete any message and remove its author; everyone deletes their own."""
        return RowActions(
            may_delete=lambda message: self.is_owner or message.author.id == self.me,
            may_remove=lambda message: self.is_owner and message.author.id != self.me,
            delete=self.delete_message,
            remove_author=self.remove_author,
            may_edit=lambda message: message.author.id == self.me,
            edit=self.start_edit,
            reply=self.start_reply,
            react=self.open_picker,
            toggle_reaction=self.toggle_reaction,
        )


def gone_words(room_name: str) -> str:
    """Why a private room's page closed when the reader may no longer read it (they left it
    elsewhere, or were removed): its own reason would tell nothing new, and a deletion looks the same."""
    return f"You are no longer a member of {room_name}."


async def attempt(
    what: str, call: Awaitable[object], *, name_the_refusal: bool = False, failed: str = "could not be sent"
) -> bool:
    """Await a service call; if it is refused or fails, say why in a notice and return False."""
    try:
        await call
    except ServiceError as error:
        notify(f"{what}: {error.detail}" if name_the_refusal else sentence(error.detail), type="negative")
    except DATABASE_DOWN as error:
        log.warning("%s %s: %s", what, failed, str(error).splitlines()[0])
        notify(f"{what} {failed}: the server cannot reach its database.", type="negative")
    except Exception:
        log.exception("%s %s", what, failed)
        notify(f"{what} {failed}. Please try again.", type="negative")
    else:
        return True
    return False
