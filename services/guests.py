"""Guest identity: generated names, renames, and bearer tokens (only their hashes are stored)."""

import hashlib
import secrets

from sqlalchemy import or_
from sqlmodel import Session, col, select

from models.guest import DISPLAY_NAME_MAX, Guest, GuestPublic, GuestWithToken
from models.message import Message
from models.room import Membership, Room
from services.audit import ADMIN, Actor, record
from services.database import send_event_on_commit
from services.errors import Forbidden, NotFound
from services.events import GuestRenamed
from services.rate_limit import NoLimit, RateLimiter
from services.text import checked_text

NO_LIMIT = NoLimit()
# Where a browser keeps its guest token: NiceGUI's signed session cookie (app.storage.browser, the
# request's session). The pages write it; the API's reads (media, export) recognise a browser by it.
BROWSER_TOKEN_KEY = "guest_token"


def generate_display_name() -> str:
    return f"Guest {secrets.randbelow(9000) + 1000}"


def validate_display_name(raw: str) -> str:
    return checked_text(raw, what="display name", max_length=DISPLAY_NAME_MAX, single_line=True)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_guest_key(address: str) -> str:
    """The bucket of guests created from one client address (CHAT_GUEST_RATE_LIMIT)."""
    return f"new-guest:{address}"


def create_guest(
    *, session: Session, display_name: str | None = None, address: str = "unknown", limiter: RateLimiter = NO_LIMIT
) -> GuestWithToken:
    """A new guest. `limiter` bounds how many one client address may create: otherwise a banned
    guest would simply mint another identity."""
    name = validate_display_name(display_name) if display_name is not None else generate_display_name()
    limiter.hit(new_guest_key(address))  # after validation: a typo costs no token
    token = secrets.token_urlsafe(32)
    guest = Guest(display_name=name, token_hash=hash_token(token))
    session.add(guest)
    session.flush()
    assert guest.id is not None
    return GuestWithToken(id=guest.id, display_name=guest.display_name, token=token)


def guest_for_token(*, session: Session, token: str) -> GuestPublic | None:
    if not token or len(token) > 200:
        return None
    guest = session.exec(select(Guest).where(Guest.token_hash == hash_token(token))).first()
    return _public(guest) if guest else None


def get_guest(*, session: Session, guest_id: int) -> GuestPublic:
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    return _public(guest)


def rename_guest(*, session: Session, guest_id: int, display_name: str, by: Actor) -> GuestPublic:
    """A guest renames themself, or an admin renames them (say, a name that offends: audited)."""
    if by is not ADMIN and by != guest_id:
        raise Forbidden("only an admin can rename another guest")
    if by is not ADMIN:
        check_may_write(session, guest_id)
    name = validate_display_name(display_name)
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    if by is ADMIN:
        record(
            session, by=by, action="guest.rename", target=f"guest:{guest_id}", detail=f"{guest.display_name} -> {name}"
        )
    renamed = guest.display_name != name
    guest.display_name = name
    session.add(guest)
    public = _public(guest)
    if renamed:
        send_event_on_commit(session, GuestRenamed(guest=public, rooms=_rooms_shown_in(session, guest_id)))
    return public


def _rooms_shown_in(session: Session, guest_id: int) -> list[str]:
    """The rooms whose views may show the guest's name: those they belong to or have written in."""
    member_of = select(Membership.room_id).where(Membership.guest_id == guest_id)
    wrote_in = select(Message.room_id).where(Message.author_id == guest_id).distinct()
    query = select(Room.slug).where(or_(col(Room.id).in_(member_of), col(Room.id).in_(wrote_in)))
    return list(session.exec(query).all())


def check_may_write(session: Session, guest_id: int) -> Guest:
    """The guest, if they may change anything (post, create or join rooms, rename themself, delete,
    moderate their room, ...); else Forbidden. Every write a guest makes calls this first, so a ban
    holds for actions added later too. Reading stays open to banned guests."""
    guest = session.get(Guest, guest_id)
    if guest is None:
        # The page's read-only visitor (identity.py), whose guest could not be created yet.
        raise Forbidden("you have no guest identity yet, so you can read but not write; reload the page later")
    if guest.banned_at is not None:
        raise Forbidden("you have been banned: you can still read, but not post or change anything")
    return guest


def _public(guest: Guest) -> GuestPublic:
    assert guest.id is not None
    return GuestPublic(id=guest.id, display_name=guest.display_name)


def guest_for_browser(
    *, session: Session, token: str, address: str = "unknown", limiter: RateLimiter = NO_LIMIT
) -> GuestPublic:
    """The guest a browser's token names, created with a generated name on its first visit.

    The browser invents the token (the signed cookie must be written before the page's first
    await, and so before any database call), so the first request with it creates the guest; that
    creation counts against the client address's budget (RateLimited when it is spent).
    """
    guest = guest_for_token(session=session, token=token)
    if guest is not None:
        return guest
    limiter.hit(f"new-browser-guest:{address}")  # a bucket apart from the API's (see Settings.browser_guest_rate)
    created = Guest(display_name=generate_display_name(), token_hash=hash_token(token))
    session.add(created)
    session.flush()
    return _public(created)


def new_token() -> str:
    return secrets.token_urlsafe(32)
