"""Presence: who has a room open in a page, on any instance.

Ephemeral (ARCHITECTURE, "As the product grows"): it lives beside the bus, never in the database.
Composed like the bus: a store only keeps entries with an expiry time (in process memory, or a
Redis sorted set per room shared by every instance), and the one `Presence` does the rest:

- Each entry is "<guest id>:<instance id>". A guest with several tabs on one instance is one entry
  with a local count, so they count once; on two instances, two entries, still one guest.
- Entries expire after `ttl` seconds (~30) unless refreshed. One heartbeat task per process
  refreshes all of its entries every `heartbeat` seconds (~10), so a crashed instance's viewers
  vanish on their own; leaving removes the entry at once.
- When the set of guests in a room changes, PresenceChanged (the whole list) goes out on the room's
  channel, so every instance's views replace theirs. Names are read from the database when the
  list is built (in a worker thread): a guest renamed since entering shows under the new name.

Presence is best-effort: a store that fails (Redis down) is logged, never raised into a page.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlmodel import Session, col, select

from models.guest import Guest, GuestPublic
from services.database import DATABASE_DOWN, Database
from services.errors import ServiceError
from services.events import PresenceChanged, room_channel
from services.periodic import Periodic

log = logging.getLogger(__name__)
TTL_SECONDS = 30.0
HEARTBEAT_SECONDS = 10.0


class PresenceUnavailable(ServiceError):
    status_code = 503


class PresenceStore(Protocol):
    async def refresh(self, room: str, members: Iterable[str], expires_at: float) -> None:
        """Add the members, or move their expiry to `expires_at`."""
        ...

    async def remove(self, room: str, member: str) -> None: ...

    async def live(self, room: str, now: float) -> tuple[list[str], int]:
        """The room's members that have not expired by `now`, and how many expired ones were dropped."""
        ...

    async def close(self) -> None: ...


