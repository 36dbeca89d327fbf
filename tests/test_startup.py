"""Start-up as a user meets it: --help, configuration mistakes said in one line, flags winning
over variables, a restart that keeps everything, the printed URL and /healthz.

Every run is a real `python main.py` process with its own temporary data dir and a timeout."""

import io
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from services.config import Settings
from tests.support import (
    ROOT,
    AppProcess,
    app_environment,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    run_main,
    running_app,
)

FAIL_TIMEOUT = 30  # a start-up failure must end well before this
FAIL_QUICKLY = 15  # seconds a bad configuration may take to be reported


def bad_start(*args: str, data_dir: Path, **settings: str) -> str:
    """Run main.py expecting it to refuse; return its single stderr line after the common checks."""
    env = app_environment(CHAT_DATA_DIR=str(data_dir), CHAT_PORT=str(free_port()))
    env.update(settings)
    started = time.monotonic()
    result = run_main(*args, env=env, timeout=FAIL_TIMEOUT)
    elapsed = time.monotonic() - started
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip()
    assert line, "nothing on stderr"
    assert "\n" not in line, f"more than one line on stderr:\n{result.stderr}"
    assert elapsed < FAIL_QUICKLY, f"took {elapsed:.1f} s to fail"
    return line


# 1. --help


def test_help_lists_every_option_with_its_environment_variable() -> None:
    result = run_main("--help", env=app_environment(), timeout=FAIL_TIMEOUT)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # argparse wraps lines wherever it likes
    for flag, variable in [
        ("--host", "CHAT_HOST"),
        ("--port", "CHAT_PORT"),
        ("--data-dir", "CHAT_DATA_DIR"),
        ("--database-url", "CHAT_DATABASE_URL"),
        ("--redis-url", "CHAT_REDIS_URL"),
    ]:
        assert flag in text and variable in text, f"{flag} / {variable} missing from --help"
    # Every setting there is, so that a new one cannot be left out of --help.
    variables = [f"CHAT_{name.upper()}" for name in Settings.model_fields]
    missing = [variable for variable in variables if not re.search(rf"\b{variable}\b", text)]
    assert missing == [], "missing from --help"


# 2. Bad configuration: one clear line, non-zero exit, quickly


