"""Faults while people talk (#13): PostgreSQL backends terminated, an instance killed with
SIGKILL, Redis restarted, each while scripts post through the API on two instances.

What must hold every time: every message that was accepted (201) is stored once and shown once,
in order, in every open view on a surviving instance; a post that failed got a clear 503 (or, on
the killed instance, no answer at all), never a 500. Every loop here is bounded in count and time.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, Page

from tests.cluster_support import Deployment, deployment, start_instance
from tests.pages import Api, PageOpener, message_texts, open_room, page_opener
from tests.support import (
    POSTGRES_ADMIN_DSN,
    AppProcess,
    unique,
    wait_until,
)

POSTS_PER_POSTER = 80  # under the 200 messages a view keeps rendered, with two posters
PACE = 0.08  # s between posts: about 12 messages per second per poster
STEADY = 8  # accepted posts per poster before the fault, and again after it
CATCH_UP = 20  # s for views to show what was accepted


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    # The posters are scripts on one address, posting faster than any person would.
    limits_off = {"CHAT_RATE_LIMIT": "off", "CHAT_ADDRESS_RATE_LIMIT": "off", "CHAT_GUEST_RATE_LIMIT": "off"}
    with deployment(tmp_path_factory.mktemp("faults"), "faults", **limits_off) as shared:
        yield shared


@dataclass
class Pair:
    shared: Deployment
    one: AppProcess
    two: AppProcess


@pytest.fixture(scope="module")
def pair(shared: Deployment) -> Iterator[Pair]:
    with start_instance(shared, "one") as one, start_instance(shared, "two") as two:
        yield Pair(shared, one, two)


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[AppProcess], PageOpener]]:
    """Opens pages on a given instance, closed after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda instance: stack.enter_context(page_opener(browser, instance.url))


@dataclass
class Poster:
    """Posts numbered messages to one instance, one after the other, until stopped (or its count
    is done), and records what each post was answered."""

    instance: AppProcess
    slug: str
    label: str
    answers: list[tuple[str, int | None, str]] = field(default_factory=list)  # text, status (None: none), body
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._api = Api(self.instance.url, f"Poster {self.label}")
        self._thread = threading.Thread(target=self._run, name=f"poster-{self.label}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for number in range(POSTS_PER_POSTER):
            if self._stop.is_set():
                return
            text = f"{self.label} {number:03}"
            try:
                response = self._api.client.post(
                    f"/api/v1/rooms/{self.slug}/messages", json={"text": text}, headers=self._api.auth, timeout=15
                )
                self.answers.append((text, response.status_code, response.text[:300]))
            except httpx.TransportError as error:  # the instance is gone, or the answer never came
                self.answers.append((text, None, repr(error)))
            time.sleep(PACE)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), f"poster {self.label} did not stop within 30 s"
        self._api.close()

    @property
    def accepted(self) -> list[str]:
        return [text for text, status, _ in self.answers if status == 201]

    def wait_for_accepted(self, count: int, *, timeout: float) -> None:
        wait_until(
            lambda: len(self.accepted) >= count,
            timeout=timeout,
            message=f"poster {self.label}: {len(self.accepted)} of {count} posts accepted; last answers "
            f"{self.answers[-3:]}",
        )


def stored_texts(instance: AppProcess, slug: str) -> list[str]:
    """Every message of the room, oldest first, paged back through the API."""
    texts: list[str] = []
    before = None
    for _ in range(100):
        params = {"limit": 100, **({"before": before} if before else {})}
        page = httpx.get(f"{instance.url}/api/v1/rooms/{slug}/messages", params=params, timeout=10).json()
        texts = [message["text"] for message in page["messages"]] + texts
        if not page["has_more"]:
            return texts
        before = page["messages"][0]["id"]
    raise AssertionError("paging the history did not end")


def check_answers(posters: list[Poster], *, may_vanish: Collection[str] = ()) -> None:
    """Every post was accepted or refused with a clear 503; only a killed instance may not answer."""
    for poster in posters:
        for text, status, body in poster.answers:
            if status is None:
                assert poster.label in may_vanish, f"{text}: no answer from a live instance: {body}"
                continue
            assert status in (201, 503), f"{text}: answered {status}: {body}"
            if status == 503:
                assert '"detail"' in body, f"{text}: a 503 without a reason: {body}"


