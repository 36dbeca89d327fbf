"""Invitations (CONTRACT §7): links that join whoever opens them to a room, until they expire
(INVITE_LIFETIME after they were made) or are revoked.

Any member may make one; any number of guests may use one. To everyone else an unknown, revoked or
expired code looks the same (UNUSABLE), so that nothing can be learnt by trying codes. Run each
action with `Database.run` (accepting announces the new member count once it has committed).
"""

import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, update
from sqlmodel import Session, col, select

from models.base import utcnow
from models.guest import Guest, GuestPublic
from models.invite import (
    INVITE_CODE_BYTES,
    INVITE_CODE_MAX,
    INVITE_CODE_PATTERN,
    INVITE_LIFETIME,
    INVITE_PAGE_DEFAULT,
    INVITE_PAGE_MAX,
    LIVE_INVITES_PER_CREATOR,
    Invite,
    InviteAccepted,
    InviteListed,
    InvitePublic,
)
from models.room import Membership, Room
from services import access, rooms
from services.audit import record
from services.client_address import Network, is_https
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.guests import check_may_write

# The same words for a code that never existed, one revoked and one expired: on purpose.
UNUSABLE = "this invitation is unknown, expired or revoked"
# The invite dialog shows a link again while it has at least this long left: one shared now still works tomorrow.
REUSED_FOR = timedelta(days=1)
_CODE = re.compile(INVITE_CODE_PATTERN.strip("^$"))


def site_address(
    *, base_url: str, peer: str | None, headers: Mapping[str, str], trusted: Sequence[Network], public_url: str | None
) -> str:
    """Where people reach the site, for links made from a request: CHAT_PUBLIC_URL when it is set;
    else the address the request came to (its Host), as https when it came over TLS or a trusted
    proxy says it terminated TLS (deploy/nginx passes Host and X-Forwarded-Proto)."""
    if public_url:
        return public_url.rstrip("/")
    scheme, _, rest = base_url.partition("://")
    secure = is_https(scheme, peer, headers, trusted, None)
    return f"{'https' if secure else scheme}://{rest}".rstrip("/")


def invite_url(site: str, code: str) -> str:
    return f"{site}/invite/{code}"


def create_invite(*, session: Session, slug: str, by: int, site: str) -> InvitePublic:
    """A new link to the room, valid for INVITE_LIFETIME. Members only: to anyone else a private
    room does not exist (404), and a public room says to join first (403)."""
    return _new_invite(session, _room_to_invite_to(session, slug, by), by, site)


def current_invite(*, session: Session, slug: str, by: int, site: str) -> InvitePublic:
    """The guest's newest live link to the room if it has at least REUSED_FOR left, else a new one:
    what the invite dialog shows when it opens. Each page view makes a dialog, so making a link
    every time would fill the owner's list with links nobody shared and soon reach
    LIVE_INVITES_PER_CREATOR. One transaction, the room's row locked: two pages opening at once
    get the same link."""
    room = _room_to_invite_to(session, slug, by)
    newest = session.exec(
        select(Invite)
        .where(Invite.room_id == room.id, Invite.created_by == by, _live(utcnow() + REUSED_FOR))
        .order_by(col(Invite.id).desc())
        .limit(1)
    ).first()
    if newest is not None:
        return InvitePublic(code=newest.code, url=invite_url(site, newest.code), expires_at=newest.expires_at)
    return _new_invite(session, room, by, site)


def _room_to_invite_to(session: Session, slug: str, by: int) -> Room:
    check_may_write(session, by)
    room = access.readable_room(session, slug, by, for_update=True)  # locked: see rooms.room_by_slug
    if session.get(Membership, (room.id, by)) is None:
        raise Forbidden("join the room to invite people")
    return room


def _new_invite(session: Session, room: Room, by: int, site: str) -> InvitePublic:
    now = utcnow()
    live = session.exec(
        select(func.count()).where(Invite.room_id == room.id, Invite.created_by == by, _live(now))
    ).one()
    if live >= LIVE_INVITES_PER_CREATOR:
        raise Conflict(
            f"you have {live} live invitation links to this room already: revoke one or wait until one expires"
        )
    assert room.id is not None
    invite = Invite(
        code=secrets.token_urlsafe(INVITE_CODE_BYTES),
        room_id=room.id,
        created_by=by,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
    )
    session.add(invite)
    session.flush()
    return InvitePublic(code=invite.code, url=invite_url(site, invite.code), expires_at=invite.expires_at)


