"""The token bucket, in memory and in Redis: a burst of N, then one token every S/N seconds."""

import time
from collections.abc import Iterator

import pytest

from services.config import load_settings
from services.rate_limit import MemoryTokenBucket, RateLimited, RateLimiter, RedisTokenBucket
from tests.support import unique


@pytest.fixture(params=["memory", "redis"])
def bucket(request: pytest.FixtureRequest) -> Iterator[tuple[RateLimiter, RateLimiter]]:
    """Two limiters that must share their buckets (two app instances on Redis; one process in memory)."""
    if request.param == "memory":
        limiter = MemoryTokenBucket(3, 0.6)
        yield limiter, limiter
    else:
        url, prefix = request.getfixturevalue("redis_url"), unique("rate")
        yield (
            RedisTokenBucket(url, prefix=prefix, burst=3, seconds=0.6),
            RedisTokenBucket(url, prefix=prefix, burst=3, seconds=0.6),
        )


def test_a_burst_is_allowed_then_refused_with_the_wait(bucket: tuple[RateLimiter, RateLimiter]) -> None:
    one, two = bucket
    for limiter in (one, two, one):  # three tokens, taken on either instance
        limiter.hit("guest:1")
    with pytest.raises(RateLimited) as refused:
        two.hit("guest:1")
    assert refused.value.status_code == 429 and refused.value.retry_after >= 1
    one.hit("guest:2")  # another guest has a bucket of their own
    time.sleep(0.25)  # one token comes back every 0.2 s
    two.hit("guest:1")
    with pytest.raises(RateLimited):
        one.hit("guest:1")


@pytest.mark.parametrize(
    ("value", "expected"), [("20/10s", (20, 10.0)), ("60/1m", (60, 60.0)), ("5/s", (5, 1.0)), ("off", None)]
)
def test_the_rate_setting_reads_as_burst_and_seconds(value: str, expected: tuple[int, float] | None) -> None:
    assert load_settings(rate_limit=value).rate_limit_per_seconds == expected


def test_the_per_address_budget_is_three_guests_worth_and_off_with_the_message_limit() -> None:
    """CHAT_RATE_LIMIT=off must turn every message limit off, including the per-address one that
    an operator (or a script seeding a room) may not know exists."""
    assert load_settings().address_rate == (60, 10.0)
    assert load_settings(rate_limit="5/1m").address_rate == (15, 60.0)
    assert load_settings(rate_limit="off").address_rate is None
    assert load_settings(rate_limit="off", address_rate_limit="9/10s").address_rate == (9, 10.0)
    assert load_settings(address_rate_limit="off").address_rate is None


def test_browsers_first_visits_get_ten_times_the_apis_guest_budget_and_off_with_it() -> None:
    assert load_settings().browser_guest_rate == (300, 600.0)
    assert load_settings(guest_rate_limit="off").browser_guest_rate is None
