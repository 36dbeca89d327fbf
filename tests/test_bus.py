"""The event bus, as its users see it: publish(channel, event) reaches every subscriber of that
channel, in order, and nobody else, for as long as their `async with bus.subscribe(...)` lasts.

The contract tests run on both transports (in-process and Redis pub/sub) through the one
EventBus; the Redis tests below them check what only Redis has: one server subscription per
channel, several app instances, surviving a dropped connection or a quiet room, and an
unreachable server.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis.asyncio as aioredis

from services.bus import GAP, QUEUE_LIMIT, Event, EventBus, Gap, MemoryTransport, RedisTransport, Subscription, make_bus
from tests.support import unique

TIMEOUT = 5.0  # seconds to wait for an event that should arrive
QUIET = 0.3  # seconds to wait for an event that should NOT arrive
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def chat_event(text: str = "hello") -> dict:
    """What the app publishes: a type plus nested, JSON-able data."""
    return {
        "type": "message.created",
        "room": "lobby",
        "message": {"id": 7, "text": text, "author": {"id": 1, "name": "Ada"}, "tags": ["a", "b"]},
    }


async def started_redis_bus(redis_url: str, prefix: str) -> EventBus:
    bus = EventBus(RedisTransport(redis_url, prefix=prefix))
    await bus.start()  # connects before it returns, when Redis is up
    assert await bus.health() == "ok"
    return bus


def redis_key(bus: EventBus, channel: str) -> str:
    assert isinstance(bus.transport, RedisTransport)
    return f"{bus.transport.prefix}:{channel}"


async def assert_nothing_arrives(subscription: Subscription) -> None:
    with pytest.raises(TimeoutError):
        await subscription.get(timeout=QUIET)


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    if request.param == "memory":
        bus = EventBus(MemoryTransport())
        await bus.start()
    else:
        bus = await started_redis_bus(request.getfixturevalue("redis_url"), unique("bustest"))
    yield bus
    await bus.close()


@pytest.fixture
async def redis_bus(redis_url: str) -> AsyncIterator[EventBus]:
    bus = await started_redis_bus(redis_url, unique("bustest"))
    yield bus
    await bus.close()


@pytest.fixture
async def redis_admin(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A separate client, standing in for the Redis server's own view of things."""
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


# The contract, on both transports.


