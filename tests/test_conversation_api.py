"""CONTRACT §6 over HTTP, against the real app on SQLite with the in-process bus and on PostgreSQL
with Redis: replies, edits, deletes, reactions and mentions, each call and each of its errors."""

import io
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import redis
from PIL import Image

from tests.support import AppProcess, unique

CONVERSATION_KEYS = {"edited_at", "reply_to", "reactions", "mentions"}


def new_guest(api: httpx.Client, name: str = "Ada") -> tuple[dict[str, str], int]:
    """Authorization headers of a new guest, and its id."""
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, response.json()["id"]


def new_room(api: httpx.Client, auth: dict[str, str]) -> str:
    response = api.post("/api/v1/rooms", json={"name": unique("Room")}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["slug"]  # type: ignore[no-any-return]


def post(api: httpx.Client, auth: dict[str, str], slug: str, text: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": text, **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def reaction_url(slug: str, message_id: int, emoji: str) -> str:
    return f"/api/v1/rooms/{slug}/messages/{message_id}/reactions/{quote(emoji, safe='')}"


def newest(api: httpx.Client, slug: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/rooms/{slug}/messages")
    assert response.status_code == 200, response.text
    return response.json()["messages"]  # type: ignore[no-any-return]


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    for word in words:
        assert word in body["detail"], body["detail"]


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return buffer.getvalue()


# The message's new fields


def test_a_new_message_has_the_conversation_fields_empty(api: httpx.Client) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    message = post(api, auth, slug, "hello")
    assert set(message) >= CONVERSATION_KEYS
    assert message["edited_at"] is None and message["reply_to"] is None
    assert message["reactions"] == [] and message["mentions"] == []
    assert newest(api, slug) == [message]
    assert api.get(f"/api/v1/rooms/{slug}/messages/{message['id']}").json() == message


# Replies


def test_a_reply_quotes_its_original(api: httpx.Client) -> None:
    ada, ada_id = new_guest(api, "Ada")
    bo, _ = new_guest(api, "Bo")
    slug = new_room(api, ada)
    original = post(api, ada, slug, "q" * 250)
    reply = post(api, bo, slug, "answer", reply_to=original["id"])
    assert reply["reply_to"] == {
        "id": original["id"],
        "author": {"id": ada_id, "display_name": "Ada"},
        "kind": "text",
        "text": "q" * 200,
        "deleted": False,
    }
    assert newest(api, slug)[-1] == reply


def test_an_image_replies_too(api: httpx.Client) -> None:
    auth, _ = new_guest(api)
    slug, other = new_room(api, auth), new_room(api, auth)
    original = post(api, auth, slug, "show me")
    url = f"/api/v1/rooms/{slug}/images"
    sent = api.post(url, files={"file": ("a.png", png(), "image/png")}, data={"reply_to": original["id"]}, headers=auth)
    assert sent.status_code == 201, sent.text
    assert sent.json()["reply_to"]["id"] == original["id"] and sent.json()["kind"] == "image"
    elsewhere = post(api, auth, other, "over there")["id"]
    for reply_to in ("x", "0", "-1", "1.5", str(2**31), elsewhere):
        form = {"reply_to": reply_to}
        response = api.post(url, files={"file": ("a.png", png(), "image/png")}, data=form, headers=auth)
        assert_error(response, 422, "reply_to")
    assert len(newest(api, slug)) == 2


def test_a_reply_to_anything_but_a_live_message_of_the_room_is_422(api: httpx.Client) -> None:
    auth, _ = new_guest(api)
    slug, other = new_room(api, auth), new_room(api, auth)
    elsewhere = post(api, auth, other, "over there")
    gone = post(api, auth, slug, "soon gone")
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{gone['id']}", headers=auth).status_code == 204
    for reply_to in (elsewhere["id"], gone["id"], 2**31 - 1, 0, -1, 2**31, "one"):
        response = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": "hm", "reply_to": reply_to}, headers=auth)
        assert_error(response, 422, "reply_to")
    assert newest(api, slug) == []


# Deleting


def test_the_author_and_the_owner_delete_and_anyone_else_is_403(api: httpx.Client) -> None:
    owner, _ = new_guest(api, "Owner")
    author, _ = new_guest(api, "Author")
    stranger, _ = new_guest(api, "Stranger")
    slug = new_room(api, owner)
    first, second = post(api, author, slug, "one"), post(api, author, slug, "two")
    assert_error(api.delete(f"/api/v1/rooms/{slug}/messages/{first['id']}", headers=stranger), 403)
    assert_error(api.delete(f"/api/v1/rooms/{slug}/messages/{first['id']}"), 401)
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{first['id']}", headers=author).status_code == 204
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{second['id']}", headers=owner).status_code == 204
    assert_error(api.delete(f"/api/v1/rooms/{slug}/messages/{second['id']}", headers=owner), 404)
    assert newest(api, slug) == []


def test_a_reply_shows_its_deleted_original_as_deleted(api: httpx.Client) -> None:
    ada, ada_id = new_guest(api, "Ada")
    slug = new_room(api, ada)
    original = post(api, ada, slug, "regrettable")
    reply = post(api, ada, slug, "indeed", reply_to=original["id"])
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{original['id']}", headers=ada).status_code == 204
    [shown] = newest(api, slug)
    assert shown["reply_to"] == {
        "id": original["id"],
        "author": {"id": ada_id, "display_name": "Ada"},
        "kind": "text",
        "text": "",
        "deleted": True,
    }
    assert api.get(f"/api/v1/rooms/{slug}/messages/{reply['id']}").json()["reply_to"]["deleted"] is True
    assert_error(api.get(f"/api/v1/rooms/{slug}/messages/{original['id']}"), 404)


# Editing


def test_the_author_edits_a_message(api: httpx.Client) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    sent = post(api, auth, slug, "helo wrld")
    response = api.patch(f"/api/v1/rooms/{slug}/messages/{sent['id']}", json={"text": " hello world "}, headers=auth)
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["text"] == "hello world" and edited["edited_at"] is not None
    assert edited["edited_at"] >= sent["created_at"] and edited["created_at"] == sent["created_at"]
    assert newest(api, slug) == [edited]


def test_editing_is_for_the_author_of_a_live_message_only(api: httpx.Client) -> None:
    owner, _ = new_guest(api, "Owner")
    author, _ = new_guest(api, "Author")
    slug = new_room(api, owner)
    sent = post(api, author, slug, "mine")
    url = f"/api/v1/rooms/{slug}/messages/{sent['id']}"
    assert_error(api.patch(url, json={"text": "the owner's now"}, headers=owner), 403, "author")
    assert_error(api.patch(url, json={"text": "x"}), 401)
    assert_error(api.patch(url, json={"text": "x"}, headers={"Authorization": "Bearer nobody"}), 401)
    assert_error(api.patch(f"/api/v1/rooms/{slug}/messages/{2**31 - 1}", json={"text": "x"}, headers=author), 404)
    assert_error(
        api.patch(f"/api/v1/rooms/no-such-room/messages/{sent['id']}", json={"text": "x"}, headers=author), 404
    )
    assert api.delete(url, headers=author).status_code == 204
    assert_error(api.patch(url, json={"text": "too late"}, headers=author), 404)


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"text": ""}, "empty"),
        ({"text": "   "}, "empty"),
        ({"text": "x" * 4001}, "text"),
        ({}, "text"),
        ({"text": 5}, "text"),
    ],
)
def test_an_edit_follows_the_text_rules_of_posting(api: httpx.Client, body: dict[str, Any], word: str) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    sent = post(api, auth, slug, "fine")
    assert_error(api.patch(f"/api/v1/rooms/{slug}/messages/{sent['id']}", json=body, headers=auth), 422, word)
    assert newest(api, slug)[0]["text"] == "fine"


