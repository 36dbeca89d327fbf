"""The pages through NiceGUI's simulated User: no browser, the real app (main.py) on SQLite."""

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from html import unescape
from pathlib import Path

import httpx
import pytest
from nicegui import ElementFilter, core
from nicegui.testing import User
from nicegui.testing.user_simulation import user_simulation

from models.message import MessagePublic
from services import guests, messages
from services.database import Database
from services.events import MessageCreated, room_channel
from tests.support import ROOT, free_port

UserFactory = Callable[[], User]


@pytest.fixture
async def users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[UserFactory]:
    """Simulated visitors of one app instance; each call is a new browser."""
    monkeypatch.setattr(sys, "argv", ["main.py"])
    for name in [name for name in os.environ if name.startswith("CHAT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CHAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CHAT_PORT", str(free_port()))
    async with user_simulation(main_file=ROOT / "main.py") as first:
        spare = [first]

        def new_user() -> User:
            visitor = (
                spare.pop()
                if spare
                else User(httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test"))
            )
            # The browser would answer these scripts; the simulation has no browser.
            visitor.javascript_rules[re.compile(r".*resolvedOptions\(\)\.timeZone")] = lambda _: "Europe/Berlin"
            return visitor

        yield new_user


async def create_room(user: User, name: str) -> None:
    await user.open("/")
    user.find(marker="create-room-button").click()
    user.find(marker="room-name-input").type(name)
    user.find(marker="create-room-submit").click()
    await user.should_see(marker="room-title")


async def test_a_first_visit_gets_a_guest_name_and_an_empty_room_list(users: UserFactory) -> None:
    user = users()
    await user.open("/")
    name = user.find(marker="current-user-name").elements.pop()
    assert name.text.startswith("Guest ")
    await user.should_see("No rooms yet")


async def test_creating_a_room_lands_in_it_and_lists_it(users: UserFactory) -> None:
    user = users()
    await create_room(user, "Book club")
    await user.should_see("Book club")
    await user.should_see("No messages in Book club yet. Say hello!")
    other = users()
    await other.open("/")
    await other.should_see("Book club")


async def test_a_taken_room_name_is_refused_inline(users: UserFactory) -> None:
    user = users()
    await create_room(user, "Lobby")
    await user.open("/")
    user.find(marker="create-room-button").click()
    user.find(marker="room-name-input").type("LOBBY")
    user.find(marker="create-room-submit").click()
    await user.should_see("exists already")


# A row's id, then its text, without running into the next row.
ROW = re.compile(r'data-message-id="(\d+)"(?:(?!data-message-id).)*?data-testid="message-text"[^>]*>(.*?)</div>', re.S)


TAG = re.compile(r"<[^>]*>")  # user markup is escaped (&lt;b&gt;), so every real tag is the renderer's


def shown_texts(user: User) -> list[str]:
    """The texts of the rendered messages, oldest first. Rows are HTML inside chunk elements: the
    Markdown's own tags (<p>, <br>) dropped and user text unescaped, what was sent must come back."""
    with user:
        html = "".join(chunk.html for chunk in ElementFilter(marker="message-chunk", local_scope=False))
    rows = sorted((int(id_), text) for id_, text in ROW.findall(html))
    return [unescape(TAG.sub("", text)).strip() for _, text in rows]


async def should_show(user: User, expected: list[str]) -> None:
    for _ in range(50):
        if shown_texts(user) == expected:
            return
        await asyncio.sleep(0.1)
    assert shown_texts(user) == expected


async def test_two_visitors_see_each_others_messages_live(users: UserFactory) -> None:
    alice, bob = users(), users()
    await create_room(alice, "Lobby")
    await bob.open("/rooms/lobby")
    bob.find(marker="message-input").type("Hi from Bob")
    bob.find(marker="send-button").click()
    await should_show(alice, ["Hi from Bob"])
    await should_show(bob, ["Hi from Bob"])
    alice.find(marker="message-input").type("<b>not bold</b>")
    alice.find(marker="send-button").click()
    await should_show(bob, ["Hi from Bob", "<b>not bold</b>"])
    # Escaped on the way into the page: the browser shows the characters, it does not make them bold.
    with bob:
        assert any(
            "&lt;b&gt;not bold&lt;/b&gt;" in chunk.html
            for chunk in ElementFilter(marker="message-chunk", local_scope=False)
        )


async def test_renaming_changes_the_name_in_the_header(users: UserFactory) -> None:
    user = users()
    await user.open("/")
    user.find(marker="profile-button").click()
    user.find(marker="display-name-input").clear().type("Ada Lovelace")
    user.find(marker="display-name-save").click()
    await user.should_see("You are now Ada Lovelace")
    assert user.find(marker="current-user-name").elements.pop().text == "Ada Lovelace"
    await user.open("/")
    assert user.find(marker="current-user-name").elements.pop().text == "Ada Lovelace"


async def test_an_unknown_room_shows_a_way_back(users: UserFactory) -> None:
    user = users()
    await user.open("/rooms/no-such-room")
    await user.should_see("This room does not exist")
    user.find("Back to all rooms").click()
    await user.should_see(marker="room-list")


def rendered_ids(user: User) -> list[int]:
    """The ids of the rendered messages in page order (chunk by chunk, row by row)."""
    with user:
        chunks = list(ElementFilter(marker="message-chunk", local_scope=False))
    if not chunks:
        return []
    in_page_order = chunks[0].parent_slot.children  # type: ignore[union-attr]
    return [int(i) for chunk in in_page_order for i in re.findall(r'data-message-id="(\d+)"', chunk.html)]


async def test_a_message_announced_late_takes_its_place_in_order(users: UserFactory) -> None:
    """With several instances, a message can be announced after a newer one: it goes where its id says."""
    user = users()
    await create_room(user, "Order")
    context = core.app.state.chat
    slug = "order"
    author = await context.db.run(guests.create_guest, display_name="Elsewhere")

    def save_unannounced(text: str) -> MessagePublic:
        """Saved in a session of the test's own, whose queued event is never published."""
        with context.db.session() as session:
            message = messages.send_message(session=session, room_slug=slug, author_id=author.id, text=text)
            session.commit()
            return message

    first, late, last = [save_unannounced(text) for text in ("first", "late", "last")]
    for message in (first, last, late):  # "late" is announced after "last", as another instance might
        await context.bus.publish(
            room_channel(slug), MessageCreated(room=slug, message=message).model_dump(mode="json")
        )
    for _ in range(50):
        if len(rendered_ids(user)) == 3:
            break
        await asyncio.sleep(0.1)
    assert rendered_ids(user) == [first.id, late.id, last.id]


async def test_opening_a_room_finds_it_in_one_database_trip(
    users: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The room page checks that the visitor may read the room and loads it in one service call,
    not a check and then a lookup (two worker-thread trips, two transactions, for every visit)."""
    user = users()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test") as api:
        token = (await api.post("/api/v1/guests", json={"display_name": "Ada"})).json()["token"]
        created = await api.post("/api/v1/rooms", json={"name": "Trips"}, headers={"Authorization": f"Bearer {token}"})
    slug = created.json()["slug"]
    trips: list[str] = []
    for name in ("run", "run_read"):
        original = getattr(Database, name)

        async def traced(self: Database, fn: Callable[..., object], /, _original=original, **kwargs: object) -> object:
            if kwargs.get("slug") == slug:
                trips.append(fn.__name__)
            return await _original(self, fn, **kwargs)

        monkeypatch.setattr(Database, name, traced)
    await user.open(f"/rooms/{slug}")
    await user.should_see(marker="room-title", retries=100)  # 10 s: a loaded machine is slow
    assert trips == ["get_readable_room"]
