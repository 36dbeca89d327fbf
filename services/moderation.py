"""Moderation: admins (with the admin token) and room owners keep rooms healthy.

Every action takes `by` (services/audit.py): ADMIN, or the id of the guest acting, who must own
the room (or, to delete a message, have written it). Each one checks, writes, records itself in
the audit log and queues its event, all in the caller's transaction: run it with `Database.run`,
which publishes the event once the transaction has committed.
"""

from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.base import utcnow
from models.guest import Guest, GuestPublic
from models.image import Image
from models.message import Message
from models.room import Room, RoomRemoval, RoomState, RoomUpdate
from services import guests, invites, rooms
from services.audit import ADMIN, Actor, actor_name, record
from services.database import run_after_commit, send_event_on_commit
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.events import GuestRemoved, MessageDeleted, RoomDeleted
from services.media import MediaStore


def moderated_room(session: Session, slug: str, by: Actor) -> Room:
    """The room, if `by` may moderate it: an admin, or the guest who created it (unless banned).
    Its row is locked for the rest of the transaction: a removal racing the room's deletion
    then answers 404 instead of failing on a foreign key."""
    if by is not ADMIN:
        guests.check_may_write(session, by)
    room = rooms.room_by_slug(session, slug, for_update=True)
    if by is not ADMIN and room.owner_id != by:
        raise Forbidden("only the room's owner or an admin can do that")
    return room


def lock_room(*, session: Session, slug: str, by: Actor) -> RoomState:
    """Make the room read-only: everyone can read it, nobody can post in it."""
    return _set_locked(session, slug, locked=True, by=by)


def unlock_room(*, session: Session, slug: str, by: Actor) -> RoomState:
    """Undo a lock; what an admin locked, only an admin unlocks."""
    return _set_locked(session, slug, locked=False, by=by)


def _set_locked(session: Session, slug: str, *, locked: bool, by: Actor) -> RoomState:
    room = moderated_room(session, slug, by)
    if room.locked_at is not None and room.locked_by == actor_name(ADMIN) and by is not ADMIN:
        if not locked:
            raise Forbidden("an admin locked this room: only an admin can unlock it")
        return rooms.room_state(session, room)  # locked already, and it stays the admin's lock
    room.locked_at = (room.locked_at or utcnow()) if locked else None
    room.locked_by = actor_name(by) if locked else None
    session.add(room)
    record(session, by=by, action="room.lock" if locked else "room.unlock", target=f"room:{slug}")
    return rooms.room_updated(session, room)


def edit_room(*, session: Session, slug: str, update: RoomUpdate, by: Actor) -> RoomState:
    """Rename a room or change its description. Its address (slug) stays: links keep working."""
    room = moderated_room(session, slug, by)
    changes = []
    if update.name is not None:
        name = rooms.validate_room_name(update.name)
        key = rooms.name_key(name)
        if session.exec(select(Room.id).where(Room.name_key == key, Room.id != room.id)).first() is not None:
            raise Conflict(f"a room named {name!r} exists already")
        changes.append(f"name: {room.name} -> {name}")
        room.name, room.name_key = name, key
    if update.description is not None:
        room.description = rooms.validate_description(update.description)
        changes.append("description")
    if not changes:
        raise InvalidInput("nothing to change: give a name or a description")
    session.add(room)
    try:
        session.flush()
    except IntegrityError:  # another rename took the same name a moment ago
        raise Conflict(f"a room named {update.name!r} exists already") from None
    record(session, by=by, action="room.edit", target=f"room:{slug}", detail="; ".join(changes))
    return rooms.room_updated(session, room)


def delete_message(*, session: Session, message_id: int, by: Actor, room_slug: str | None = None) -> None:
    """Mark the message deleted (its id is never reused or paged again); its author may do it too.
    With `room_slug`, a message of another room is not found."""
    row = session.exec(
        select(Message, Room).join(Room, col(Room.id) == Message.room_id).where(Message.id == message_id)
    ).first()
    if row is None or row[0].deleted_at is not None or room_slug not in (None, row[1].slug):
        raise NotFound(f"no message {message_id}" + (f" in {room_slug!r}" if room_slug else ""))
    message, room = row
    if by is not ADMIN and by not in (room.owner_id, message.author_id):
        raise Forbidden("only its author, the room's owner or an admin can delete a message")
    if by is not ADMIN:
        guests.check_may_write(session, by)
    message.deleted_at = utcnow()
    session.add(message)
    record(session, by=by, action="message.delete", target=f"message:{message_id}", detail=message.text[:200])
    send_event_on_commit(session, MessageDeleted(room=room.slug, message_id=message_id))