@pytest.mark.parametrize(
    ("args", "settings", "word"),
    [
        pytest.param(("--database-url", "mysql://x/y"), {}, "scheme", id="database-scheme-flag"),
        pytest.param((), {"CHAT_DATABASE_URL": "mysql://x/y"}, "scheme", id="database-scheme-env"),
        pytest.param(
            ("--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/nope"),
            {},
            "database",
            id="postgres-unreachable",
        ),
        pytest.param((), {"CHAT_PORT": "abc"}, "CHAT_PORT", id="port-not-a-number"),
        pytest.param((), {"CHAT_PORT": "70000"}, "CHAT_PORT", id="port-out-of-range"),
        pytest.param((), {"CHAT_RATE_LIMIT": "lots"}, "CHAT_RATE_LIMIT", id="rate-limit"),
        pytest.param((), {"CHAT_STORAGE_SECRET": ""}, "CHAT_STORAGE_SECRET", id="storage-secret-blank"),
        pytest.param(("--redis-url", "http://x"), {}, "Redis", id="redis-scheme"),
        pytest.param(("--redis-url", "redis://127.0.0.1:1/0"), {}, "Redis", id="redis-unreachable"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(
    tmp_path: Path, args: tuple[str, ...], settings: dict[str, str], word: str
) -> None:
    line = bad_start(*args, data_dir=tmp_path / "data", **settings)
    assert word.lower() in line.lower(), line


def test_port_in_use_stops_with_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = bad_start(data_dir=tmp_path / "data", CHAT_PORT=str(port))
    assert "in use" in line and str(port) in line, line


def test_unwritable_data_dir_stops_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a regular file, not a folder")
    data_dir = tmp_path / "file" / "data"
    line = bad_start(data_dir=data_dir)
    assert "data dir" in line and str(data_dir) in line, line


# 3. A flag wins over its variable


@pytest.fixture
def started_with_flags(tmp_path: Path) -> Iterator[str]:
    """main.py with bad CHAT_* variables, each overridden by a good flag; yields its URL."""
    port = free_port()
    args = ["--port", str(port), "--data-dir", str(tmp_path / "data")]
    args += ["--database-url", f"sqlite:///{tmp_path / 'flag.db'}"]
    log_path = tmp_path / "app.log"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = app_environment(
            CHAT_PORT=str(busy.getsockname()[1]),
            CHAT_DATABASE_URL="mysql://x/y",
            CHAT_DATA_DIR=str(tmp_path / "unused-data"),
        )
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), *args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 45
            while not healthy(url):
                assert process.poll() is None, f"exited with {process.returncode}:\n{log_path.read_text()}"
                assert time.monotonic() < deadline, f"not healthy within 45 s:\n{log_path.read_text()}"
                time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_flags_win_over_their_environment_variables(started_with_flags: str, tmp_path: Path) -> None:
    response = httpx.get(f"{started_with_flags}/healthz", timeout=10)
    assert response.status_code == 200, response.text
    assert (tmp_path / "flag.db").exists(), "the --database-url file was not used"
    assert (tmp_path / "data" / "storage_secret").exists(), "the --data-dir was not used"
    assert not (tmp_path / "unused-data").exists(), "CHAT_DATA_DIR was used despite --data-dir"


# 4. A restart on the same data dir (and database) keeps everything


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(params=["sqlite", "postgresql"])
def restart_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    settings = {"CHAT_DATA_DIR": str(tmp_path / "data")}
    if request.param == "sqlite":
        yield settings
        return
    url = settings["CHAT_DATABASE_URL"] = create_postgres_database()
    try:
        yield settings
    finally:
        drop_postgres_database(url)


def test_restart_on_the_same_data_dir_keeps_everything(restart_settings: dict[str, str], tmp_path: Path) -> None:
    data_dir = Path(restart_settings["CHAT_DATA_DIR"])
    with (
        running_app(tmp_path / "logs-1", **restart_settings) as app,
        httpx.Client(base_url=app.url, timeout=10) as client,
    ):
        guest = client.post("/api/v1/guests", json={"display_name": "Ada"})
        assert guest.status_code == 201, guest.text
        token, guest_id = guest.json()["token"], guest.json()["id"]
        auth = {"Authorization": f"Bearer {token}"}
        room = client.post("/api/v1/rooms", json={"name": "Survivors"}, headers=auth)
        assert room.status_code == 201, room.text
        slug = room.json()["slug"]
        text = client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "still here?"}, headers=auth)
        assert text.status_code == 201, text.text
        image = client.post(
            f"/api/v1/rooms/{slug}/images",
            files={"file": ("dot.png", png_bytes(), "image/png")},
            headers=auth,
        )
        assert image.status_code == 201, image.text
        image_url = image.json()["image"]["url"]
    secret = (data_dir / "storage_secret").read_bytes()

    with (
        running_app(tmp_path / "logs-2", **restart_settings) as app,
        httpx.Client(base_url=app.url, timeout=10) as client,
    ):
        me = client.get("/api/v1/guests/me", headers=auth)
        assert me.status_code == 200, me.text
        assert me.json()["id"] == guest_id
        assert slug in [room["slug"] for room in client.get("/api/v1/rooms").json()]
        messages = client.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]
        assert [m["kind"] for m in messages] == ["text", "image"]
        assert messages[0]["text"] == "still here?"
        stored = client.get(httpx.URL(app.url).join(image_url))
        assert stored.status_code == 200
        assert stored.headers["content-type"] == "image/png"
    assert (data_dir / "storage_secret").read_bytes() == secret, "the storage secret changed on restart"


# 5 and 6. The printed URL and /healthz


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    data_dir = tmp_path_factory.mktemp("startup-app")
    with running_app(data_dir / "logs", CHAT_DATA_DIR=str(data_dir)) as app:
        yield app


def test_the_app_prints_the_url_it_serves_on(app: AppProcess) -> None:
    deadline = time.monotonic() + 10
    while app.url not in app.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert app.url in app.log(), app.log()


def test_healthz_reports_everything_ok(app: AppProcess) -> None:
    response = httpx.get(f"{app.url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "bus": "ok"}
