"""Room feeds: one bus subscription per channel per process, fanned out to every open view.

A page calls `feeds.subscribe(channel, callback)` inside its page function. The callback gets
every event on the channel, decoded once per process (not once per viewer), for as long as the
page's client lives; the last view leaving a channel ends its bus subscription. A gap on the bus
reaches the views as a `Resync` event: reload what may have been missed.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from nicegui import Event, background_tasks, context

from services.bus import GAP, EventBus
from services.events import Resync, RoomEvent, decode

log = logging.getLogger(__name__)
SUBSCRIBE_TIMEOUT = 10.0  # seconds; the Redis transport subscribes later by itself if it is down


class RoomFeed:
    def __init__(self, bus: EventBus, channel: str) -> None:
        self.channel = channel
        self.event: Event[RoomEvent] = Event()
        self.viewers = 0
        self._subscribed = asyncio.Event()
        self._task = background_tasks.create(self._pump(bus), name=f"feed {channel}")

    async def subscribed(self) -> None:
        """Returns once the bus delivers this channel's events, so that a page subscribed before it
        loads history misses nothing."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), SUBSCRIBE_TIMEOUT)

    async def _pump(self, bus: EventBus) -> None:
        async with bus.subscribe(self.channel) as subscription:
            self._subscribed.set()
            async for data in subscription:
                if data is GAP:
                    self.event.emit(Resync())
                    continue
                try:
                    event = decode(data)  # type: ignore[arg-type]
                except ValueError:
                    log.warning("ignored an event this version does not know: %s", data.get("type"))  # type: ignore[union-attr]
                    continue
                self.event.emit(event)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class RoomFeeds:
    """The process's feeds, by channel."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus
        self._feeds: dict[str, RoomFeed] = {}
        self._lock = asyncio.Lock()

    async def subscribe(self, channel: str, callback: Callable[[RoomEvent], Any]) -> None:
        """Call `callback` with every event on `channel` for as long as the current page lives.
        Synchronous callbacks are cheapest: an async one costs a task per viewer per event."""
        client = context.client
        async with self._lock:
            feed = self._feeds.get(channel)
            if feed is None:
                feed = self._feeds[channel] = RoomFeed(self._bus, channel)
            feed.viewers += 1
        await feed.subscribed()
        if client.is_deleted:  # the page closed while the subscription was being set up
            await self._release(channel)
            return
        feed.event.subscribe(callback)
        client.on_delete(lambda: background_tasks.create(self._release(channel), name=f"leave {channel}"))

    async def _release(self, channel: str) -> None:
        async with self._lock:
            feed = self._feeds.get(channel)
            if feed is None:
                return
            feed.viewers -= 1
            if feed.viewers <= 0:
                del self._feeds[channel]
                await feed.close()
