"""Guest identity: generated names, renames, and bearer tokens (only their hashes are stored)."""

import hashlib
import secrets

from sqlmodel import Session, select

from models.guest import DISPLAY_NAME_MAX, Guest, GuestPublic, GuestWithToken
from services.audit import ADMIN, Actor, record
from services.errors import Forbidden, NotFound
from services.text import checked_text


def generate_display_name() -> str:
    return f"Guest {secrets.randbelow(9000) + 1000}"


def validate_display_name(raw: str) -> str:
    return checked_text(raw, what="display name", max_length=DISPLAY_NAME_MAX, single_line=True)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_guest(*, session: Session, display_name: str | None = None) -> GuestWithToken:
    name = validate_display_name(display_name) if display_name is not None else generate_display_name()
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
    name = validate_display_name(display_name)
    guest = session.get(Guest, guest_id)
    if guest is None:
        raise NotFound(f"no guest with id {guest_id}")
    if by is ADMIN:
        record(
            session, by=by, action="guest.rename", target=f"guest:{guest_id}", detail=f"{guest.display_name} -> {name}"
        )
    guest.display_name = name
    session.add(guest)
    return _public(guest)


def _public(guest: Guest) -> GuestPublic:
    assert guest.id is not None
    return GuestPublic(id=guest.id, display_name=guest.display_name)


def guest_for_browser(*, session: Session, token: str) -> GuestPublic:
    """The guest a browser's token names, created with a generated name on its first visit.

    The browser invents the token (the signed cookie must be written before the page's first
    await, and so before any database call), so the first request with it creates the guest.
    """
    guest = guest_for_token(session=session, token=token)
    if guest is not None:
        return guest
    created = Guest(display_name=generate_display_name(), token_hash=hash_token(token))
    session.add(created)
    session.flush()
    return _public(created)


def new_token() -> str:
    return secrets.token_urlsafe(32)
