"""Back-off after wrong secrets, per client address: one mechanism for the admin API and the admin page.

The first few wrong admin tokens from a client address are free (typos); each one after that
shuts the address out for a while, doubling with each failure in a row (0.25 s, 0.5 s, 1 s, ... up
to 5 min). While shut out, every attempt from that address, right or wrong, is refused unjudged
(the API answers 401 with Retry-After, as CONTRACT §5 wants for a wrong token; the page says when to
try again), so that guessing in parallel gains nothing past the first wave. A right token clears
the count; a quiet quarter of an hour forgets it. Kept in Redis when configured (instances behind
one load balancer share it), else in process memory.
"""

import hashlib
import hmac
import math
import threading
import time
from typing import Protocol

import redis
from redis.exceptions import RedisError

from services.rate_limit import RateLimited

FREE_FAILURES = 10  # wrong tokens in a row judged at once: a person's typos, a test run's wrong-token checks
FIRST_DELAY = 0.25  # seconds shut out after the first failure past those
MAX_DELAY = 300.0
FORGET_AFTER = 900.0  # seconds without a failure after which the count starts again


class TooManyFailures(RateLimited):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.detail = f"too many wrong tokens from your address; try again in {self.retry_after} s"
        self.args = (self.detail,)


def delay_after(failures: int) -> float:
    if failures <= FREE_FAILURES:
        return 0.0
    return min(FIRST_DELAY * 2 ** min(failures - FREE_FAILURES - 1, 30), MAX_DELAY)


class FailureBackoff(Protocol):
    def check(self, address: str) -> None:
        """Raise TooManyFailures while `address` is shut out."""
        ...

    def failed(self, address: str) -> None:
        """Count a wrong secret from `address` and shut it out for the next delay."""
        ...

    def succeeded(self, address: str) -> None:
        """A right secret: forget the address's failures."""
        ...


class MemoryBackoff:
    def __init__(self) -> None:
        self._state: dict[str, tuple[int, float]] = {}  # address -> (failures in a row, shut out until)
        self._lock = threading.Lock()

    def check(self, address: str) -> None:
        with self._lock:
            _, until = self._state.get(address, (0, 0.0))
        wait = until - time.monotonic()
        if wait > 0:
            raise TooManyFailures(wait)

    def failed(self, address: str) -> None:
        with self._lock:
            now = time.monotonic()
            failures, until = self._state.get(address, (0, 0.0))
            if now - until > FORGET_AFTER:
                failures = 0
            failures += 1
            self._state[address] = (failures, now + delay_after(failures))
            if len(self._state) > 100_000:  # forget addresses long quiet rather than grow without end
                self._state = {a: s for a, s in self._state.items() if now - s[1] < FORGET_AFTER}

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._state.pop(address, None)


# KEYS[1] the address's hash; ARGV: now (s), free failures, first delay, max delay, forget after (s).
_FAILED = """
local now, free, first = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_delay, forget = tonumber(ARGV[4]), tonumber(ARGV[5])
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local delay = 0
if failures > free then delay = math.min(first * 2 ^ math.min(failures - free - 1, 30), max_delay) end
redis.call('HSET', KEYS[1], 'until', now + delay)
redis.call('PEXPIRE', KEYS[1], math.ceil((delay + forget) * 1000))
return failures
"""


class RedisBackoff:
    """The same in Redis, shared by every instance. If Redis is unreachable, this process keeps
    count itself: an outage must not open the door to unlimited guessing."""

    def __init__(self, url: str, *, prefix: str) -> None:
        self.prefix = prefix
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._failed = self._client.register_script(_FAILED)
        self._fallback = MemoryBackoff()

    def _key(self, address: str) -> str:
        return f"{self.prefix}:admin-failures:{address}"

    def check(self, address: str) -> None:
        try:
            until = self._client.hget(self._key(address), "until")
        except (RedisError, OSError):
            self._fallback.check(address)
            return
        wait = float(until) - time.time() if until is not None else 0.0  # type: ignore[arg-type]
        if wait > 0 and math.isfinite(wait):
            raise TooManyFailures(wait)

    def failed(self, address: str) -> None:
        try:
            self._failed(
                keys=[self._key(address)], args=[time.time(), FREE_FAILURES, FIRST_DELAY, MAX_DELAY, FORGET_AFTER]
            )
        except (RedisError, OSError):
            self._fallback.failed(address)

    def succeeded(self, address: str) -> None:
        try:
            self._client.delete(self._key(address))
        except (RedisError, OSError):
            self._fallback.succeeded(address)


def make_backoff(*, redis_url: str | None, prefix: str) -> FailureBackoff:
    return RedisBackoff(redis_url, prefix=prefix) if redis_url else MemoryBackoff()


def secret_matches(*, given: str, expected: str, address: str, backoff: FailureBackoff) -> bool:
    """Whether `given` is the secret, compared in constant time (digests of equal length, so not
    even the length leaks), under `address`'s back-off: TooManyFailures while it is shut out.
    Blocking (Redis): call it from a worker thread."""
    backoff.check(address)
    if hmac.compare_digest(_digest(given), _digest(expected)):
        backoff.succeeded(address)
        return True
    backoff.failed(address)
    return False


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()
