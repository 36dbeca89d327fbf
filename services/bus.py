"""The event bus: publish(channel, event) and subscribe(channel), chosen by URL.

- InMemoryBus (the default): one process; events still round-trip through JSON so that
  tests catch anything Redis would reject.
- RedisBus: Redis pub/sub between instances. The process holds ONE pub/sub connection
  and subscribes each channel once, however many local subscribers it has; events are
  fanned out locally. When the connection drops it reconnects by itself, re-subscribes,
  and tells every local subscriber to resync (events published meanwhile are lost, by
  the nature of pub/sub; the database has them).

publish() never raises: the message is already committed when it is called, and a bus
outage must not turn a saved message into an error for its sender.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

Event = dict[str, Any]
RESYNC: Event = {"type": "bus.resync"}
QUEUE_LIMIT = 1000  # a subscriber this far behind is told to resync instead of growing memory


class Subscription:
    """One local subscriber's queue; iterate it for events, close it (or use `async with`) to stop."""

    def __init__(self, bus: "LocalFanout", channel: str) -> None:
        self.channel = channel
        self._bus = bus
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._overflowed = False
        self.closed = False

    def deliver(self, event: Event) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= QUEUE_LIMIT:
            self._overflowed = True
            return
        self._queue.put_nowait(event)

    async def get(self, timeout: float | None = None) -> Event:
        """The next event; raises TimeoutError after timeout seconds, StopAsyncIteration once closed."""
        if self._overflowed and self._queue.empty():
            self._overflowed = False
            return dict(RESYNC)
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if item is None:
            raise StopAsyncIteration
        return item

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return await self.get()

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)
            await self._bus._remove(self)

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


class EventBus(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def publish(self, channel: str, event: Event) -> bool: ...
    async def subscribe(self, channel: str) -> Subscription: ...
    async def health(self) -> str: ...


class LocalFanout:
    """The local half of every bus: channel -> the subscriptions of this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def subscribe(self, channel: str) -> Subscription:
        subscription = Subscription(self, channel)
        first = channel not in self._subscribers
        self._subscribers.setdefault(channel, set()).add(subscription)
        if first:
            await self._first_subscriber(channel)
        return subscription

    async def _remove(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscribers[subscription.channel]
            await self._last_subscriber_left(subscription.channel)

    def _fan_out(self, channel: str, payload: str | bytes) -> None:
        """Every subscriber gets its own copy, decoded from the JSON that travelled."""
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.deliver(json.loads(payload))

    def _resync_all(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.deliver(dict(RESYNC))

    @property
    def channels(self) -> list[str]:
        return list(self._subscribers)

    async def _first_subscriber(self, channel: str) -> None:
        pass

    async def _last_subscriber_left(self, channel: str) -> None:
        pass

    async def _close_subscriptions(self) -> None:
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                await subscription.close()


class InMemoryBus(LocalFanout):
    async def start(self) -> None:
        pass

    async def close(self) -> None:
        await self._close_subscriptions()

    async def publish(self, channel: str, event: Event) -> bool:
        payload = json.dumps(event)  # fails here, in tests, on anything Redis could not carry
        self._fan_out(channel, payload)
        return True

    async def health(self) -> str:
        return "ok"


class RedisBus(LocalFanout):
    def __init__(self, url: str, *, prefix: str = "chat") -> None:
        super().__init__()
        self.url = url
        self.prefix = prefix
        # Commands (PUBLISH, PING) time out quickly so a Redis outage cannot stall a sender.
        self._client = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()  # serialises SUBSCRIBE/UNSUBSCRIBE with reconnects
        self._last_error = "not started"

    @property
    def presence_channel(self) -> str:
        """Every instance subscribes here, so PUBSUB NUMSUB on it counts connected instances."""
        return f"{self.prefix}:_instances"  # app channels never start with "_"

    def _key(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen_forever(), name="redis-bus-listener")

    async def wait_connected(self, timeout: float) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def close(self) -> None:
        if self._listener:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._close_subscriptions()
        await self._drop_pubsub()
        await self._client.aclose()

    async def publish(self, channel: str, event: Event) -> bool:
        try:
            await self._client.publish(self._key(channel), json.dumps(event))
            return True
        except (RedisError, OSError) as error:
            log.warning("event not published on %s: Redis unreachable (%s)", channel, error)
            return False

    async def health(self) -> str:
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            return f"redis unreachable: {error}"
        if not self._connected.is_set():
            return f"redis subscription down: {self._last_error}"
        return "ok"

    async def connected_instances(self) -> int:
        counts = await self._client.pubsub_numsub(self.presence_channel)
        return int(counts[0][1]) if counts else 0

    async def _first_subscriber(self, channel: str) -> None:
        async with self._lock:
            if self._pubsub is not None and channel in self._subscribers:
                with contextlib.suppress(RedisError, OSError):  # the reconnect loop re-subscribes
                    await self._pubsub.subscribe(self._key(channel))

    async def _last_subscriber_left(self, channel: str) -> None:
        async with self._lock:
            if self._pubsub is not None and channel not in self._subscribers:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(self._key(channel))

    async def _listen_forever(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._connect()
                delay = 0.1
                await self._pump()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                self._last_error = str(error) or type(error).__name__
            except Exception as error:  # never let the listener die: that would silence every room
                log.exception("Redis bus listener failed")
                self._last_error = repr(error)
            if self._connected.is_set():
                log.warning("Redis bus connection lost (%s); reconnecting", self._last_error)
            self._connected.clear()
            await self._drop_pubsub()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _connect(self) -> None:
        async with self._lock:
            # socket_timeout=None: a quiet room is not an error; health checks find dead sockets.
            connection = aioredis.from_url(
                self.url,
                socket_timeout=None,
                socket_connect_timeout=2,
                socket_keepalive=True,
                health_check_interval=15,
            )
            pubsub = connection.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.presence_channel, *(self._key(c) for c in self.channels))
            except BaseException:
                await pubsub.aclose()
                await connection.aclose()
                raise
            self._pubsub, self._pubsub_client = pubsub, connection
            reconnected = self._last_error != "not started"
            self._connected.set()
        if reconnected:
            log.warning("Redis bus reconnected")
            self._resync_all()

    async def _pump(self) -> None:
        prefix = self.prefix + ":"
        while True:
            # A bounded wait keeps redis-py's periodic health-check PINGs going in a quiet room.
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            if isinstance(channel, bytes):  # str when the URL says ?decode_responses=true
                channel = channel.decode()
            if not channel.startswith(prefix) or channel == self.presence_channel:
                continue
            try:
                self._fan_out(channel.removeprefix(prefix), message["data"])
            except ValueError:
                log.warning("ignored a malformed event on %s", channel)

    async def _drop_pubsub(self) -> None:
        pubsub, client = self._pubsub, getattr(self, "_pubsub_client", None)
        self._pubsub = None
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if client is not None:
                await client.aclose()


def make_bus(url: str | None, *, prefix: str = "chat") -> EventBus:
    """memory:// or nothing: in-process; redis:// or rediss://: Redis pub/sub."""
    if not url or url.startswith("memory://"):
        return InMemoryBus()
    return RedisBus(url, prefix=prefix)
