"""Read positions: what each member has read of each room, and how much is unread.

A member's position is `Membership.last_read_id`, the newest message id they have read there; the
messages of others after it are unread. It only ever moves forward. Two ways move it:

- `mark_read` (the API's POST /rooms/{slug}/read): one transaction, answered with the room.
- `ReadMarks.note` (the pages, which see the reader at the bottom of the history): kept in memory
  and written every ~2 s in one transaction for all of them, so hundreds of readers at the bottom
  of a busy room cost one commit per interval, not one per message per viewer.

Either way, the guest's pages hear a ReadMarked on their guest channel with the new unread count.
"""

import logging

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from models.message import Message
from models.room import Membership, Room, RoomState
from services.database import DATABASE_DOWN, Database, send_event_on_commit
from services.errors import Forbidden
from services.events import ReadMarked
from services.periodic import Periodic
from services.rooms import room_by_slug, room_state, rooms_of, unread_counts, with_unread

log = logging.getLogger(__name__)
FLUSH_SECONDS = 2.0  # how often the pages' read marks are written


def mark_read(*, session: Session, room_slug: str, guest_id: int, last_read_id: int) -> RoomState:
    """Everything up to `last_read_id` is read for the guest (an id past the room's newest message
    means all of it). Members only. A position never moves back: marking an older id changes
    nothing. Reading is not writing: a banned guest may still read, so this is no check_may_write."""
    room = room_by_slug(session, room_slug)
    assert room.id is not None
    if session.get(Membership, (room.id, guest_id)) is None:
        raise Forbidden("only members of a room have a read position in it: join it first")
    newest = _newest_id(session, room.id)
    _move_forward(session, room=room, guest_id=guest_id, target=min(last_read_id, newest), newest=newest)
    state = room_state(session, room)
    return state.model_copy(update={"unread": _unread(session, room_id=room.id, guest_id=guest_id)})


def apply_read_marks(*, session: Session, marks: dict[tuple[int, str], int]) -> int:
    """Move each (guest id, room slug) position forward to its id, in the caller's transaction;
    non-members and unknown rooms are skipped. Returns how many positions moved.

    Per room, whatever the number of readers: one query for the room, one for its newest message
    and one for the marked guests' memberships; then one UPDATE per position that moves (and a
    count of what is still unread only when the position stops short of the newest message). A
    busy room's hundreds of readers at the bottom cost a few queries a flush, not three each."""
    by_room: dict[str, dict[int, int]] = {}
    for (guest_id, room_slug), message_id in marks.items():
        by_room.setdefault(room_slug, {})[guest_id] = message_id
    rooms = session.exec(select(Room).where(col(Room.slug).in_(by_room))).all()
    moved = 0
    for room in rooms:
        assert room.id is not None
        wanted = by_room[room.slug]
        newest = _newest_id(session, room.id)
        positions = session.exec(
            select(Membership.guest_id, Membership.last_read_id).where(
                col(Membership.room_id) == room.id, col(Membership.guest_id).in_(wanted)
            )
        ).all()
        for guest_id, last_read_id in positions:
            target = min(wanted[guest_id], newest)
            if target > last_read_id and _move_forward(
                session, room=room, guest_id=guest_id, target=target, newest=newest
            ):
                moved += 1
    return moved


def my_rooms(*, session: Session, guest_id: int) -> list[RoomState]:
    """The rooms the guest belongs to (private ones too), most recent activity first, `unread` filled."""
    return with_unread(session, rooms_of(session, guest_id=guest_id), reader_id=guest_id)


def _move_forward(session: Session, *, room: Room, guest_id: int, target: int, newest: int) -> bool:
    """The one UPDATE: only forward, to `target`, never past `newest`, the room's newest message
    (ids are global, so a position past it would swallow messages still to come). Queues
    ReadMarked when it moved, with what is still unread: nothing, at the newest message."""
    assert room.id is not None
    result = session.exec(  # type: ignore[call-overload]
        update(Membership)
        .where(
            col(Membership.room_id) == room.id,
            col(Membership.guest_id) == guest_id,
            col(Membership.last_read_id) < target,
        )
        .values(last_read_id=target)
    )
    if not result.rowcount:
        return False
    unread = 0 if target >= newest else _unread(session, room_id=room.id, guest_id=guest_id)
    send_event_on_commit(session, ReadMarked(guest_id=guest_id, room=room.slug, last_read_id=target, unread=unread))
    return True


def _newest_id(session: Session, room_id: int) -> int:
    newest = session.exec(select(func.max(Message.id)).where(Message.room_id == room_id)).first()
    return int(newest or 0)


def _unread(session: Session, *, room_id: int, guest_id: int) -> int:
    return unread_counts(session, guest_id=guest_id, room_ids=[room_id]).get(room_id, 0)


class ReadMarks:
    """The pages' read marks, batched: `note` keeps the highest id per (guest, room) in memory, and
    a task writes them every `interval` seconds in one transaction. A failed write (the database
    down) keeps them for the next try; the last ones are written when the app stops."""

    def __init__(self, db: Database, *, interval: float = FLUSH_SECONDS) -> None:
        self.db = db
        self.interval = interval
        self._pending: dict[tuple[int, str], int] = {}
        # Never dies on a failure: read marks would silently stop being written.
        self._flusher = Periodic(
            self.flush, interval=interval, name="read-marks", log=log, failure="writing read marks failed"
        )

    def note(self, guest_id: int, room_slug: str, message_id: int) -> None:
        """The guest has seen `message_id` in the room. Never blocks: it is written with the next flush."""
        key = (guest_id, room_slug)
        if message_id > self._pending.get(key, 0):
            self._pending[key] = message_id

    async def start(self) -> None:
        self._flusher.start()

    async def stop(self) -> None:
        await self._flusher.stop()
        await self.flush()

    async def flush(self) -> int:
        """Write what was noted since the last flush; how many positions moved (0 when it failed)."""
        if not self._pending:
            return 0
        marks, self._pending = self._pending, {}
        try:
            return await self.db.run(apply_read_marks, marks=marks)
        except DATABASE_DOWN as error:
            for key, message_id in marks.items():  # keep them, unless something newer came meanwhile
                self._pending[key] = max(message_id, self._pending.get(key, 0))
            log.warning("read marks not saved, kept for the next try: %s", str(error).splitlines()[0])
            return 0


# Added by U3 (the room page's unread divider); B2 owns the rest of this module.


def read_position(*, session: Session, room_slug: str, guest_id: int) -> int | None:
    """The guest's `last_read_id` in the room, or None when they are not a member (or the room is
    unknown): a room page opens with its unread divider after that message."""
    row = session.exec(
        select(Membership.last_read_id)
        .join(Room, col(Room.id) == col(Membership.room_id))
        .where(Room.slug == room_slug, Membership.guest_id == guest_id)
    ).first()
    return None if row is None else int(row)
