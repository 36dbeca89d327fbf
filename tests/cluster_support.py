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

from collections.abc import Iterator
from dataclasses import dataclass

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


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    base = tmp_path_factory.mktemp("cluster")
    (base / "redis").mkdir()
    database_url = create_postgres_database()
    prefix = unique("cluster")
    try:
        with private_redis_server(base / "redis") as redis_server:
            shared = {
                "CHAT_DATABASE_URL": database_url,
                "CHAT_REDIS_URL": redis_server.url,
                "CHAT_REDIS_PREFIX": prefix,
                "CHAT_STORAGE_SECRET": "one-secret-for-every-instance",
                "CHAT_MEDIA_DIR": str(base / "media"),
                "CHAT_ADMIN_TOKEN": ADMIN_TOKEN,
            }
            with (
                running_app(base / "one", CHAT_DATA_DIR=str(base / "one"), **shared) as one,
                running_app(base / "two", CHAT_DATA_DIR=str(base / "two"), **shared) as two,
            ):
                yield Cluster(one, two, redis_server, database_url, prefix)
    finally:
        drop_postgres_database(database_url)


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
