"""/healthz when Redis goes away and comes back, with a Redis server of the test's own."""

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.support import free_port, running_app, unavailable


class PrivateRedis:
    def __init__(self, port: int, directory: Path) -> None:
        self.port, self.directory = port, directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=1).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("the private Redis did not start within 10 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    server = PrivateRedis(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def wait_for_health(url: str, status: int, timeout: float = 15) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{url}/healthz", timeout=5)
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            return response.json()
        time.sleep(0.2)


def test_health_names_redis_when_it_is_down_and_recovers_when_it_returns(
    private_redis: PrivateRedis, tmp_path: Path
) -> None:
    with running_app(tmp_path / "logs", CHAT_DATA_DIR=str(tmp_path / "data"), CHAT_REDIS_URL=private_redis.url) as app:
        assert wait_for_health(app.url, 200) == {"status": "ok", "database": "ok", "bus": "ok"}
        token = httpx.post(f"{app.url}/api/v1/guests", json={}).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        slug = httpx.post(f"{app.url}/api/v1/rooms", json={"name": "Outage"}, headers=auth).json()["slug"]

        private_redis.stop()
        body = wait_for_health(app.url, 503)
        assert body["status"] == "degraded" and body["database"] == "ok"
        assert body["bus"].startswith("redis unreachable")
        # Sending still works: the message is saved, only its live event is lost.
        sent = httpx.post(f"{app.url}/api/v1/rooms/{slug}/messages", json={"text": "during"}, headers=auth, timeout=10)
        assert sent.status_code == 201
        assert httpx.get(f"{app.url}/api/v1/rooms/{slug}/messages").json()["messages"][-1]["text"] == "during"

        private_redis.start()
        assert wait_for_health(app.url, 200)["bus"] == "ok"
