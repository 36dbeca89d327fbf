"""/healthz when Redis goes away and comes back, with a Redis server of the test's own."""

import time
from pathlib import Path

import httpx

from tests.support import PrivateRedis, running_app


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

        time.sleep(4)  # long enough for the bus's reconnect back-off to reach its longest wait
        private_redis.start()  # returns once Redis answers PING
        # The first check once Redis answers reports the live state: it does not wait out the
        # bus's reconnect back-off (it once said "unreachable" for about 10 s more).
        response = httpx.get(f"{app.url}/healthz", timeout=5)
        assert response.status_code == 200, response.text
        assert response.json()["bus"] == "ok"
