"""What an operator watches, counted where it happens: one set of Prometheus metrics per process.

prometheus-client is a plain library (no web framework), so services count directly; api/metrics.py
only serves the text. Every label has a bounded set of values (event types, message kinds, HTTP
methods, route templates, status codes), never raw paths or ids: each label value is a time series.
"""

import time
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

disable_created_metrics()  # the *_created series only double what an operator has to read

OPEN_VIEWS = Gauge("chat_open_views", "Pages connected to this process right now (each browser tab counts once)")
MESSAGES_SENT = Counter("chat_messages_sent", "Messages committed by this process, by kind", ["kind"])
BUS_PUBLISHED = Counter("chat_bus_events_published", "Events this process published on the bus, by type", ["type"])
BUS_PUBLISH_FAILED = Counter(
    "chat_bus_events_publish_failed", "Events the bus could not carry (Redis down): saved, not live", ["type"]
)
BUS_RECEIVED = Counter("chat_bus_events_received", "Events this process received from the bus, by type", ["type"])
BUS_LAG = Histogram(
    "chat_bus_lag_seconds",
    "From publish (on any instance) to receipt here; across hosts it includes their clock difference",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
HTTP_LATENCY = Histogram(
    "chat_http_request_duration_seconds",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DB_POOL_CHECKED_OUT = Gauge("chat_db_pool_checked_out", "Database connections in use by this process")
DB_POOL_SIZE = Gauge("chat_db_pool_size", "Database connections this process keeps (overflow excluded)")

# The key under which a publisher stamps its wall-clock time into an event (see services/bus.py).
SENT_AT = "_sent_at"
MESSAGE_CREATED = "message.created"


def count_committed(payloads: Iterable[tuple[str, Any]]) -> None:
    """Called once a transaction's events are committed: a `message.created` is a message sent,
    whether or not the bus then carries it."""
    for _channel, payload in payloads:
        if isinstance(payload, dict) and payload.get("type") == MESSAGE_CREATED:
            MESSAGES_SENT.labels(kind=str(payload.get("message", {}).get("kind", "text"))).inc()


def count_received(event_type: str, sent_at: object) -> None:
    BUS_RECEIVED.labels(type=event_type).inc()
    if isinstance(sent_at, int | float):
        BUS_LAG.observe(max(0.0, time.time() - sent_at))  # clocks of two hosts may disagree a little


def watch_pool(pool: Any) -> None:
    """Read the pool's figures when scraped: SQLAlchemy's QueuePool has checkedout() and size();
    other pools (SQLite's single-thread ones) report what they have, else 0."""
    DB_POOL_CHECKED_OUT.set_function(lambda: float(getattr(pool, "checkedout", lambda: 0)()))
    DB_POOL_SIZE.set_function(lambda: float(getattr(pool, "size", lambda: 0)()))
