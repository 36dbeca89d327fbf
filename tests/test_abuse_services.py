"""Abuse (#13) in the services, on SQLite and PostgreSQL: a removal or a join racing the room's
deletion is a 404, not a foreign-key error; a ban is enforced by the services themselves. (Async
tests live apart from tests/test_abuse.py: its Playwright browser holds the event loop.)"""

import asyncio

import pytest
from sqlalchemy import text

from services import guests, moderation, rooms
from services.audit import ADMIN
from services.database import Database
from services.errors import Forbidden, NotFound

# The race of #13: an admin removal while the room is being deleted answered 500 (a foreign key).


async def test_a_removal_racing_the_rooms_deletion_is_a_404(db: Database) -> None:
    if db.dialect == "sqlite":
        pytest.skip("SQLite lets one writer at a time in: the race needs PostgreSQL's concurrent transactions")
    owner = (await db.run(guests.create_guest, display_name="Owner")).id
    member = (await db.run(guests.create_guest, display_name="Member")).id
    joiner = (await db.run(guests.create_guest, display_name="Joiner")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Doomed")
    await db.run(rooms.join_room, slug=room.slug, guest_id=member)
    with db.engine.connect() as deleting:
        deleting.execute(text("DELETE FROM room WHERE id = :id"), {"id": room.id})  # not committed yet
        removal = asyncio.create_task(
            db.run(moderation.remove_guest_from_room, slug=room.slug, guest_id=member, by=ADMIN)
        )
        joining = asyncio.create_task(db.run(rooms.join_room, slug=room.slug, guest_id=joiner))
        await asyncio.sleep(0.5)
        assert not removal.done() and not joining.done()  # both wait for the deletion to finish
        deleting.commit()
    for racer in (removal, joining):
        with pytest.raises(NotFound):
            await asyncio.wait_for(racer, timeout=10)


async def test_banned_guests_are_refused_by_the_services_themselves(db: Database) -> None:
    """The check sits in the services, so the page and the API (and actions added later) share it."""
    owner = (await db.run(guests.create_guest, display_name="Owner")).id
    room = await db.run(rooms.create_room, owner_id=owner, name="Owned")
    await db.run(moderation.ban_guest, guest_id=owner, by=ADMIN)
    refused = [
        db.run(rooms.create_room, owner_id=owner, name="Another"),
        db.run(rooms.join_room, slug=room.slug, guest_id=owner),
        db.run(guests.rename_guest, guest_id=owner, display_name="Sneaky", by=owner),
        db.run(moderation.lock_room, slug=room.slug, by=owner),
    ]
    for call in refused:
        with pytest.raises(Forbidden, match="banned"):
            await call
    renamed = await db.run(guests.rename_guest, guest_id=owner, display_name="Renamed", by=ADMIN)
    assert renamed.display_name == "Renamed"  # an admin still may
