"""Fixtures: the database on SQLite and PostgreSQL, Redis, and the app as a real process."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import text
from sqlmodel import Session

from services.bus import EventBus, make_bus
from services.database import Database
from tests.pages import CHROMIUM_ARGS, PageOpener, chromium_path, page_opener
from tests.support import (
    AppProcess,
    PrivateRedis,
    create_postgres_database,
    drop_postgres_database,
    private_redis_server,
    require_redis,
    running_app,
    unavailable,
    unique,
)

TABLES = ("audit_entry", "invite", "message", "image", "membership", "room", "guest")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return require_redis()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One migrated database per backend for the whole run; `db` empties it after each test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'chat.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url, bus=make_bus(None))
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def db(migrated_database: Database) -> Iterator[Database]:
    migrated_database.bus = make_bus(None)  # the test's own in-process bus (see the `bus` fixture)
    yield migrated_database
    with migrated_database.engine.begin() as connection:
        if migrated_database.dialect == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
async def bus(db: Database) -> AsyncIterator[EventBus]:
    """The bus `db.run` publishes on, started: subscribe to it to hear what a change announced."""
    await db.bus.start()
    yield db.bus
    await db.bus.close()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as session:
        yield session


@pytest.fixture(scope="session", params=["sqlite+memory", "postgresql+redis"])
def app_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    """The real app, once on its defaults and once on PostgreSQL with Redis, shared by the API tests."""
    data_dir: Path = tmp_path_factory.mktemp(f"app-{request.param}")
    settings = {"CHAT_DATA_DIR": str(data_dir), "CHAT_MAX_UPLOAD_MB": "1"}
    database_url = None
    if request.param == "postgresql+redis":
        # Its own database: the service tests empty theirs after every test.
        database_url = settings["CHAT_DATABASE_URL"] = create_postgres_database()
        settings["CHAT_REDIS_URL"] = request.getfixturevalue("redis_url")
        settings["CHAT_REDIS_PREFIX"] = unique("chat-test")
    try:
        with running_app(data_dir / "logs", **settings) as app:
            yield app
    finally:
        if database_url:
            drop_postgres_database(database_url)


@pytest.fixture
def api(app_server: AppProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_server.url, timeout=10) as client:
        yield client


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis_server(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Real Chromium, one per test module (Playwright's sync API must not outlive a module's tests)."""
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        except PlaywrightError as error:
            unavailable(f"Chromium cannot start (install Debian's chromium or run `playwright install`): {error}")
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Browser, chat: AppProcess) -> Iterator[PageOpener]:
    """Opens pages of the module's app (its own `chat` fixture), each in a fresh browser context."""
    with page_opener(browser, chat.url) as open_page:
        yield open_page
