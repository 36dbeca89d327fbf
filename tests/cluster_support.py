"""Two app processes sharing PostgreSQL, Redis and a media folder, as in production: the fixtures
of the cluster tests (tests/test_cluster.py, tests/test_cluster_conversation.py).

A test module uses them with `pytest_plugins = ("tests.cluster_support",)`: pytest then finds the
fixtures by name, without imports that linters would call unused. `cluster` is module-scoped, so
each module gets two fresh instances of its own.

The Redis server is the module's own, so that a test can stop and start it without disturbing
other tests; the PostgreSQL database is its own for the same reason.

PYTEST_DONT_REWRITE: the test modules import Cluster from here before pytest loads the plugin,
too late for assertion rewriting (which it would warn about); nothing here asserts.
"""

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.pages import Api, PageOpener, page_opener
from tests.support import (
    AppProcess,
    PrivateRedis,
    create_postgres_database,
    drop_postgres_database,
    private_redis_server,
    running_app,
    unique,
)

ADMIN_TOKEN = "cluster-admin-token-0123456789"


@dataclass
class Cluster:
    one: AppProcess
    two: AppProcess
    redis: PrivateRedis
    database_url: str
    prefix: str


@dataclass
class Deployment:
    """What the instances of one deployment share; `settings` starts an instance of it."""

    database_url: str
    redis: PrivateRedis
    settings: dict[str, str]
    base: Path


@contextlib.contextmanager
def deployment(base: Path, name: str, **settings: str) -> Iterator[Deployment]:
    """A PostgreSQL database, a Redis server and a media folder of their own, and the settings
    that make instances share them (plus `settings`); everything goes again at the end."""
    (base / "redis").mkdir()
    database_url = create_postgres_database()
    try:
        with private_redis_server(base / "redis") as redis_server:
            shared = {
                "CHAT_DATABASE_URL": database_url,
                "CHAT_REDIS_URL": redis_server.url,
                "CHAT_REDIS_PREFIX": unique(name),
                "CHAT_STORAGE_SECRET": "one-secret-for-every-instance",
                "CHAT_MEDIA_DIR": str(base / "media"),
                **settings,
            }
            yield Deployment(database_url, redis_server, shared, base)
    finally:
        drop_postgres_database(database_url)


def start_instance(shared: Deployment, name: str) -> contextlib.AbstractContextManager[AppProcess]:
    return running_app(shared.base / name, CHAT_DATA_DIR=str(shared.base / name), **shared.settings)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with (
        deployment(tmp_path_factory.mktemp("cluster"), "cluster", CHAT_ADMIN_TOKEN=ADMIN_TOKEN) as shared,
        start_instance(shared, "one") as one,
        start_instance(shared, "two") as two,
    ):
        yield Cluster(one, two, shared.redis, shared.database_url, shared.settings["CHAT_REDIS_PREFIX"])


@pytest.fixture
def on_one(browser: Browser, cluster: Cluster) -> Iterator[PageOpener]:
    with page_opener(browser, cluster.one.url) as open_page:
        yield open_page


@pytest.fixture
def on_two(browser: Browser, cluster: Cluster) -> Iterator[PageOpener]:
    with page_opener(browser, cluster.two.url) as open_page:
        yield open_page


@pytest.fixture
def api_one(cluster: Cluster) -> Iterator[Api]:
    api = Api(cluster.one.url, "Script on one")
    yield api
    api.close()


@pytest.fixture
def api_two(cluster: Cluster) -> Iterator[Api]:
    api = Api(cluster.two.url, "Script on two")
    yield api
    api.close()