async def test_every_subscriber_of_a_channel_receives_the_published_event(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as first, bus.subscribe("room-1") as second:
        assert await bus.publish("room-1", chat_event()) is True

        assert await first.get(timeout=TIMEOUT) == chat_event()
        assert await second.get(timeout=TIMEOUT) == chat_event()


async def test_events_on_another_channel_are_not_delivered(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as subscription:
        await bus.publish("room-2", chat_event("for another room"))
        await bus.publish("room-1", chat_event("for this room"))

        assert await subscription.get(timeout=TIMEOUT) == chat_event("for this room")
        await assert_nothing_arrives(subscription)


async def test_events_arrive_in_the_order_they_were_published(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as subscription:
        for number in range(20):
            await bus.publish("room-1", chat_event(f"message {number}"))

        received = [await subscription.get(timeout=TIMEOUT) for _ in range(20)]
    assert [event["message"]["text"] for event in received] == [f"message {n}" for n in range(20)]  # type: ignore[index]


async def test_leaving_the_subscribe_block_ends_the_subscription_while_the_others_go_on(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as staying:
        async with bus.subscribe("room-1") as leaving:
            pass
        await bus.publish("room-1", chat_event("after the block"))

        assert await staying.get(timeout=TIMEOUT) == chat_event("after the block")
    assert leaving.closed
    with pytest.raises(StopAsyncIteration):
        await leaving.get(timeout=QUIET)


async def test_leaving_the_last_subscribe_block_of_a_channel_unsubscribes_it(bus: EventBus) -> None:
    async with bus.subscribe("room-1"), bus.subscribe("room-1"):
        assert bus.channels == ["room-1"]
    assert bus.channels == []
    with pytest.raises(RuntimeError):
        async with bus.subscribe("room-2"):
            raise RuntimeError("the subscriber failed")
    assert bus.channels == [], "an exception leaves the block too"
    async with bus.subscribe("room-1") as again:  # and subscribing again works
        await bus.publish("room-1", chat_event("once more"))
        assert await again.get(timeout=TIMEOUT) == chat_event("once more")


async def test_a_subscription_can_be_iterated(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as subscription:
        for number in range(3):
            await bus.publish("room-1", chat_event(f"message {number}"))

        async def first_three() -> list[str]:
            texts = []
            async for event in subscription:
                texts.append(event["message"]["text"])  # type: ignore[index]
                if len(texts) == 3:
                    break
            return texts

        assert await asyncio.wait_for(first_three(), TIMEOUT) == ["message 0", "message 1", "message 2"]


async def test_the_bus_is_healthy_and_counts_this_instance(bus: EventBus) -> None:
    assert await bus.health() == "ok"
    assert await bus.connected_instances() >= 1


async def test_each_subscriber_gets_its_own_copy_of_an_event(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as first, bus.subscribe("room-1") as second:
        published = chat_event()
        await bus.publish("room-1", published)
        published["message"]["text"] = "changed by the publisher afterwards"

        mine = await first.get(timeout=TIMEOUT)
        mine["message"]["text"] = "changed by one subscriber"  # type: ignore[index]
        mine["type"] = "changed"  # type: ignore[index]

        assert await second.get(timeout=TIMEOUT) == chat_event()


@pytest.mark.parametrize(
    "unsendable",
    [{"tags": {"a", "b"}}, {"at": datetime(2024, 1, 1, tzinfo=UTC)}, {"blob": b"bytes"}],
    ids=["set", "datetime", "bytes"],
)
async def test_an_event_json_cannot_carry_is_rejected_with_type_error(bus: EventBus, unsendable: dict) -> None:
    """On both transports alike, so a test in one process catches what Redis would reject."""
    async with bus.subscribe("room-1") as subscription:
        with pytest.raises(TypeError):
            await bus.publish("room-1", {"type": "bad", **unsendable})

        await assert_nothing_arrives(subscription)


async def test_a_subscriber_too_far_behind_gets_a_gap_instead_of_queueing_forever(bus: EventBus) -> None:
    async with bus.subscribe("room-1") as subscription:
        for number in range(QUEUE_LIMIT + 5):
            await bus.publish("room-1", chat_event(f"message {number}"))
        await asyncio.sleep(0.5)  # every event reached this process (Redis) or its listener (memory)

        kept = [await subscription.get(timeout=TIMEOUT) for _ in range(QUEUE_LIMIT)]

        assert [event["message"]["text"] for event in kept] == [f"message {n}" for n in range(QUEUE_LIMIT)]  # type: ignore[index]
        assert await subscription.get(timeout=TIMEOUT) is GAP
        await assert_nothing_arrives(subscription)


async def test_closing_the_bus_ends_every_subscription() -> None:
    bus = make_bus(None)
    await bus.start()
    async with bus.subscribe("room-1") as subscription:
        await bus.close()

        assert subscription.closed
        with pytest.raises(StopAsyncIteration):
            await subscription.get(timeout=QUIET)


# Redis only.


async def redis_subscriber_count(admin: aioredis.Redis, channel: str) -> int:
    [(_, count)] = await admin.pubsub_numsub(channel)
    return int(count)


async def wait_for_subscriber_count(admin: aioredis.Redis, channel: str, expected: int) -> int:
    """Poll PUBSUB NUMSUB until it shows `expected` or the deadline passes; returns the last count."""
    deadline = time.monotonic() + TIMEOUT
    while (count := await redis_subscriber_count(admin, channel)) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return count


async def test_redis_holds_one_subscription_per_channel_however_many_local_subscribers(
    redis_bus: EventBus, redis_admin: aioredis.Redis
) -> None:
    channel = redis_key(redis_bus, "room-1")
    async with redis_bus.subscribe("room-1"):
        async with redis_bus.subscribe("room-1"):
            assert await wait_for_subscriber_count(redis_admin, channel, 1) == 1
        assert await wait_for_subscriber_count(redis_admin, channel, 1) == 1
    assert await wait_for_subscriber_count(redis_admin, channel, 0) == 0


async def test_events_travel_between_app_instances_sharing_a_prefix(redis_url: str) -> None:
    prefix = unique("bustest")
    sender = await started_redis_bus(redis_url, prefix)
    receiver = await started_redis_bus(redis_url, prefix)
    stranger = await started_redis_bus(redis_url, unique("bustest"))
    try:
        async with receiver.subscribe("room-1") as received, stranger.subscribe("room-1") as not_received:
            assert await sender.publish("room-1", chat_event()) is True

            assert await received.get(timeout=TIMEOUT) == chat_event()
            await assert_nothing_arrives(not_received)
        assert await sender.connected_instances() == 2
    finally:
        for bus in (sender, receiver, stranger):
            await bus.close()


async def get_skipping_gaps(subscription: Subscription, timeout: float) -> Event | Gap:
    while (event := await subscription.get(timeout=timeout)) is GAP:
        pass
    return event


async def test_a_dropped_redis_connection_is_reported_as_a_gap_and_delivery_resumes(
    redis_bus: EventBus, redis_admin: aioredis.Redis
) -> None:
    async with redis_bus.subscribe("room-1") as subscription:
        # Kills every pub/sub connection on this server; only our own bus is asserted on.
        await redis_admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")

        assert await subscription.get(timeout=TIMEOUT) is GAP
        deadline = time.monotonic() + 10
        while True:
            await redis_bus.publish("room-1", chat_event("after the outage"))
            try:
                assert await get_skipping_gaps(subscription, timeout=0.5) == chat_event("after the outage")
                break
            except TimeoutError:
                assert time.monotonic() < deadline, "no event arrived after reconnection"
    assert await redis_bus.health() == "ok"


async def test_delivery_still_works_after_a_quiet_spell_longer_than_redis_socket_timeout(
    redis_bus: EventBus,
) -> None:
    async with redis_bus.subscribe("room-1") as subscription:
        await asyncio.sleep(6.5)  # redis-py 8 defaults to a 5 s socket timeout
        await redis_bus.publish("room-1", chat_event("after the silence"))

        assert await subscription.get(timeout=TIMEOUT) == chat_event("after the silence")
    assert await redis_bus.health() == "ok"


async def test_a_redis_url_with_decode_responses_still_delivers(redis_url: str) -> None:
    bus = await started_redis_bus(f"{redis_url}?decode_responses=true", unique("bustest"))
    try:
        async with bus.subscribe("room-1") as subscription:
            await bus.publish("room-1", chat_event())
            assert await subscription.get(timeout=TIMEOUT) == chat_event()
    finally:
        await bus.close()


async def test_an_unreachable_redis_makes_publish_return_false_and_health_say_so() -> None:
    bus = EventBus(RedisTransport(UNREACHABLE_REDIS, prefix=unique("bustest")))
    await bus.start()
    try:
        async with bus.subscribe("room-1"):  # remembered, to be subscribed once Redis answers
            assert await asyncio.wait_for(bus.publish("room-1", chat_event()), 30) is False
            health = await asyncio.wait_for(bus.health(), 30)
            assert health.startswith("redis unreachable"), health
    finally:
        await bus.close()


# Choosing a transport by URL.


@pytest.mark.parametrize("url", [None, "", "memory://"])
def test_no_url_or_memory_url_gives_the_in_process_transport(url: str | None) -> None:
    assert isinstance(make_bus(url).transport, MemoryTransport)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://example.invalid:6380/1"])
def test_a_redis_url_gives_the_redis_transport_with_the_prefix(url: str) -> None:
    transport = make_bus(url, prefix="myapp").transport
    assert isinstance(transport, RedisTransport)
    assert (transport.url, transport.prefix) == (url, "myapp")
