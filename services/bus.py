"""The event bus: `publish(channel, event)` and `async with subscribe(channel)`, chosen by URL.

Composed like encode/broadcaster. A transport only moves payloads between processes:
connect, subscribe, unsubscribe, publish, next message. `EventBus`, the one class the app
uses, does everything else once, for every transport: JSON, fanning each payload out to the
local subscribers of its channel, and counting them, so that a channel is subscribed on the
transport while this process has at least one subscriber to it.

- MemoryTransport (the default): one process. Events still round-trip through JSON, so that
  tests catch anything Redis would reject.
- RedisTransport: Redis pub/sub between instances, one connection per process. When it drops,
  the transport reconnects by itself and re-subscribes; every local subscriber then receives
  GAP instead of the events published meanwhile (pub/sub keeps nothing; the database has them).

publish() never raises: the change is already committed when it is called, and a bus outage
must not turn a saved message into an error for its sender.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services import metrics

log = logging.getLogger(__name__)

Event = dict[str, Any]
Payload = str | bytes
HEALTH_WAKE_INTERVAL = 1.0  # seconds: health checks wake a stalled reconnect at most this often
QUEUE_LIMIT = 1000  # a subscriber this far behind gets GAP instead of growing memory


class Gap:
    """Delivered instead of events a subscriber may have missed (a lost connection, a queue that
    overflowed): reload what matters from the database."""

    def __repr__(self) -> str:
        return "GAP"


GAP = Gap()


class TransportUnavailable(Exception):
    """The transport could not carry a message; says why in one line."""


class Transport(Protocol):
    async def connect(self) -> None: ...
    async def disconnect(self) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def publish(self, channel: str, payload: str) -> None: ...  # raises TransportUnavailable
    async def next_message(self) -> tuple[str, Payload] | Gap: ...  # waits; GAP after a lost connection
    async def health(self) -> str: ...  # "ok", or what is wrong
    async def connected_instances(self) -> int: ...  # processes on the same bus; TransportUnavailable


class Subscription:
    """One local subscriber: iterate it (or call get()) for events and GAPs until it ends."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[Event | Gap | None] = asyncio.Queue()
        self._overflowed = False
        self.closed = False

    def deliver(self, item: Event | Gap) -> None:
        if self.closed:
            return
        if self._queue.qsize() >= QUEUE_LIMIT:
            self._overflowed = True
            return
        self._queue.put_nowait(item)

    def end(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def get(self, timeout: float | None = None) -> Event | Gap:
        """The next event; TimeoutError after `timeout` seconds; StopAsyncIteration once ended."""
        if self._overflowed and self._queue.empty():
            self._overflowed = False
            return GAP
        item = await asyncio.wait_for(self._queue.get(), timeout)
        if item is None:
            self._queue.put_nowait(None)  # stays ended for every later call
            raise StopAsyncIteration
        return item

    def __aiter__(self) -> AsyncIterator[Event | Gap]:
        return self

    async def __anext__(self) -> Event | Gap:
        return await self.get()


class EventBus:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._subscribers: dict[str, set[Subscription]] = {}
        self._lock = asyncio.Lock()  # a channel's first SUBSCRIBE completes before a second subscriber joins
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.transport.connect()
        self._listener = asyncio.create_task(self._listen(), name="event-bus-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.end()
        await self.transport.disconnect()

    async def publish(self, channel: str, event: Event) -> bool:
        """Send `event` to every subscriber of `channel` in every process; False if the transport
        is down (logged), never an exception. A TypeError for what JSON cannot carry is a bug."""
        event_type = str(event.get("type", "unknown"))
        # Stamped for the receivers' bus-lag histogram, and taken off again before delivery.
        payload = json.dumps({**event, metrics.SENT_AT: time.time()})
        try:
            await self.transport.publish(channel, payload)
        except TransportUnavailable as error:
            metrics.BUS_PUBLISH_FAILED.labels(type=event_type).inc()
            log.warning("event not published on %s: %s", channel, error)
            return False
        metrics.BUS_PUBLISHED.labels(type=event_type).inc()
        return True

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """Events on `channel` for as long as the block runs; leaving it unsubscribes."""
        subscription = Subscription(channel)
        async with self._lock:
            subscribers = self._subscribers.setdefault(channel, set())
            subscribers.add(subscription)
            if len(subscribers) == 1:
                await self.transport.subscribe(channel)
        try:
            yield subscription
        finally:
            subscription.end()
            async with self._lock:
                subscribers = self._subscribers.get(channel, set())
                subscribers.discard(subscription)
                if not subscribers:
                    self._subscribers.pop(channel, None)
                    await self.transport.unsubscribe(channel)

    @property
    def channels(self) -> list[str]:
        """The channels this process has subscribers on."""
        return list(self._subscribers)

    async def health(self) -> str:
        return await self.transport.health()

    async def connected_instances(self) -> int:
        return await self.transport.connected_instances()

    async def _listen(self) -> None:
        while True:
            try:
                item = await self.transport.next_message()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the listener die: that would silence every room
                log.exception("the event bus listener failed; carrying on")
                await asyncio.sleep(1)
                continue
            if isinstance(item, Gap):
                for subscribers in self._subscribers.values():
                    for subscription in subscribers:
                        subscription.deliver(GAP)
                continue
            channel, payload = item
            try:
                event = _decode(payload)
            except ValueError:
                log.warning("ignored a malformed event on %s", channel)
                continue
            metrics.count_received(str(event.get("type", "unknown")), event.pop(metrics.SENT_AT, None))
            for index, subscription in enumerate(list(self._subscribers.get(channel, ()))):
                # A copy of its own for each subscriber: one may change what it received.
                subscription.deliver(event if index == 0 else _decode(payload, strip=True))


def _decode(payload: Payload, *, strip: bool = False) -> Event:
    event = json.loads(payload)
    if not isinstance(event, dict):
        raise ValueError("an event is a JSON object")
    if strip:
        event.pop(metrics.SENT_AT, None)
    return event


class MemoryTransport:
    """One process: publish queues the payload for the listener, if the channel has subscribers."""

    def __init__(self) -> None:
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, Payload]] = asyncio.Queue()

    async def connect(self) -> None:
        pass

    async def disconnect(self) -> None:
        pass

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def publish(self, channel: str, payload: str) -> None:
        if channel in self._channels:  # like pub/sub: nobody listening, nothing kept
            self._queue.put_nowait((channel, payload))

    async def next_message(self) -> tuple[str, Payload]:
        return await self._queue.get()

    async def health(self) -> str:
        return "ok"

    async def connected_instances(self) -> int:
        return 1


