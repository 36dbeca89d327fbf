"""GET /metrics (CONTRACT §8): the figures move when people use the chat, on PostgreSQL and Redis."""

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser
from prometheus_client.parser import text_string_to_metric_families

from tests.pages import Api, open_room, page_opener
from tests.support import (
    AppProcess,
    create_postgres_database,
    drop_postgres_database,
    require_redis,
    running_app,
    unique,
    wait_until,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    base = tmp_path_factory.mktemp("metrics")
    database_url = create_postgres_database()
    try:
        with running_app(
            base / "logs",
            CHAT_DATA_DIR=str(base / "data"),
            CHAT_DATABASE_URL=database_url,
            CHAT_REDIS_URL=require_redis(),
            CHAT_REDIS_PREFIX=unique("metrics"),
            CHAT_DB_POOL_SIZE="7",
        ) as process:
            yield process
    finally:
        drop_postgres_database(database_url)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(app: AppProcess) -> Samples:
    response = httpx.get(f"{app.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_opening_a_page_counts_an_open_view_and_closing_it_uncounts_it(browser: Browser, app: AppProcess) -> None:
    before = value(scrape(app), "chat_open_views")
    api = Api(app.url)
    slug = api.room()
    with page_opener(browser, app.url) as open_page:
        open_room(open_page, slug)
        wait_until(
            lambda: value(scrape(app), "chat_open_views") == before + 1, timeout=10, message="an open view is counted"
        )
    wait_until(
        lambda: value(scrape(app), "chat_open_views") == before, timeout=10, message="a closed view is uncounted"
    )
    api.close()


def test_posting_counts_a_message_and_its_bus_event_with_its_lag(app: AppProcess, browser: Browser) -> None:
    api = Api(app.url)
    slug = api.room()
    with page_opener(browser, app.url) as open_page:
        open_room(open_page, slug)  # a viewer, so that this process subscribes and receives the event
        before = scrape(app)
        api.say(slug, "counted")
        wait_until(
            lambda: (
                value(scrape(app), "chat_bus_events_received_total", type="message.created")
                > value(before, "chat_bus_events_received_total", type="message.created")
            ),
            timeout=5,
            message="the event comes back from Redis",
        )
    after = scrape(app)
    api.close()
    assert (
        value(after, "chat_messages_sent_total", kind="text")
        == value(before, "chat_messages_sent_total", kind="text") + 1
    )
    published = "chat_bus_events_published_total"
    assert value(after, published, type="message.created") == value(before, published, type="message.created") + 1
    assert value(after, "chat_bus_lag_seconds_count") > value(before, "chat_bus_lag_seconds_count")


def test_request_latency_is_labelled_by_route_template_not_by_raw_path(app: AppProcess) -> None:
    slug = unique("nowhere")
    httpx.get(f"{app.url}/api/v1/rooms/{slug}", timeout=10)
    httpx.get(f"{app.url}/{slug}/anything", timeout=10)
    samples = scrape(app)
    routes = {dict(labels).get("route") for name, labels in samples if name.startswith("chat_http_request_duration")}
    assert "/api/v1/rooms/{slug}" in routes and "unmatched" in routes
    assert not any(route and slug in route for route in routes)
    count = value(
        samples, "chat_http_request_duration_seconds_count", method="GET", route="/api/v1/rooms/{slug}", status="404"
    )
    assert count >= 1


def test_the_database_pool_is_reported(app: AppProcess) -> None:
    samples = scrape(app)
    assert value(samples, "chat_db_pool_size") == 7
    assert 0 <= value(samples, "chat_db_pool_checked_out") <= 7 + 10  # overflow may lend a few more