class MemoryPresenceStore:
    """One process (or several Presence objects in one test, standing in for instances)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, float]] = {}

    async def refresh(self, room: str, members: Iterable[str], expires_at: float) -> None:
        entries = self._rooms.setdefault(room, {})
        for member in members:
            entries[member] = expires_at

    async def remove(self, room: str, member: str) -> None:
        entries = self._rooms.get(room, {})
        entries.pop(member, None)
        if not entries:
            self._rooms.pop(room, None)

    async def live(self, room: str, now: float) -> tuple[list[str], int]:
        entries = self._rooms.get(room, {})
        expired = [member for member, expires_at in entries.items() if expires_at <= now]
        for member in expired:
            del entries[member]
        return list(entries), len(expired)

    async def close(self) -> None:
        pass


class RedisPresenceStore:
    """A sorted set per room, `<prefix>:presence:<slug>`, members scored by their expiry time (Unix
    seconds: instances share it, so it is wall-clock time). Each call is one round trip."""

    def __init__(self, url: str, *, prefix: str = "chat", ttl: float = TTL_SECONDS) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self._client = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def key(self, room: str) -> str:
        return f"{self.prefix}:presence:{room}"

    async def refresh(self, room: str, members: Iterable[str], expires_at: float) -> None:
        scores = dict.fromkeys(members, expires_at)
        if not scores:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zadd(self.key(room), scores)
            pipe.expire(self.key(room), int(self.ttl * 2) + 1)  # a room nobody refreshes leaves no key behind
            await self._execute(pipe)

    async def remove(self, room: str, member: str) -> None:
        try:
            await self._client.zrem(self.key(room), member)
        except (RedisError, OSError) as error:
            raise PresenceUnavailable(f"presence is unavailable: Redis unreachable ({error})") from None

    async def live(self, room: str, now: float) -> tuple[list[str], int]:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(self.key(room), "-inf", now)
            pipe.zrange(self.key(room), 0, -1)
            dropped, members = await self._execute(pipe)
        return [member.decode() if isinstance(member, bytes) else member for member in members], int(dropped)

    async def close(self) -> None:
        await self._client.aclose()

    @staticmethod
    async def _execute(pipe: "aioredis.client.Pipeline") -> list:  # type: ignore[type-arg]
        try:
            return await pipe.execute()  # type: ignore[no-any-return]
        except (RedisError, OSError) as error:
            raise PresenceUnavailable(f"presence is unavailable: Redis unreachable ({error})") from None


def guests_named(*, session: Session, guest_ids: list[int]) -> list[GuestPublic]:
    """The guests with these ids as they are named now, by name (then id)."""
    if not guest_ids:
        return []
    rows = session.exec(
        select(Guest.id, Guest.display_name)
        .where(col(Guest.id).in_(guest_ids))
        .order_by(col(Guest.display_name), col(Guest.id))
    ).all()
    return [GuestPublic(id=guest_id, display_name=name) for guest_id, name in rows]


class Presence:
    """Who has each room open: `enter` when a page of the room opens, `leave` when it closes."""

    def __init__(
        self,
        store: PresenceStore,
        *,
        db: Database,
        instance_id: str,
        ttl: float = TTL_SECONDS,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.store, self.db, self.instance_id = store, db, instance_id
        self.ttl, self.heartbeat = ttl, heartbeat
        self._local: dict[str, Counter[int]] = {}  # room -> guest id -> open pages on this instance
        self._locks: dict[str, asyncio.Lock] = {}  # one room's enters and leaves take turns
        # Never dies on a failure: every entry of this instance would expire.
        self._heartbeat = Periodic(
            self.beat,
            interval=heartbeat,
            name="presence-heartbeat",
            log=log,
            failure="the presence heartbeat failed; carrying on",
        )

    async def enter(self, room_slug: str, guest: GuestPublic) -> None:
        async with self._lock(room_slug):
            pages = self._local.setdefault(room_slug, Counter())
            pages[guest.id] += 1
            if pages[guest.id] > 1:
                return  # another tab of theirs here: already counted
            with self._logged("entering"):
                before, dropped = await self._guest_ids(room_slug)
                await self.store.refresh(room_slug, [self._member(guest.id)], time.time() + self.ttl)
                if guest.id not in before or dropped:
                    await self._announce(room_slug)

    async def leave(self, room_slug: str, guest_id: int) -> None:
        async with self._lock(room_slug):
            pages = self._local.get(room_slug, Counter())
            if pages[guest_id] <= 0:
                return
            pages[guest_id] -= 1
            if pages[guest_id] > 0:
                return  # they still have it open in another tab here
            del pages[guest_id]
            if not pages:
                self._local.pop(room_slug, None)
            with self._logged("leaving"):
                await self.store.remove(room_slug, self._member(guest_id))
                after, dropped = await self._guest_ids(room_slug)
                if guest_id not in after or dropped:  # unless still there on another instance
                    await self._announce(room_slug)

    async def online(self, room_slug: str) -> list[GuestPublic]:
        """The guests with the room open on any instance, by name; PresenceUnavailable if the store
        cannot answer."""
        listed, dropped = await self._listing(room_slug)
        if dropped:  # whoever notices expired entries first tells the views: nobody else will
            await self._publish(room_slug, listed)
        return listed

    async def start(self) -> None:
        self._heartbeat.start()

    async def stop(self) -> None:
        """Take this instance's entries out at once (the others need not wait for them to expire)."""
        await self._heartbeat.stop()
        rooms, self._local = self._local, {}
        for room_slug, pages in rooms.items():
            with self._logged("stopping"):
                for guest_id in pages:
                    await self.store.remove(room_slug, self._member(guest_id))
                await self._announce(room_slug)
        await self.store.close()

    async def beat(self) -> None:
        """Refresh this instance's entries, and drop everyone's expired ones: a room whose list
        shrank that way (an instance that crashed) is announced."""
        for room_slug in list(self._local):
            async with self._lock(room_slug):  # a leave meanwhile must not be undone by a refresh
                await self._refresh_room(room_slug)

    async def _refresh_room(self, room_slug: str) -> None:
        with self._logged("refreshing"):
            now = time.time()
            members = [self._member(guest_id) for guest_id in self._local.get(room_slug, ())]
            await self.store.refresh(room_slug, members, now + self.ttl)
            _, dropped = await self.store.live(room_slug, now)
            if dropped:  # an instance stopped refreshing its entries: it crashed
                await self._announce(room_slug)

    async def _guest_ids(self, room_slug: str) -> tuple[set[int], int]:
        """The guests in the room, and how many expired entries were dropped on the way."""
        members, dropped = await self.store.live(room_slug, time.time())
        return {int(member.split(":", 1)[0]) for member in members}, dropped

    async def _listing(self, room_slug: str) -> tuple[list[GuestPublic], int]:
        guest_ids, dropped = await self._guest_ids(room_slug)
        return await self.db.run_read(guests_named, guest_ids=sorted(guest_ids)), dropped

    async def _announce(self, room_slug: str) -> None:
        listed, _ = await self._listing(room_slug)
        await self._publish(room_slug, listed)

    async def _publish(self, room_slug: str, online: list[GuestPublic]) -> None:
        event = PresenceChanged(room=room_slug, online=online)
        await self.db.bus.publish(room_channel(room_slug), event.model_dump(mode="json"))

    def _member(self, guest_id: int) -> str:
        return f"{guest_id}:{self.instance_id}"

    def _lock(self, room_slug: str) -> asyncio.Lock:
        if room_slug not in self._locks:
            if len(self._locks) > 10_000:  # forget the locks of rooms nobody here has open
                self._locks = {slug: lock for slug, lock in self._locks.items() if slug in self._local}
            self._locks[room_slug] = asyncio.Lock()
        return self._locks[room_slug]

    @contextlib.contextmanager
    def _logged(self, what: str) -> Iterator[None]:
        """Presence is best-effort: a failing store or database is one log line, not a broken page."""
        try:
            yield
        except (PresenceUnavailable, *DATABASE_DOWN) as error:
            log.warning("presence not updated while %s: %s", what, str(error).splitlines()[0])


def make_presence(
    *, db: Database, instance_id: str, redis_url: str | None, prefix: str = "chat", ttl: float = TTL_SECONDS
) -> Presence:
    """In memory without Redis (one process), else shared through Redis by every instance."""
    store: PresenceStore
    if not redis_url or redis_url.startswith("memory://"):
        store = MemoryPresenceStore()
    else:
        store = RedisPresenceStore(redis_url, prefix=prefix, ttl=ttl)
    return Presence(store, db=db, instance_id=instance_id, ttl=ttl, heartbeat=ttl / 3)