class RedisTransport:
    """Redis pub/sub: one subscribing connection per process, which reconnects by itself, and a
    client with short timeouts for PUBLISH and PING, so that an outage cannot stall a sender."""

    RECONNECT_MAX_DELAY = 2.0
    HEALTH_RECONNECT_WAIT = 1.0  # how long /healthz waits for a reconnect it asked for

    def __init__(self, url: str, *, prefix: str = "chat") -> None:
        self.url = url
        self.prefix = prefix
        self._client = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._subscriber: Any = None  # redis.asyncio PubSub while connected
        self._channels: set[str] = set()
        self._connection: Any = None
        self._lock = asyncio.Lock()  # SUBSCRIBE and UNSUBSCRIBE never interleave with a reconnect
        self._last_error = "not connected yet"
        # Health checks wake the reconnect loop instead of waiting out its back-off, so that
        # /healthz reports a recovered Redis within a second, not after the next scheduled try.
        self._retry_now = asyncio.Event()
        self._last_wake = -HEALTH_WAKE_INTERVAL
        self._subscribed = asyncio.Event()

    @property
    def instances_channel(self) -> str:
        """Every process subscribes here, so PUBSUB NUMSUB on it counts connected instances."""
        return f"{self.prefix}:_instances"  # app channels never start with "_"

    def _key(self, channel: str) -> str:
        return f"{self.prefix}:{channel}"

    async def connect(self) -> None:
        """One attempt, so that a healthy Redis is subscribed before the app serves; next_message
        keeps trying if it failed."""
        with contextlib.suppress(RedisError, OSError):
            await self._open()

    async def disconnect(self) -> None:
        await self._drop()
        await self._client.aclose()

    async def subscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.add(channel)
            if self._subscriber is not None:
                with contextlib.suppress(RedisError, OSError):  # a reconnect subscribes it again
                    await self._subscriber.subscribe(self._key(channel))

    async def unsubscribe(self, channel: str) -> None:
        async with self._lock:
            self._channels.discard(channel)
            if self._subscriber is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._subscriber.unsubscribe(self._key(channel))

    async def publish(self, channel: str, payload: str) -> None:
        try:
            await self._client.publish(self._key(channel), payload)
        except (RedisError, OSError) as error:
            raise TransportUnavailable(f"Redis unreachable ({error})") from None

    async def next_message(self) -> tuple[str, Payload] | Gap:
        while True:
            if self._subscriber is None:
                await self._reconnect()
                return GAP  # whatever was published while disconnected is lost
            try:
                # A bounded wait keeps redis-py's health-check PINGs going in a quiet room.
                message = await self._subscriber.get_message(ignore_subscribe_messages=True, timeout=5.0)
            except (RedisError, OSError) as error:
                self._last_error = str(error) or type(error).__name__
                log.warning("Redis bus connection lost (%s); reconnecting", self._last_error)
                await self._drop()
                continue
            received = self._received(message)
            if received is not None:
                return received

    async def health(self) -> str:
        try:
            await self._client.ping()
        except (RedisError, OSError) as error:
            return f"redis unreachable: {error}"
        if self._subscriber is None:
            # Redis answers but the subscription is still down: try it now rather than report
            # the state of the last attempt. At most once a second: a burst of probes must not
            # turn the back-off into a tight loop of connection attempts.
            now = time.monotonic()
            if now - self._last_wake >= HEALTH_WAKE_INTERVAL:
                self._last_wake = now
                self._retry_now.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), self.HEALTH_RECONNECT_WAIT)
        if self._subscriber is None:
            return f"redis subscription down: {self._last_error}"
        return "ok"

    async def connected_instances(self) -> int:
        try:
            counts = await self._client.pubsub_numsub(self.instances_channel)
        except (RedisError, OSError) as error:
            raise TransportUnavailable(f"Redis unreachable ({error})") from None
        return int(counts[0][1]) if counts else 0

    def _received(self, message: dict[str, Any] | None) -> tuple[str, Payload] | None:
        if message is None or message.get("type") != "message":
            return None
        channel = message["channel"]
        if isinstance(channel, bytes):  # str when the URL says ?decode_responses=true
            channel = channel.decode()
        prefix = self.prefix + ":"
        if not channel.startswith(prefix) or channel == self.instances_channel:
            return None
        return channel.removeprefix(prefix), message["data"]

    async def _reconnect(self) -> None:
        """Wait, backing off, until connected again."""
        delay = 0.1
        while True:
            self._retry_now.clear()  # a health check from now on asks for another attempt
            try:
                await self._open()
            except (RedisError, OSError) as error:
                self._last_error = str(error) or type(error).__name__
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._retry_now.wait(), delay)
                delay = min(delay * 2, self.RECONNECT_MAX_DELAY)
                continue
            log.warning("Redis bus connected")
            return

    async def _open(self) -> None:
        async with self._lock:
            if self._subscriber is not None:
                return
            # socket_timeout=None: a quiet room is not an error; health checks find dead sockets.
            connection = aioredis.from_url(
                self.url, socket_timeout=None, socket_connect_timeout=2, socket_keepalive=True, health_check_interval=15
            )
            subscriber = connection.pubsub(ignore_subscribe_messages=True)
            try:
                await subscriber.subscribe(self.instances_channel, *(self._key(c) for c in self._channels))
            except BaseException:
                await subscriber.aclose()
                await connection.aclose()
                raise
            self._subscriber, self._connection = subscriber, connection
            self._subscribed.set()

    async def _drop(self) -> None:
        subscriber, connection = self._subscriber, self._connection
        self._subscriber = self._connection = None
        self._subscribed.clear()
        with contextlib.suppress(Exception):
            if subscriber is not None:
                await subscriber.aclose()
            if connection is not None:
                await connection.aclose()


def make_bus(url: str | None, *, prefix: str = "chat") -> EventBus:
    """memory:// or nothing: in-process; redis:// or rediss://: Redis pub/sub."""
    if not url or url.startswith("memory://"):
        return EventBus(MemoryTransport())
    return EventBus(RedisTransport(url, prefix=prefix))