def delete_room(*, session: Session, media: MediaStore, slug: str, by: Actor) -> None:
    """Delete the room with its messages, memberships and images; the image files go once that
    has committed (and if removing one fails, the room is still gone and announced)."""
    if by is not ADMIN:
        raise Forbidden("only an admin can delete a room")
    room = rooms.room_by_slug(session, slug)
    images = session.exec(
        select(Image).join(Message, col(Message.image_id) == Image.id).where(Message.room_id == room.id)
    ).all()
    keys = [key for image in images for key in (image.key, image.thumbnail_key)]
    session.delete(room)  # messages, memberships and removals go with it (ON DELETE CASCADE)
    session.flush()
    for image in images:
        session.delete(image)
    record(session, by=by, action="room.delete", target=f"room:{slug}", detail=room.name)
    send_event_on_commit(session, RoomDeleted(room=slug))
    if keys:
        run_after_commit(session, partial(_delete_files, media, keys), what=f"deleting the images of room {slug!r}")


def remove_guest_from_room(*, session: Session, slug: str, guest_id: int, by: Actor) -> RoomState:
    """Take a guest out of a room: they can still read a public one (a private one no more), but not
    post in it or join it again; the invitation links they made to it end; their open views of it
    close."""
    room = moderated_room(session, slug, by)
    if guest_id == room.owner_id:
        raise InvalidInput("the room's owner cannot be removed from it")
    guests.get_guest(session=session, guest_id=guest_id)  # 404 for a guest who does not exist
    rooms.insert_unless_present(  # removed already: the first removal (and who made it) stands
        session, RoomRemoval, room_id=room.id, guest_id=guest_id, removed_at=utcnow(), removed_by=actor_name(by)
    )
    rooms.remove_membership(session, room=room, guest_id=guest_id)
    assert room.id is not None
    revoked = invites.revoke_invites_of(session, room_id=room.id, guest_id=guest_id)
    detail = f"guest:{guest_id}" + (f"; {revoked} invitation links revoked" if revoked else "")
    record(session, by=by, action="room.remove_guest", target=f"room:{slug}", detail=detail)
    send_event_on_commit(session, GuestRemoved(room=slug, guest_id=guest_id))
    return rooms.room_updated(session, room)


def readmit_guest(*, session: Session, slug: str, guest_id: int, by: Actor) -> RoomState:
    """Undo a removal: the guest may post in the room and join it again."""
    room = moderated_room(session, slug, by)
    removal = session.get(RoomRemoval, (room.id, guest_id))
    if removal is None:
        raise NotFound(f"guest {guest_id} was not removed from {slug!r}")
    if removal.removed_by == actor_name(ADMIN) and by is not ADMIN:
        raise Forbidden("an admin removed this guest: only an admin can let them back in")
    session.delete(removal)
    record(session, by=by, action="room.readmit_guest", target=f"room:{slug}", detail=f"guest:{guest_id}")
    return rooms.room_state(session, room)


def ban_guest(*, session: Session, guest_id: int, by: Actor) -> GuestPublic:
    """A banned guest can read every room but post in none."""
    return _set_banned(session, guest_id, banned=True, by=by)


def unban_guest(*, session: Session, guest_id: int, by: Actor) -> GuestPublic:
    return _set_banned(session, guest_id, banned=False, by=by)


def _set_banned(session: Session, guest_id: int, *, banned: bool, by: Actor) -> GuestPublic:
    if by is not ADMIN:
        raise Forbidden("only an admin can ban a guest")
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    guest.banned_at = (guest.banned_at or utcnow()) if banned else None
    session.add(guest)
    record(session, by=by, action="guest.ban" if banned else "guest.unban", target=f"guest:{guest_id}")
    return guests.get_guest(session=session, guest_id=guest_id)


def _delete_files(media: MediaStore, keys: list[str]) -> None:
    """Every file is tried; the first failure is raised after the rest were."""
    failure: Exception | None = None
    for key in keys:
        try:
            media.delete(key)
        except Exception as error:
            failure = failure or error
    if failure is not None:
        raise failure