def check_complete(posters: list[Poster], stored: list[str], views: list[Page]) -> None:
    """Accepted messages are all stored once, in each poster's order; every view shows each of
    them once, in the stored order (a view may miss only a post that was never answered 201)."""
    assert len(stored) == len(set(stored)), "a message was stored twice"
    position = {text: index for index, text in enumerate(stored)}
    for poster in posters:
        missing = [text for text in poster.accepted if text not in position]
        assert not missing, f"accepted (201) but not stored: {missing}"
        assert [position[text] for text in poster.accepted] == sorted(position[text] for text in poster.accepted)
    accepted = {text for poster in posters for text in poster.accepted}
    for view in views:
        wait_until(
            lambda view=view: accepted <= set(message_texts(view)),
            timeout=CATCH_UP,
            message=f"a view lacks accepted messages: {sorted(accepted - set(message_texts(view)))[:10]}",
        )
        shown = message_texts(view)
        assert len(shown) == len(set(shown)), "a view shows a message twice"
        assert all(text in position for text in shown), "a view shows a message that is not stored"
        assert [position[text] for text in shown] == sorted(position[text] for text in shown), "out of order"


def post_through(fault: Callable[[], None], posters: list[Poster], *, survivors: list[Poster]) -> None:
    """Start the posters, let them settle, cause the fault, and stop once the survivors posted again."""
    for poster in posters:
        poster.start()
    try:
        for poster in posters:
            poster.wait_for_accepted(STEADY, timeout=20)
        fault()
        before = {poster.label: len(poster.accepted) for poster in survivors}
        for poster in survivors:
            poster.wait_for_accepted(before[poster.label] + STEADY, timeout=30)
    finally:
        for poster in posters:
            poster.stop()
    for poster in posters:  # shown with -s: how hard the fault hit
        statuses = [status for _, status, _ in poster.answers]
        print(f"{poster.label}: " + ", ".join(f"{s}: {statuses.count(s)}" for s in sorted(set(statuses), key=str)))


def new_room(instance: AppProcess) -> str:
    host = Api(instance.url, "Host")
    try:
        return host.room()
    finally:
        host.close()


def terminate_backends(database_url: str) -> int:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def test_terminated_database_backends_lose_no_accepted_message(
    pair: Pair, new_page: Callable[[AppProcess], PageOpener]
) -> None:
    slug = new_room(pair.one)
    views = [open_room(new_page(pair.one), slug), open_room(new_page(pair.two), slug)]
    posters = [Poster(pair.one, slug, "via-one"), Poster(pair.two, slug, "via-two")]
    terminated: list[int] = []

    def cut_every_connection_for_two_seconds() -> None:
        # Often enough that some connections die mid-transaction, not only idle in the pool.
        for _ in range(40):
            terminated.append(terminate_backends(pair.shared.database_url))
            time.sleep(0.05)

    post_through(cut_every_connection_for_two_seconds, posters, survivors=posters)
    assert sum(terminated) > 0, "the fault did not happen: no backend was terminated"
    check_answers(posters)
    check_complete(posters, stored_texts(pair.one, slug), views)


def test_an_instance_killed_with_sigkill_loses_no_accepted_message(
    pair: Pair, new_page: Callable[[AppProcess], PageOpener]
) -> None:
    with start_instance(pair.shared, unique("victim")) as victim:
        slug = new_room(pair.one)
        views = [open_room(new_page(pair.one), slug), open_room(new_page(pair.two), slug)]
        survivor, doomed = Poster(pair.one, slug, "via-one"), Poster(victim, slug, "via-victim")
        post_through(victim.process.kill, [survivor, doomed], survivors=[survivor])
        assert victim.process.wait(timeout=10) == -9
    check_answers([survivor, doomed], may_vanish={"via-victim"})
    assert any(status is None for _, status, _ in doomed.answers), "the killed instance answered every post"
    check_complete([survivor, doomed], stored_texts(pair.two, slug), views)
    assert httpx.get(f"{pair.two.url}/healthz", timeout=5).status_code == 200


def test_a_redis_restart_while_posting_loses_no_accepted_message(
    pair: Pair, new_page: Callable[[AppProcess], PageOpener]
) -> None:
    slug = new_room(pair.one)
    views = [open_room(new_page(pair.one), slug), open_room(new_page(pair.two), slug)]
    posters = [Poster(pair.one, slug, "via-one"), Poster(pair.two, slug, "via-two")]

    def restart_redis() -> None:
        pair.shared.redis.stop()
        time.sleep(2)
        pair.shared.redis.start()

    post_through(restart_redis, posters, survivors=posters)
    check_answers(posters)
    check_complete(posters, stored_texts(pair.two, slug), views)
