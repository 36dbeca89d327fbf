"""Logs an operator can read or collect: CHAT_LOG_FORMAT=json writes one JSON object per line, for
every request and every important event, naming the instance; the default is readable text."""

import json
from pathlib import Path
from typing import Any

import httpx

from tests.support import PrivateRedis, running_app, wait_until


def json_lines(log: str) -> list[dict[str, Any]]:
    """The log's JSON lines; the one plain line is the URL main.py prints on stdout for people."""
    lines = [line for line in log.splitlines() if line.strip()]
    others = [line for line in lines if not line.startswith("{")]
    assert all(line.startswith("Chat is serving on") for line in others), others
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_json_logs_have_a_line_per_request_and_per_event_with_the_instance(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    with running_app(
        tmp_path / "logs",
        CHAT_DATA_DIR=str(tmp_path / "data"),
        CHAT_REDIS_URL=private_redis.url,
        CHAT_LOG_FORMAT="json",
        CHAT_TRUSTED_PROXIES="127.0.0.1",  # so that X-Forwarded-For names the client
    ) as app:
        response = httpx.get(f"{app.url}/api/v1/rooms/no-such-room", headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 404
        private_redis.stop()
        wait_until(lambda: "connection lost" in app.log(), timeout=10, message="the bus logs the lost connection")
        private_redis.start()
        wait_until(lambda: "Redis bus connected" in app.log(), timeout=10, message="the bus logs its reconnect")
        app.stop()
        lines = json_lines(app.log())

    instance = response.headers["x-chat-instance"]
    assert {line["instance"] for line in lines} == {instance}
    assert all({"time", "level", "logger", "event"} <= set(line) for line in lines)
    events = [line["event"] for line in lines]
    assert events[0] == "start-up" and events[-1] == "shutdown", events
    request = next(
        line for line in lines if line["event"] == "request" and line["path"] == "/api/v1/rooms/no-such-room"
    )
    assert request["method"] == "GET" and request["route"] == "/api/v1/rooms/{slug}" and request["status"] == 404
    assert request["client"] == "203.0.113.7" and isinstance(request["duration_ms"], float)
    bus = [line for line in lines if line["logger"] == "services.bus"]
    assert any("connection lost" in line["event"] for line in bus) and any("connected" in line["event"] for line in bus)


def test_the_default_log_is_readable_text(tmp_path: Path) -> None:
    with running_app(tmp_path / "logs", CHAT_DATA_DIR=str(tmp_path / "data")) as app:
        httpx.get(f"{app.url}/healthz", timeout=10)
        app.stop()
        log = app.log()
    request = next(line for line in log.splitlines() if "chat.requests" in line and "path=/healthz" in line)
    assert not request.startswith("{")
    assert "request method=GET route=/healthz" in request and "status=200" in request
