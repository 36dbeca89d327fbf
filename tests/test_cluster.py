"""Two app processes sharing PostgreSQL, Redis and a media folder, as in production.

The Redis server is the module's own, so that it can be stopped and started again without
disturbing other tests; the PostgreSQL database is the module's own for the same reason
(the fixtures: tests/cluster_support.py).
"""

import time
from pathlib import Path

import httpx
import psycopg
import redis
from PIL import Image
from playwright.sync_api import expect

from tests.cluster_support import ADMIN_TOKEN, Cluster
from tests.pages import Api, PageOpener, message_texts, open_room, send
from tests.support import POSTGRES_ADMIN_DSN, AppProcess, unique, wait_until

WITHIN_A_SECOND = 1_000  # ms: CONTRACT section 3, across instances too
HEALTH_RECOVERY = 2.0  # s from Redis answering again to /healthz saying so on every instance

pytest_plugins = ("tests.cluster_support",)  # the cluster, on_one/on_two and api_one/api_two fixtures


def test_browsers_on_two_instances_chat_live(on_one: PageOpener, on_two: PageOpener, api_one: Api) -> None:
    slug = api_one.room()
    alice, bob = open_room(on_one, slug), open_room(on_two, slug)
    send(alice, "from instance one")
    expect(bob.get_by_test_id("message-text").last).to_have_text("from instance one", timeout=WITHIN_A_SECOND)
    send(bob, "from instance two")
    expect(alice.get_by_test_id("message-text").last).to_have_text("from instance two", timeout=WITHIN_A_SECOND)


def test_an_api_post_on_one_instance_appears_on_the_other(on_one: PageOpener, api_two: Api) -> None:
    slug = api_two.room()
    page = open_room(on_one, slug)
    api_two.say(slug, "posted through instance two")
    expect(page.get_by_test_id("message-text").last).to_have_text(
        "posted through instance two", timeout=WITHIN_A_SECOND
    )
    expect(page.get_by_test_id("message-author").last).to_have_text("Script on two")


def test_an_image_uploaded_on_one_instance_is_served_by_both(
    on_one: PageOpener, on_two: PageOpener, api_one: Api, cluster: Cluster, tmp_path: Path
) -> None:
    slug = api_one.room()
    alice, bob = open_room(on_one, slug), open_room(on_two, slug)
    photo = tmp_path / "shared.png"
    Image.new("RGB", (640, 480), "gold").save(photo)
    alice.locator("[data-testid=image-upload] input[type=file]").set_input_files(photo)
    image = bob.get_by_test_id("message-image").last
    expect(image).to_be_visible(timeout=5_000)
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") == 400
    url = httpx.get(f"{cluster.one.url}/api/v1/rooms/{slug}/messages").json()["messages"][-1]["image"]["url"]
    for instance in (cluster.one, cluster.two):
        response = httpx.get(instance.url + url)
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"


def test_a_ban_and_a_deletion_on_one_instance_hold_on_the_other(
    on_two: PageOpener, api_one: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    troll = Api(cluster.two.url, "Troll on two")
    doomed = troll.say(slug, "spam through instance two")
    page = open_room(on_two, slug)
    expect(page.get_by_test_id("message-text")).to_have_text(["spam through instance two"])
    admin_one = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    # Deleted through instance one: gone from the page open on instance two, and from its paging.
    assert httpx.delete(f"{cluster.one.url}/api/v1/admin/messages/{doomed}", headers=admin_one).status_code == 204
    expect(page.get_by_test_id("message")).to_have_count(0, timeout=2_000)
    assert httpx.get(f"{cluster.two.url}/api/v1/rooms/{slug}/messages").json()["messages"] == []
    # Banned through instance one: refused on instance two, until unbanned through instance one.
    troll_id = httpx.get(f"{cluster.two.url}/api/v1/guests/me", headers=troll.auth).json()["id"]
    assert httpx.post(f"{cluster.one.url}/api/v1/admin/guests/{troll_id}/ban", headers=admin_one).status_code == 200
    refused = troll.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "more spam"}, headers=troll.auth)
    assert refused.status_code == 403 and "banned" in refused.json()["detail"]
    assert httpx.delete(f"{cluster.one.url}/api/v1/admin/guests/{troll_id}/ban", headers=admin_one).status_code == 200
    troll.say(slug, "sorry")
    expect(page.get_by_test_id("message-text")).to_have_text(["sorry"], timeout=WITHIN_A_SECOND)
    troll.close()


def test_room_lists_agree_and_update_live(on_two: PageOpener, api_one: Api, cluster: Cluster) -> None:
    page = on_two("/")
    expect(page.get_by_test_id("room-list")).to_be_attached()
    name = unique("Made on one")
    api_one.room(name)
    expect(page.get_by_test_id("room-item").filter(has_text=name)).to_be_visible(timeout=2_000)
    assert httpx.get(f"{cluster.one.url}/api/v1/rooms").json() == httpx.get(f"{cluster.two.url}/api/v1/rooms").json()


def test_a_guest_is_the_same_guest_on_every_instance(on_one: PageOpener, cluster: Cluster) -> None:
    api = Api(cluster.one.url, "Roaming script")
    me = httpx.get(f"{cluster.two.url}/api/v1/guests/me", headers=api.auth)
    assert me.status_code == 200 and me.json()["display_name"] == "Roaming script"
    api.close()
    # A browser session made on one instance is valid on the other (same storage secret).
    page = on_one("/")
    page.get_by_test_id("profile-button").click()
    page.get_by_test_id("display-name-input").fill("Traveller")
    page.get_by_test_id("display-name-save").click()
    expect(page.get_by_test_id("current-user-name")).to_have_text("Traveller")
    page.goto(f"{cluster.two.url}/")
    expect(page.get_by_test_id("current-user-name")).to_have_text("Traveller")


