"""Room feeds: one bus subscription per channel per process, fanned out to every open view.

A page calls `feeds.subscribe(channel, callback)` inside its page function: NiceGUI's Event
drops the callback when the page's client goes away, and the last view leaving a channel
closes its bus subscription. Each event is decoded once per process, not once per viewer.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from nicegui import Event, background_tasks, context

from services.bus import EventBus, Subscription
from services.events import RoomEvent, decode

log = logging.getLogger(__name__)


class RoomFeed:
    def __init__(self, channel: str, subscription: Subscription) -> None:
        self.channel = channel
        self.event: Event[RoomEvent] = Event()
        self.viewers = 0
        self._subscription = subscription
        self._task = background_tasks.create(self._pump(), name=f"feed {channel}")

    async def _pump(self) -> None:
        async for data in self._subscription:
            try:
                event = decode(data)
            except ValueError:
                log.warning("ignored an event this version does not know: %s", data.get("type"))
                continue
            self.event.emit(event)

    async def close(self) -> None:
        await self._subscription.close()
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
        """Call `callback` with every event on `channel` for as long as the current page lives."""
        client = context.client
        async with self._lock:
            feed = self._feeds.get(channel)
            if feed is None:
                feed = self._feeds[channel] = RoomFeed(channel, await self._bus.subscribe(channel))
            feed.viewers += 1
        if client.is_deleted:  # the page closed while the subscription was being set up
            await self._release(channel)
            return
        feed.event.subscribe(callback)
        client.on_delete(lambda: background_tasks.create(self._release(channel)))

    async def _release(self, channel: str) -> None:
        async with self._lock:
            feed = self._feeds.get(channel)
            if feed is None:
                return
            feed.viewers -= 1
            if feed.viewers <= 0:
                del self._feeds[channel]
                await feed.close()
