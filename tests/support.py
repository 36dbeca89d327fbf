"""Helpers for tests: real services or an honest skip, and the app started as a real process."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
STRICT = os.environ.get("CHAT_TEST_STRICT") == "1"
POSTGRES_ADMIN_DSN = os.environ.get("CHAT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("CHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(reason: str) -> None:
    """Skip for a missing service or browser; in CI (CHAT_TEST_STRICT=1) fail instead."""
    if STRICT:
        pytest.fail(f"{reason} (CHAT_TEST_STRICT=1: nothing may be skipped)", pytrace=False)
    pytest.skip(reason)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# PostgreSQL: a fresh database per test session, dropped at the end.


def create_postgres_database() -> str:
    """A new empty database; returns its SQLAlchemy URL."""
    name = f"chat_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN}: {error}")
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5) as connection,
    ):
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_redis() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except (redis.RedisError, OSError) as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error}")
    return REDIS_URL


# The app as a real process.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_environment(**settings: str) -> dict[str, str]:
    """The test's environment without pytest's markers (NiceGUI would think it is under test)
    and without any CHAT_* setting of the developer's shell, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CHAT_"))}
    env.update(settings)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_main(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run main.py to completion (for --help and start-up failures)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class AppProcess:
    process: subprocess.Popen[str]
    url: str
    log_path: Path
    settings: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """SIGTERM to the app (a clean shutdown, as before); if it has not exited within 15 s,
        SIGKILL to its whole process group. Then whatever is left of the group (image workers,
        the fork server) is killed too, so nothing the app started outlives the test."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._kill_group()
                self.process.wait(timeout=5)
        self._kill_group()

    def _kill_group(self) -> None:
        # The app leads its own session and group (start_new_session): the group's id is its pid.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


@contextlib.contextmanager
def running_app(log_dir: Path, *, startup_timeout: float = 45, **settings: str) -> Iterator[AppProcess]:
    """Start main.py with CHAT_* settings on a free port, wait for /healthz, stop it afterwards."""
    port = free_port()
    settings.setdefault("CHAT_PORT", str(port))
    settings.setdefault("CHAT_RATE_LIMIT", "off")  # tests that seed hundreds of messages; the limit has its own
    # Every test client is 127.0.0.1, and tests mint hundreds of guests and messages: the per-address
    # limits are off unless a test sets them (tests/test_abuse.py does, in apps of its own).
    settings.setdefault("CHAT_GUEST_RATE_LIMIT", "off")
    settings.setdefault("CHAT_ADDRESS_RATE_LIMIT", "off")
    port = int(settings["CHAT_PORT"])
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"app-{port}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py")],
            cwd=ROOT,
            env=app_environment(**settings),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a process group of its own, for stop() to leave nothing behind
        )
    app = AppProcess(process=process, url=f"http://127.0.0.1:{port}", log_path=log_path, settings=settings)
    try:
        wait_until_healthy(app, timeout=startup_timeout)
        yield app
    finally:
        app.stop()


@contextlib.contextmanager
def module_app(tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str) -> Iterator[AppProcess]:
    """An app process of a test module's own, with its data in a fresh folder."""
    data_dir = tmp_path_factory.mktemp(name)
    with running_app(data_dir / "logs", CHAT_DATA_DIR=str(data_dir), **settings) as app:
        yield app


def wait_until(condition: Callable[[], object], *, timeout: float, message: str, every: float = 0.2) -> None:
    """Poll `condition` until it is true; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(every)


def wait_until_healthy(app: AppProcess, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise AssertionError(f"the app exited with {app.process.returncode}:\n{app.log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{app.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"the app did not become healthy within {timeout} s:\n{app.log()}")


class PrivateRedis:
    """A redis-server of the test's own, to stop and start without disturbing other tests."""

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
        wait_until(self._answers, timeout=10, message="the private Redis did not start within 10 s")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1).ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextlib.contextmanager
def private_redis_server(directory: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed")
    server = PrivateRedis(free_port(), directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
