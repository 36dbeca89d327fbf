"""Abuse (#13) in the services, on SQLite and PostgreSQL: a removal or a join racing the room's
deletion is a 404, not a foreign-key error; a ban is enforced by the services themselves. (Async
tests live apart from tests/test_abuse.py: its Playwright browser holds the event loop.)"""

import asyncio
import time
from functools import partial

import pytest
from sqlalchemy import text

from services import guests, moderation, rooms
from services.audit import ADMIN
from services.backoff import (
    FIRST_DELAY,
    FREE_FAILURES,
    FailureBackoff,
    MemoryBackoff,
    RedisBackoff,
    TooManyFailures,
    secret_matches,
)
from services.database import Database
from services.errors import Forbidden, NotFound
from tests.support import unique

# The race of #13: an admin removal while the room is being deleted answered 500 (a foreign key).


# PostgreSQL only: SQLite lets one writer in at a time, so there the race cannot happen.
@pytest.mark.parametrize("migrated_database", ["postgresql"], indirect=True)
async def test_a_removal_racing_the_rooms_deletion_is_a_404(db: Database) -> None:
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


@pytest.fixture(params=["memory", "redis"])
def backoffs(request: pytest.FixtureRequest) -> tuple[FailureBackoff, FailureBackoff]:
    """Two views of one back-off: two instances sharing Redis, or one process's memory."""
    if request.param == "memory":
        memory = MemoryBackoff()
        return memory, memory
    url, prefix = request.getfixturevalue("redis_url"), unique("backoff")
    return RedisBackoff(url, prefix=prefix), RedisBackoff(url, prefix=prefix)


def test_wrong_secrets_shut_an_address_out_on_every_instance(backoffs: tuple[FailureBackoff, FailureBackoff]) -> None:
    one, two = backoffs
    attempt = partial(secret_matches, expected="the-secret", address="192.0.2.1")
    for _ in range(FREE_FAILURES):  # typos are answered at once
        assert attempt(given="typo", backoff=one) is False
    assert attempt(given="guess", backoff=two) is False  # one too many: shut out, on both instances
    for backoff in (one, two):
        with pytest.raises(TooManyFailures) as refused:
            attempt(given="the-secret", backoff=backoff)  # even the right secret waits
        assert refused.value.status_code == 429 and refused.value.retry_after >= 1
    assert attempt(given="the-secret", backoff=one, address="192.0.2.2") is True  # another address is free
    time.sleep(FIRST_DELAY + 0.05)
    assert attempt(given="the-secret", backoff=two) is True  # the shut-out ended, and the count is cleared
    for _ in range(FREE_FAILURES):
        assert attempt(given="typo", backoff=one) is False