def test_an_image_caption_is_edited_and_may_be_emptied(api: httpx.Client) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    response = api.post(
        f"/api/v1/rooms/{slug}/images",
        files={"file": ("a.png", png(), "image/png")},
        data={"caption": "sunset"},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    image = response.json()
    url = f"/api/v1/rooms/{slug}/messages/{image['id']}"
    renamed = api.patch(url, json={"text": "sunrise"}, headers=auth).json()
    assert renamed["text"] == "sunrise" and renamed["image"] == image["image"] and renamed["edited_at"]
    emptied = api.patch(url, json={"text": ""}, headers=auth)
    assert emptied.status_code == 200, emptied.text
    assert emptied.json()["text"] == "" and emptied.json()["kind"] == "image"


def test_a_locked_room_or_a_removal_refuses_edits_and_reactions(api: httpx.Client) -> None:
    owner, _ = new_guest(api, "Owner")
    bo, bo_id = new_guest(api, "Bo")
    slug = new_room(api, owner)
    mine, theirs = post(api, owner, slug, "mine"), post(api, bo, slug, "theirs")
    assert api.post(f"/api/v1/rooms/{slug}/lock", headers=owner).status_code == 204
    assert_error(api.patch(f"/api/v1/rooms/{slug}/messages/{mine['id']}", json={"text": "x"}, headers=owner), 403)
    assert_error(api.put(reaction_url(slug, mine["id"], "👍"), headers=owner), 403, "locked")
    assert api.delete(f"/api/v1/rooms/{slug}/lock", headers=owner).status_code == 204
    assert api.delete(f"/api/v1/rooms/{slug}/members/{bo_id}", headers=owner).status_code == 200
    assert_error(api.patch(f"/api/v1/rooms/{slug}/messages/{theirs['id']}", json={"text": "x"}, headers=bo), 403)
    assert_error(api.put(reaction_url(slug, mine["id"], "👍"), headers=bo), 403, "removed")
    assert [m["reactions"] for m in newest(api, slug)] == [[], []]


# Reactions


def test_reactions_count_each_guest_once_in_order_of_first_use(api: httpx.Client) -> None:
    ada, ada_id = new_guest(api, "Ada")
    bo, bo_id = new_guest(api, "Bo")
    slug = new_room(api, ada)
    sent = post(api, ada, slug, "news")
    for auth, emoji in ((bo, "🎉"), (ada, "👍"), (ada, "🎉"), (ada, "🎉")):
        response = api.put(reaction_url(slug, sent["id"], emoji), headers=auth)
        assert response.status_code == 200, response.text
    expected = [
        {"emoji": "🎉", "count": 2, "guest_ids": [bo_id, ada_id]},
        {"emoji": "👍", "count": 1, "guest_ids": [ada_id]},
    ]
    assert response.json()["reactions"] == expected
    assert newest(api, slug)[0]["reactions"] == expected
    taken_back = api.delete(reaction_url(slug, sent["id"], "🎉"), headers=bo)
    assert taken_back.status_code == 200
    assert taken_back.json()["reactions"] == [
        {"emoji": "🎉", "count": 1, "guest_ids": [ada_id]},
        {"emoji": "👍", "count": 1, "guest_ids": [ada_id]},
    ]
    again = api.delete(reaction_url(slug, sent["id"], "🎉"), headers=bo)  # nothing left to take back
    assert again.status_code == 200 and again.json()["reactions"] == taken_back.json()["reactions"]


@pytest.mark.parametrize("emoji", ["👨‍👩‍👧", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "👍🏽", "❤️"])
def test_any_single_emoji_is_a_reaction(api: httpx.Client, emoji: str) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    sent = post(api, auth, slug, "react")
    response = api.put(reaction_url(slug, sent["id"], emoji), headers=auth)
    assert response.status_code == 200, response.text
    assert [r["emoji"] for r in response.json()["reactions"]] == [emoji]


@pytest.mark.parametrize("emoji", ["a", "👍👍", ":thumbs_up:", "👍 ok", "\x00", "x" * 300])
def test_anything_but_one_emoji_is_422(api: httpx.Client, emoji: str) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    sent = post(api, auth, slug, "react")
    assert_error(api.put(reaction_url(slug, sent["id"], emoji), headers=auth), 422, "emoji")
    assert_error(api.delete(reaction_url(slug, sent["id"], emoji), headers=auth), 422, "emoji")
    assert newest(api, slug)[0]["reactions"] == []


def test_reactions_need_a_token_and_a_live_message(api: httpx.Client) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    sent = post(api, auth, slug, "soon gone")
    assert_error(api.put(reaction_url(slug, sent["id"], "👍")), 401)
    assert_error(api.delete(reaction_url(slug, sent["id"], "👍")), 401)
    assert_error(api.put(reaction_url(slug, 2**31 - 1, "👍"), headers=auth), 404)
    assert_error(api.put(reaction_url(slug, 2**31, "👍"), headers=auth), 404)
    assert_error(api.put(reaction_url("no-such-room", sent["id"], "👍"), headers=auth), 404)
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{sent['id']}", headers=auth).status_code == 204
    assert_error(api.put(reaction_url(slug, sent["id"], "👍"), headers=auth), 404)
    assert_error(api.delete(reaction_url(slug, sent["id"], "👍"), headers=auth), 404)


# Mentions


def test_a_message_mentions_members_by_their_longest_name(api: httpx.Client) -> None:
    ada, ada_id = new_guest(api, "Ada")
    ada_l, ada_l_id = new_guest(api, "Ada Lovelace")
    new_guest(api, "Cy")  # a guest, never a member of the room
    slug = new_room(api, ada)
    assert api.post(f"/api/v1/rooms/{slug}/join", headers=ada_l).status_code == 200
    sent = post(api, ada, slug, "@ada lovelace meet @ADA; @Cy is not here")
    assert sorted(sent["mentions"]) == sorted([ada_id, ada_l_id])
    only_long = post(api, ada, slug, "thanks @Ada Lovelace")
    assert only_long["mentions"] == [ada_l_id]
    edited = api.patch(f"/api/v1/rooms/{slug}/messages/{only_long['id']}", json={"text": "thanks @Ada"}, headers=ada)
    assert edited.json()["mentions"] == [ada_id]
    assert [m["mentions"] for m in newest(api, slug)] == [sent["mentions"], [ada_id]]


# The bus: another instance hears of edits and reactions


@pytest.fixture
def room_events(app_server: AppProcess) -> Iterator[Any]:
    """A Redis subscriber outside the app, as another instance would be; subscribe(slug) then next()."""
    client = redis.Redis.from_url(app_server.settings["CHAT_REDIS_URL"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    yield pubsub
    pubsub.close()
    client.close()


def next_event(pubsub: Any) -> dict[str, Any]:
    for _ in range(10):
        received = pubsub.get_message(timeout=3)
        if received is not None and received["type"] == "message":
            event = json.loads(received["data"])
            return {key: value for key, value in event.items() if not key.startswith("_")}  # the bus's own marks
    raise AssertionError("no event within the time allowed")


@pytest.mark.parametrize("app_server", ["postgresql+redis"], indirect=True)
def test_edits_and_reactions_are_published_as_message_updated(
    api: httpx.Client, app_server: AppProcess, room_events: Any
) -> None:
    auth, _ = new_guest(api)
    slug = new_room(api, auth)
    sent = post(api, auth, slug, "draft")
    room_events.subscribe(f"{app_server.settings['CHAT_REDIS_PREFIX']}:room.{slug}")
    edited = api.patch(f"/api/v1/rooms/{slug}/messages/{sent['id']}", json={"text": "final"}, headers=auth).json()
    assert next_event(room_events) == {"type": "message.updated", "room": slug, "message": edited}
    reacted = api.put(reaction_url(slug, sent["id"], "👍"), headers=auth).json()
    api.put(reaction_url(slug, sent["id"], "👍"), headers=auth).raise_for_status()  # no change: no event
    removed = api.delete(reaction_url(slug, sent["id"], "👍"), headers=auth).json()
    assert next_event(room_events) == {"type": "message.updated", "room": slug, "message": reacted}
    assert next_event(room_events) == {"type": "message.updated", "room": slug, "message": removed}


# Documentation


def test_the_new_calls_are_documented(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    message = paths["/api/v1/rooms/{slug}/messages/{message_id}"]
    reaction = paths["/api/v1/rooms/{slug}/messages/{message_id}/reactions/{emoji}"]
    assert message["patch"]["operationId"] == "edit_message" and message["get"]["operationId"] == "get_message"
    assert reaction["put"]["operationId"] == "add_reaction" and reaction["delete"]["operationId"] == "remove_reaction"
    for operation in (message["patch"], reaction["put"], reaction["delete"]):
        assert {"401", "403", "404", "422"} <= set(operation["responses"]), operation["responses"].keys()
        assert operation["description"]
    [emoji] = [p for p in reaction["put"]["parameters"] if p["name"] == "emoji"]
    assert "one emoji" in emoji["description"]
