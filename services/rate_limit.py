"""Flood control: a token bucket per guest, N messages or uploads per S seconds.

A guest may send a burst of N at once; tokens then come back evenly, one every S/N
seconds. Kept in process memory by default, and in Redis (one atomic script per hit) when
Redis is configured, so that the limit holds across instances.

`hit` is synchronous: services call it inside the function that Database.run runs in a worker
thread, before they touch the database, so a refused message costs no connection.
"""

import threading
import time
from typing import Protocol

import redis
from redis.exceptions import RedisError

from services.errors import ServiceError


class RateLimited(ServiceError):
    status_code = 429

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after + 0.499))
        super().__init__(f"you are sending too fast; try again in {self.retry_after} s")


class RateLimiter(Protocol):
    def hit(self, key: str) -> None:
        """Take a token for `key`, or raise RateLimited saying when the next one is due."""
        ...


class NoLimit:
    def hit(self, key: str) -> None:
        return None


class MemoryTokenBucket:
    def __init__(self, burst: int, seconds: float) -> None:
        self.burst, self.per_token = burst, seconds / burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._lock = threading.Lock()  # hits come from the worker threads that run transactions

    def hit(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            tokens, updated = self._buckets.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - updated) / self.per_token)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                raise RateLimited((1 - tokens) * self.per_token)
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # full buckets carry no information: forget them
                self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst - 1}


# KEYS[1] the bucket; ARGV: burst, seconds per token, now (s). Returns 0, or the seconds to wait.
_TOKEN_BUCKET = """
local burst, per_token, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens, updated = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) / per_token)
local wait = 0
if tokens < 1 then wait = (1 - tokens) * per_token else tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * per_token * 1000) + 1000)
return tostring(wait)
"""


class RedisTokenBucket:
    """The same bucket in Redis, shared by every instance. If Redis is unreachable, sending is
    allowed: flood control must not turn a Redis outage into a chat outage."""

    def __init__(self, url: str, *, prefix: str, burst: int, seconds: float) -> None:
        self.burst, self.per_token, self.prefix = burst, seconds / burst, prefix
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._client.register_script(_TOKEN_BUCKET)

    def hit(self, key: str) -> None:
        try:
            wait = float(
                self._script(keys=[f"{self.prefix}:rate:{key}"], args=[self.burst, self.per_token, time.time()])
            )
        except (RedisError, OSError):
            return
        if wait > 0:
            raise RateLimited(wait)


def make_limiter(limit: tuple[int, float] | None, *, redis_url: str | None, prefix: str) -> RateLimiter:
    if limit is None:
        return NoLimit()
    burst, seconds = limit
    if redis_url:
        return RedisTokenBucket(redis_url, prefix=prefix, burst=burst, seconds=seconds)
    return MemoryTokenBucket(burst, seconds)


class GuestAndAddressLimiter:
    """One guest's sends against two budgets: the guest's own bucket, and the bucket of the client
    address it sends from, so that fresh guests from one address cannot multiply the per-guest rate
    (CHAT_ADDRESS_RATE_LIMIT). Made per request or per page, with that client's address."""

    def __init__(self, per_guest: RateLimiter, per_address: RateLimiter, address: str) -> None:
        self.per_guest, self.per_address, self.address = per_guest, per_address, address

    def hit(self, key: str) -> None:
        # The guest's own bucket first: one guest flooding spends its own tokens, not its neighbours'.
        self.per_guest.hit(key)
        self.per_address.hit(f"address:{self.address}")