def numsub(cluster: Cluster, slug: str) -> int:
    client = redis.Redis.from_url(cluster.redis.url)
    try:
        return int(client.pubsub_numsub(f"{cluster.prefix}:room.{slug}")[0][1])
    finally:
        client.close()


def test_each_process_holds_one_subscription_per_room_while_it_has_viewers(
    on_one: PageOpener, on_two: PageOpener, api_one: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    assert numsub(cluster, slug) == 0
    pages = [open_room(on_one, slug) for _ in range(3)]
    wait_until(lambda: numsub(cluster, slug) == 1, timeout=5, message="three viewers on one process: one subscription")
    open_room(on_two, slug)
    wait_until(
        lambda: numsub(cluster, slug) == 2, timeout=5, message="a viewer on the second process: its own subscription"
    )
    for page in pages:
        page.close()
    # NiceGUI keeps a closed page for its reconnect grace period (10 s) before dropping it.
    wait_until(
        lambda: numsub(cluster, slug) == 1, timeout=25, message="the first process drops the room after its last viewer"
    )


def health(instance: AppProcess) -> tuple[int, dict[str, str]]:
    response = httpx.get(f"{instance.url}/healthz", timeout=10)
    return response.status_code, response.json()


def test_a_redis_restart_loses_no_message_and_health_recovers(
    on_one: PageOpener, on_two: PageOpener, api_one: Api, api_two: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    alice, bob = open_room(on_one, slug), open_room(on_two, slug)
    api_one.say(slug, "before the outage")
    expect(bob.get_by_test_id("message-text").last).to_have_text("before the outage", timeout=WITHIN_A_SECOND)

    cluster.redis.stop()
    for instance in (cluster.one, cluster.two):
        wait_until(
            lambda instance=instance: health(instance)[0] == 503,
            timeout=10,
            message="health names the bus while Redis is down",
        )
        assert health(instance)[1]["bus"].startswith("redis")
    api_one.say(slug, "during the outage, via one")  # saved: sending does not depend on Redis
    api_two.say(slug, "during the outage, via two")
    send(alice, "during the outage, typed on one")
    cluster.redis.start()  # returns once Redis answers PING
    answered = time.monotonic()

    for instance in (cluster.one, cluster.two):  # within a second or two of Redis answering, not ~10 s
        wait_until(
            lambda instance=instance: health(instance)[0] == 200,
            timeout=max(0.1, answered + HEALTH_RECOVERY - time.monotonic()),
            message=f"health reports the bus back within {HEALTH_RECOVERY} s of Redis answering",
        )
    expected = [
        "before the outage",
        "during the outage, via one",
        "during the outage, via two",
        "during the outage, typed on one",
    ]
    for page in (alice, bob):  # the views catch up from the database, each message once, in order
        expect(page.get_by_test_id("message-text")).to_have_text(expected, timeout=10_000)
    api_two.say(slug, "after the outage")
    for page in (alice, bob):
        expect(page.get_by_test_id("message-text").last).to_have_text("after the outage", timeout=WITHIN_A_SECOND)
        assert message_texts(page) == [*expected, "after the outage"]


def allow_connections(database_url: str, allowed: bool) -> None:
    """Make the database unreachable (new connections refused, open ones cut) or reachable again."""
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        if not allowed:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def test_a_database_outage_is_a_clear_error_and_heals_without_a_restart(
    on_one: PageOpener, api_one: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    page = open_room(on_one, slug)
    expect(page.get_by_text("No messages in")).to_be_visible()  # the history has loaded
    allow_connections(cluster.database_url, False)
    try:
        response = api_one.client.post(f"/api/v1/rooms/{slug}/messages", json={"text": "lost?"}, headers=api_one.auth)
        assert response.status_code == 503 and "database" in response.json()["detail"]
        status, body = health(cluster.one)
        assert status == 503 and body["database"] != "ok" and body["bus"] == "ok"
        send(page, "typed while the database is down")
        expect(page.locator(".q-notification").filter(has_text="cannot reach its database")).to_be_visible(
            timeout=10_000
        )
        expect(page.get_by_test_id("message-input")).to_have_value("typed while the database is down")
    finally:
        allow_connections(cluster.database_url, True)
    wait_until(lambda: health(cluster.one)[0] == 200, timeout=15, message="health recovers with the database")
    api_one.say(slug, "after the outage")
    page.get_by_test_id("send-button").click()  # the text the user typed is still there: send it now
    expect(page.get_by_test_id("message-text")).to_have_text(
        ["after the outage", "typed while the database is down"], timeout=5_000
    )


def test_a_room_opened_during_a_database_outage_loads_once_it_is_back(
    on_one: PageOpener, api_one: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    api_one.say(slug, "waiting in the database")
    page = on_one("/")  # the visitor is known before the outage
    expect(page.get_by_test_id("room-list")).to_be_attached()
    allow_connections(cluster.database_url, False)
    try:
        page = on_one(f"/rooms/{slug}", context=page.context)
        expect(page.get_by_text("cannot reach its database")).to_be_visible()  # and the page retries by itself
    finally:
        allow_connections(cluster.database_url, True)
    expect(page.get_by_test_id("message-text")).to_have_text(["waiting in the database"], timeout=10_000)
    api_one.say(slug, "and live again")
    expect(page.get_by_test_id("message-text").last).to_have_text("and live again", timeout=WITHIN_A_SECOND)