def accept_invite(*, session: Session, code: str, guest_id: int) -> InviteAccepted:
    """Join the invitation's room; a member already stays one (accepting twice is fine). Refused
    like posting to a banned guest and to one a moderator removed from the room (403)."""
    check_may_write(session, guest_id)
    invite = _usable_invite(session, code)
    # The room's row locked, as join_room does: a deletion meanwhile is a clear 404, not a foreign-key error.
    room = session.exec(select(Room).where(Room.id == invite.room_id).with_for_update()).first()
    if room is None:
        raise NotFound(UNUSABLE)
    rooms.check_not_removed(session, room, guest_id)
    joined = session.get(Membership, (room.id, guest_id)) is None
    if joined:
        assert room.id is not None
        rooms.ensure_membership(session, room_id=room.id, guest_id=guest_id)
        state = rooms.room_updated(session, room)  # open pages show the new member count
    else:
        state = rooms.room_state(session, room)
    return InviteAccepted(room=rooms.with_unread(session, [state], reader_id=guest_id)[0], joined=joined)


def list_invites(
    *, session: Session, slug: str, by: int, site: str, limit: int = INVITE_PAGE_DEFAULT, before: str | None = None
) -> list[InviteListed]:
    """The room's live links, newest first, for its owner; `before` (a code from the previous page)
    pages on. One query, with who made each."""
    if not 1 <= limit <= INVITE_PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {INVITE_PAGE_MAX}")
    room = access.readable_room(session, slug, by)
    if room.owner_id != by:
        raise Forbidden("only the room's owner can see its invitation links")
    statement = (
        select(Invite, Guest)
        .outerjoin(Guest, col(Guest.id) == Invite.created_by)
        .where(Invite.room_id == room.id, _live(utcnow()))
    )
    if before is not None:
        statement = statement.where(col(Invite.id) < _cursor_id(session, room, before))
    rows = session.exec(statement.order_by(col(Invite.id).desc()).limit(limit)).all()
    return [_listed(invite, creator, site) for invite, creator in rows]


def revoke_invite(*, session: Session, slug: str, code: str, by: int) -> None:
    """The room's owner or the link's creator ends a link at once; revoking twice is fine."""
    check_may_write(session, by)
    room = access.readable_room(session, slug, by)
    invite = _invite_of(session, room, code)
    if invite is None:
        raise NotFound(f"no invitation {code!r} in this room")
    if by not in (room.owner_id, invite.created_by):
        raise Forbidden("only the room's owner or the link's creator can revoke it")
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        session.add(invite)
        record(
            session,
            by=by,
            action="invite.revoke",
            target=f"room:{room.slug}",
            detail=f"made by guest:{invite.created_by}",
        )


def revoke_invites_of(session: Session, *, room_id: int, guest_id: int) -> int:
    """End every live link `guest_id` made to the room (a moderator removed them: the links they
    shared must not keep bringing people in on their behalf); how many. One UPDATE, in the
    caller's transaction."""
    now = utcnow()
    ended = session.exec(  # type: ignore[call-overload]
        update(Invite)
        .where(col(Invite.room_id) == room_id, col(Invite.created_by) == guest_id, _live(now))
        .values(revoked_at=now)
    )
    return int(ended.rowcount or 0)


def _live(now: datetime) -> Any:
    return and_(col(Invite.revoked_at).is_(None), col(Invite.expires_at) > now)


def _usable_invite(session: Session, code: str) -> Invite:
    invite = None
    if _well_formed(code):
        invite = session.exec(select(Invite).where(Invite.code == code, _live(utcnow()))).first()
    if invite is None:
        raise NotFound(UNUSABLE)
    return invite


def _invite_of(session: Session, room: Room, code: str) -> Invite | None:
    if not _well_formed(code):
        return None
    return session.exec(select(Invite).where(Invite.code == code, Invite.room_id == room.id)).first()


def _cursor_id(session: Session, room: Room, before: str) -> int:
    invite = _invite_of(session, room, before)
    if invite is None or invite.id is None:
        raise InvalidInput("before must be the code of the last invitation of the previous page")
    return invite.id


def _well_formed(code: str) -> bool:
    return len(code) <= INVITE_CODE_MAX and _CODE.fullmatch(code) is not None


def _listed(invite: Invite, creator: Guest | None, site: str) -> InviteListed:
    return InviteListed(
        code=invite.code,
        url=invite_url(site, invite.code),
        expires_at=invite.expires_at,
        created_at=invite.created_at,
        created_by=None
        if creator is None or creator.id is None
        else GuestPublic(id=creator.id, display_name=creator.display_name),
    )
