"""Private rooms (CONTRACT §7): seen by their members only, and to anyone else exactly a room that
does not exist, everywhere.

On the services, on SQLite and PostgreSQL: the room list, joining, leaving, posting, the checks the
API and the pages use, and who may see a private room's images. Over HTTP against the real app on
both backends (SQLite with the in-process bus, PostgreSQL with Redis): every route of
/openapi.json that addresses a room, walked as a member, a non-member and an anonymous caller (so
a route added later without the check fails here), the room list with and without a member's
token, joining, leaving, and a private room's image URLs by token and by the browser's cookie.
(In real Chromium: tests/test_browser_private.py.)
"""

import asyncio
import base64
import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from nicegui import core
from PIL import Image
from sqlalchemy import event
from sqlmodel import Session, select

from models.audit import AuditEntry
from models.base import utcnow
from models.room import Membership
from services import access, guests, invites, media, messages, moderation, rooms
from services.bus import EventBus
from services.database import Database
from services.errors import Forbidden, NotFound
from services.events import ROOMS_CHANNEL, MemberLeft, RoomActivity, RoomEvent, decode, room_channel
from services.media import LocalMediaStore
from tests.support import unique
from tests.test_ui import UserFactory
from tests.test_ui import users as users  # the fixture: simulated visitors of one app instance

API = "/api/v1"


def png(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


# On the services, on SQLite and PostgreSQL


def make_guest(session: Session, name: str) -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def make_room(session: Session, owner_id: int, name: str, *, private: bool = False) -> str:
    slug = rooms.create_room(session=session, owner_id=owner_id, name=name, is_private=private).slug
    session.commit()
    return slug


def not_found_words(call: Any) -> str:
    with pytest.raises(NotFound) as refused:
        call()
    return refused.value.detail


def listed(session: Session, reader_id: int | None, **paging: Any) -> list[str]:
    return [room.slug for room in rooms.page_rooms(session=session, reader_id=reader_id, **paging).rooms]


def test_a_private_room_is_listed_to_its_members_only_in_activity_order(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    older = make_room(session, bo, "Older public")
    secret = make_room(session, ada, "Secret", private=True)
    newer = make_room(session, bo, "Newer public")

    assert rooms.get_room(session=session, slug=secret).is_private is True
    assert listed(session, None) == [newer, older]
    assert listed(session, bo) == [newer, older], "a guest who is not a member does not see it"
    assert listed(session, ada) == [newer, secret, older], "a member sees it in its place by activity"
    # Page by page, the member walks the same order with no room twice or missing.
    walked, cursor = [], None
    while True:
        page = rooms.page_rooms(session=session, reader_id=ada, limit=1, before=cursor)
        walked += [room.slug for room in page.rooms]
        if (cursor := page.next_cursor) is None:
            break
    assert walked == [newer, secret, older]
    assert listed(session, ada, query="secr") == [secret] and listed(session, bo, query="secr") == []


def test_a_private_room_is_not_found_by_anyone_else_in_the_words_of_a_missing_room(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    secret = make_room(session, ada, "Secret", private=True)
    missing = not_found_words(lambda: access.check_readable(session=session, slug="no-such", reader_id=bo))

    for reader in (bo, None):
        words = not_found_words(
            lambda reader=reader: access.check_readable(session=session, slug=secret, reader_id=reader)
        )
        assert words == missing.replace("no-such", secret)
        assert (
            not_found_words(
                lambda reader=reader: rooms.get_readable_room(session=session, slug=secret, reader_id=reader)
            )
            == words
        )
    access.check_readable(session=session, slug=secret, reader_id=ada)
    assert rooms.get_readable_room(session=session, slug=secret, reader_id=ada).name == "Secret"


def test_the_api_check_looks_a_token_up_only_for_a_private_room(session: Session) -> None:
    ada_token = guests.create_guest(session=session, display_name="Ada").token
    ada = guests.guest_for_token(session=session, token=ada_token)
    bo_token = guests.create_guest(session=session, display_name="Bo").token
    session.commit()
    assert ada is not None
    secret = make_room(session, ada.id, "Secret", private=True)
    lobby = make_room(session, ada.id, "Lobby")

    access.check_readable_for_token(session=session, slug=secret, token=ada_token)
    for token in (None, bo_token, "no-such-token"):  # an unknown token is nobody here: not a 401
        assert (
            not_found_words(
                lambda token=token: access.check_readable_for_token(session=session, slug=secret, token=token)
            )
            == f"no room {secret!r}"
        )
        access.check_readable_for_token(session=session, slug=lobby, token=token)


def test_joining_a_private_room_without_an_invitation_is_not_found_and_changes_nothing(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    secret = make_room(session, ada, "Secret", private=True)

    assert not_found_words(lambda: rooms.join_room(session=session, slug=secret, guest_id=bo)) == f"no room {secret!r}"
    session.rollback()
    assert rooms.join_room(session=session, slug=secret, guest_id=ada).member_count == 1, "a member may join again"
    session.commit()
    assert session.exec(select(Membership).where(Membership.guest_id == bo)).all() == []


def test_posting_does_not_let_a_stranger_into_a_private_room(session: Session) -> None:
    """Posting joins a public room; a private one is joined by invitation only (a page left open
    after leaving must not slip its visitor back in by sending)."""
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    secret = make_room(session, ada, "Secret", private=True)

    send = lambda: messages.send_message(session=session, room_slug=secret, author_id=bo, text="let me in")  # noqa: E731
    assert not_found_words(send) == f"no room {secret!r}"
    session.rollback()
    assert listed(session, bo) == [] and messages.page_messages(session=session, room_slug=secret).messages == []
    messages.send_message(session=session, room_slug=secret, author_id=ada, text="members only")
    session.commit()


def test_after_leaving_a_private_room_it_is_gone_for_the_guest(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    secret = make_room(session, ada, "Secret", private=True)
    rooms.ensure_membership(session, room_id=rooms.get_room(session=session, slug=secret).id, guest_id=bo)  # invited
    session.commit()
    assert listed(session, bo) == [secret]

    assert rooms.leave_room(session=session, slug=secret, guest_id=bo).member_count == 1
    session.commit()
    assert listed(session, bo) == []
    with pytest.raises(NotFound):
        access.check_readable(session=session, slug=secret, reader_id=bo)
    with pytest.raises(NotFound):
        rooms.leave_room(session=session, slug=secret, guest_id=bo)  # leaving again: it cannot be seen


async def test_leaving_a_private_room_closes_the_leavers_views_of_it_and_a_public_one_does_not(
    db: Database, bus: EventBus
) -> None:
    """MemberLeft on the room's channel tells the leaver's other open pages to close; a public room
    stays readable, so leaving it announces only the new member count."""
    ada = await db.run(guests.create_guest, display_name="Ada")
    bo = await db.run(guests.create_guest, display_name="Bo")
    secret = await db.run(rooms.create_room, owner_id=ada.id, name="Secret", is_private=True)
    lobby = await db.run(rooms.create_room, owner_id=ada.id, name="Lobby")
    code = (await db.run(invites.create_invite, slug=secret.slug, by=ada.id, site="http://chat.test")).code
    await db.run(invites.accept_invite, code=code, guest_id=bo.id)
    await db.run(rooms.join_room, slug=lobby.slug, guest_id=bo.id)

    async def heard_on_leaving(slug: str) -> list[RoomEvent]:
        async with bus.subscribe(room_channel(slug)) as subscription:
            await db.run(rooms.leave_room, slug=slug, guest_id=bo.id)
            heard = [decode(await subscription.get(timeout=2))]
            with contextlib.suppress(TimeoutError):
                while True:
                    heard.append(decode(await subscription.get(timeout=0.3)))
        return heard

    private_events = await heard_on_leaving(secret.slug)
    left = [event for event in private_events if isinstance(event, MemberLeft)]
    assert [(event.room, event.guest_id) for event in left] == [(secret.slug, bo.id)]
    assert json.loads(json.dumps(left[0].model_dump(mode="json"))) == {
        "type": "member.left",
        "room": secret.slug,
        "guest_id": bo.id,
    }
    assert {event.type for event in private_events} == {"member.left", "room.updated"}
    assert [event.type for event in await heard_on_leaving(lobby.slug)] == ["room.updated"]


def test_a_removed_guests_invitation_links_end_with_the_removal(session: Session) -> None:
    ada, bo, cy = make_guest(session, "Ada"), make_guest(session, "Bo"), make_guest(session, "Cy")
    secret = make_room(session, ada, "Secret", private=True)
    other = make_room(session, ada, "Other", private=True)
    site = "http://chat.test"

    def link(slug: str, by: int) -> str:
        code = invites.create_invite(session=session, slug=slug, by=by, site=site).code
        session.commit()
        return code

    invites.accept_invite(session=session, code=link(secret, ada), guest_id=bo)
    invites.accept_invite(session=session, code=link(other, ada), guest_id=bo)
    session.commit()
    bos_links = [link(secret, bo), link(secret, bo)]
    bos_other_link, adas_link = link(other, bo), link(secret, ada)

    moderation.remove_guest_from_room(session=session, slug=secret, guest_id=bo, by=ada)
    session.commit()
    listed_codes = [i.code for i in invites.list_invites(session=session, slug=secret, by=ada, site=site)]
    assert set(bos_links).isdisjoint(listed_codes) and adas_link in listed_codes
    for code in bos_links:
        with pytest.raises(NotFound) as refused:
            invites.accept_invite(session=session, code=code, guest_id=cy)
        assert refused.value.detail == invites.UNUSABLE
    session.rollback()
    assert invites.accept_invite(session=session, code=bos_other_link, guest_id=cy).joined, "another room's link"
    assert invites.accept_invite(session=session, code=adas_link, guest_id=cy).joined
    session.commit()
    log = session.exec(select(AuditEntry).where(AuditEntry.action == "room.remove_guest")).all()
    assert [entry.detail for entry in log] == [f"guest:{bo}; 2 invitation links revoked"]


def test_a_removed_guest_is_told_they_can_still_read_a_public_room_but_not_a_private_one(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    secret = make_room(session, ada, "Secret", private=True)
    lobby = make_room(session, ada, "Lobby")
    code = invites.create_invite(session=session, slug=secret, by=ada, site="http://chat.test").code
    invites.accept_invite(session=session, code=code, guest_id=bo)
    rooms.join_room(session=session, slug=lobby, guest_id=bo)
    session.commit()
    for slug in (secret, lobby):
        moderation.remove_guest_from_room(session=session, slug=slug, guest_id=bo, by=ada)
        session.commit()

    with pytest.raises(Forbidden) as private_refusal:
        invites.accept_invite(session=session, code=code, guest_id=bo)
    assert private_refusal.value.detail == "you were removed from this room by a moderator"
    session.rollback()
    with pytest.raises(Forbidden) as public_refusal:
        rooms.join_room(session=session, slug=lobby, guest_id=bo)
    assert public_refusal.value.detail == "you were removed from this room by a moderator; you can still read it"
    session.rollback()


def test_private_image_keys_name_their_room_and_public_ones_stay_as_they_were() -> None:
    original, thumbnail = media.new_image_keys("png", private_room=42)
    assert re.fullmatch(r"private/42/[a-z0-9]{2}/[a-z0-9]{32}\.png", original)
    assert thumbnail == original.removesuffix(".png") + "_thumb.webp"
    assert media.is_valid_key(original) and media.is_valid_key(thumbnail)
    assert media.private_room_of(original) == media.private_room_of(thumbnail) == 42
    public, _ = media.new_image_keys("png")
    assert media.private_room_of(public) is None and re.fullmatch(r"[a-z0-9]{2}/[a-z0-9]{32}\.png", public)
    for forged in ("private/0/ab/" + "a" * 32 + ".png", "private/x/ab/" + "a" * 32 + ".png", "private/42/../x.png"):
        assert not media.is_valid_key(forged)


async def test_a_private_rooms_images_are_its_members_only(db: Database, tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    ada = await db.run(guests.create_guest, display_name="Ada")
    bo = await db.run(guests.create_guest, display_name="Bo")
    secret = await db.run(rooms.create_room, owner_id=ada.id, name="Secret", is_private=True)
    lobby = await db.run(rooms.create_room, owner_id=ada.id, name="Lobby")
    send = {"db": db, "media": store, "author_id": ada.id, "data": png(), "max_bytes": 1 << 20}
    hidden = (await messages.send_image(room_slug=secret.slug, **send)).image
    shown = (await messages.send_image(room_slug=lobby.slug, **send)).image
    assert hidden is not None and shown is not None
    assert shown.url.startswith("/media/") and media.private_room_of(shown.url.removeprefix("/media/")) is None

    for url in (hidden.url, hidden.thumbnail_url):
        key = url.removeprefix("/media/")
        assert media.private_room_of(key) == secret.id and store.local_path(key) is not None

        def sees(token: str | None, key: str = key) -> bool:
            return db.transaction(access.may_see_private_image, room_id=secret.id, key=key, token=token)

        assert sees(ada.token)
        assert not sees(bo.token) and not sees(None) and not sees("no-such-token")
    other_room = hidden.url.removeprefix("/media/").replace(f"private/{secret.id}/", f"private/{lobby.id}/")
    assert not db.transaction(access.may_see_private_image, room_id=lobby.id, key=other_room, token=ada.token)
    assert not db.transaction(access.may_see_private_image, room_id=2**31, key=other_room, token=ada.token)


# Over HTTP, against the real app on both backends


def new_guest(api: httpx.Client, name: str) -> tuple[dict[str, str], int]:
    response = api.post(f"{API}/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, response.json()["id"]


def new_room(api: httpx.Client, auth: dict[str, str], *, private: bool, name: str | None = None) -> dict[str, Any]:
    body = {"name": name or unique("Room"), "is_private": private}
    response = api.post(f"{API}/rooms", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def post(api: httpx.Client, auth: dict[str, str], slug: str, text: str) -> int:
    response = api.post(f"{API}/rooms/{slug}/messages", json={"text": text}, headers=auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def invite(api: httpx.Client, owner: dict[str, str], slug: str, guest: dict[str, str]) -> None:
    code = api.post(f"{API}/rooms/{slug}/invites", headers=owner)
    assert code.status_code == 201, code.text
    accepted = api.post(f"{API}/invites/{code.json()['code']}/accept", headers=guest)
    assert accepted.status_code == 200, accepted.text


def slugs(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [room["slug"] for room in response.json()]


def test_a_private_room_is_created_private(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    room = new_room(api, ada, private=True)
    assert room["is_private"] is True and room["member_count"] == 1
    assert api.get(f"{API}/rooms/{room['slug']}", headers=ada).json()["is_private"] is True
    assert new_room(api, ada, private=False)["is_private"] is False


def test_the_room_list_shows_a_private_room_to_its_members_only_in_activity_order(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    bo, _ = new_guest(api, "Bo")
    prefix = unique("List")
    older = new_room(api, bo, private=False, name=f"{prefix} older")["slug"]
    secret = new_room(api, ada, private=True, name=f"{prefix} secret")["slug"]
    newer = new_room(api, bo, private=False, name=f"{prefix} newer")["slug"]
    rooms_named = {"q": prefix, "limit": 100}

    assert slugs(api.get(f"{API}/rooms", params=rooms_named)) == [newer, older]
    assert slugs(api.get(f"{API}/rooms", params=rooms_named, headers=bo)) == [newer, older]
    mine = api.get(f"{API}/rooms", params=rooms_named, headers=ada)
    assert slugs(mine) == [newer, secret, older]
    assert [room["unread"] for room in mine.json()] == [None, 0, None], "unread as before: in rooms one is in"
    post(api, ada, older, "activity")  # the member's list follows activity, the private room included
    assert slugs(api.get(f"{API}/rooms", params=rooms_named, headers=ada)) == [older, newer, secret]
    walked, params = [], {"q": prefix, "limit": 1}
    while True:  # and pages through it like the public rooms
        page = api.get(f"{API}/rooms", params=params, headers=ada)
        walked += slugs(page)
        if "X-Next-Cursor" not in page.headers:
            break
        params["before"] = page.headers["X-Next-Cursor"]
    assert walked == [older, newer, secret]


def test_joining_a_private_room_is_not_found_and_leaving_it_makes_everything_not_found(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    bo, _ = new_guest(api, "Bo")
    slug = new_room(api, ada, private=True)["slug"]
    post(api, ada, slug, "hello members")
    missing = api.post(f"{API}/rooms/{unique('no-such')}/join", headers=bo)

    joined = api.post(f"{API}/rooms/{slug}/join", headers=bo)
    assert (joined.status_code, joined.json()) == (404, {"detail": f"no room {slug!r}"}) and missing.status_code == 404
    assert api.get(f"{API}/rooms/{slug}", headers=ada).json()["member_count"] == 1, "the refusal joined nobody"

    invite(api, ada, slug, bo)
    assert api.get(f"{API}/rooms/{slug}/messages", headers=bo).json()["messages"][0]["text"] == "hello members"
    assert api.post(f"{API}/rooms/{slug}/leave", headers=bo).status_code == 200
    for method, path in (("GET", ""), ("GET", "/messages"), ("POST", "/join"), ("POST", "/leave")):
        after = api.request(method, f"{API}/rooms/{slug}{path}", headers=bo)
        assert (after.status_code, after.json()) == (404, {"detail": f"no room {slug!r}"}), f"{method} {path}"
    assert slug not in slugs(api.get(f"{API}/rooms", params={"limit": 100}, headers=bo))


# Every route on a room, from /openapi.json

# Path parameters besides {slug}, by name: a route with another one fails the walk until it is taught here.
FILLERS = {"message_id", "guest_id", "emoji", "code"}


class PrivateRoom:
    """A fresh private room for one route: its owner, an invited member, a message, an invitation."""

    def __init__(self, api: httpx.Client, owner: dict[str, str], member: tuple[dict[str, str], int]) -> None:
        self.slug = new_room(api, owner, private=True)["slug"]
        self.message_id = post(api, owner, self.slug, "a secret")
        invite(api, owner, self.slug, member[0])
        self.member_id = member[1]
        code = api.post(f"{API}/rooms/{self.slug}/invites", headers=owner)
        assert code.status_code == 201, code.text
        self.code = code.json()["code"]

    def path(self, template: str, slug: str | None = None) -> str:
        values = {
            "slug": slug or self.slug,
            "message_id": str(self.message_id),
            "guest_id": str(self.member_id),
            "emoji": quote("👍"),
            "code": self.code,
        }
        return re.sub(r"\{(\w+)\}", lambda match: values[match[1]], template)


def room_routes(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every route on a room in /openapi.json; the admin's see every
    room on purpose (and are off without CHAT_ADMIN_TOKEN)."""
    return [
        (method.upper(), path, operation)
        for path, operations in spec["paths"].items()
        if "{slug}" in path and not path.startswith(f"{API}/admin/")
        for method, operation in operations.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def example_request(spec: dict[str, Any], operation: dict[str, Any], room: PrivateRoom) -> dict[str, Any]:
    """A simple valid request for an operation: its required query parameters from their schema,
    a JSON body of its required fields, an image for a multipart upload."""
    query = {
        parameter["name"]: (parameter["schema"].get("enum") or [parameter["schema"].get("default", "1")])[0]
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and parameter.get("required")
    }
    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return {"params": query, "files": {"file": ("a.png", png(), "image/png")}}
    if "application/json" not in content:
        return {"params": query}
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    fields = {"text": "hello", "last_read_id": room.message_id}
    required = set(schema.get("required", []))
    assert required <= set(fields), f"teach the walk a value for {required - set(fields)}"
    return {"params": query, "json": {name: fields[name] for name in required}}


def answer(response: httpx.Response) -> tuple[int, Any]:
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:80]


def test_every_route_on_a_room_hides_a_private_room_from_everyone_but_its_members(api: httpx.Client) -> None:
    owner, _ = new_guest(api, "Owner")
    member = new_guest(api, "Member")
    stranger, _ = new_guest(api, "Stranger")
    spec = api.get("/openapi.json").json()
    routes = room_routes(spec)
    assert len(routes) >= 20, f"the walk found the routes on a room: {[(m, p) for m, p, _ in routes]}"
    problems = []
    for method, template, operation in routes:
        names = set(re.findall(r"\{(\w+)\}", template)) - {"slug"}
        assert names <= FILLERS, f"{method} {template}: teach the walk to fill {names - FILLERS}"
        room = PrivateRoom(api, owner, member)
        missing_slug = unique("no-such-room")
        for caller, headers in (("a stranger", stranger), ("an anonymous caller", {})):
            request = {"headers": headers, **example_request(spec, operation, room)}
            hidden = answer(api.request(method, room.path(template), **request))
            missing = answer(api.request(method, room.path(template, missing_slug), **request))
            expected = (404, {"detail": f"no room {room.slug!r}"})
            if missing != (404, {"detail": f"no room {missing_slug!r}"}) or hidden != expected:
                problems.append(f"{method} {template} for {caller}: {hidden}, a missing room: {missing}")
        if template.endswith("/removals/{guest_id}"):  # readmitting needs someone removed
            removed = api.delete(room.path(f"{API}/rooms/{{slug}}/members/{{guest_id}}"), headers=owner)
            assert removed.status_code == 200, removed.text
        as_member = api.request(method, room.path(template), headers=owner, **example_request(spec, operation, room))
        if as_member.status_code == 404:
            problems.append(f"{method} {template} for a member: {answer(as_member)}")
    assert problems == []


# A private room's images


def browser_session(api: httpx.Client) -> tuple[httpx.Cookies, dict[str, str]]:
    """A browser's session cookie, as its first visit to a page makes it, and the bearer header of
    the guest the page made (the token the signed cookie holds: Starlette's session is signed
    base64 JSON, readable by whoever holds it, as the browser does)."""
    with httpx.Client(base_url=str(api.base_url), timeout=10) as browser:
        assert browser.get("/").status_code == 200
        cookies = browser.cookies
    payload = cookies["session"].split(".")[0]
    session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return cookies, {"Authorization": f"Bearer {session[guests.BROWSER_TOKEN_KEY]}"}


def upload(api: httpx.Client, auth: dict[str, str], slug: str) -> dict[str, Any]:
    files = {"file": ("a.png", png(), "image/png")}
    response = api.post(f"{API}/rooms/{slug}/images", files=files, headers=auth)
    assert response.status_code == 201, response.text
    image: dict[str, Any] = response.json()["image"]
    return image


def fetch(api: httpx.Client, url: str, method: str = "GET", **how: Any) -> httpx.Response:
    with httpx.Client(base_url=str(api.base_url), timeout=10, cookies=how.pop("cookies", None)) as client:
        return client.request(method, url, **how)


def test_a_private_rooms_images_are_served_to_its_members_only(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    bo = new_guest(api, "Bo")
    stranger, _ = new_guest(api, "Stranger")
    slug = new_room(api, ada, private=True)["slug"]
    invite(api, ada, slug, bo[0])
    image = upload(api, ada, slug)
    urls = (image["url"], image["thumbnail_url"])
    missing = fetch(api, urls[0].replace(urls[0].rsplit("/", 1)[1][:8], "00000000"), headers=ada)
    assert (missing.status_code, missing.json()) == (404, {"detail": "no such image"})

    for url in urls:
        assert url.startswith("/media/private/")
        for member in (ada, bo[0]):
            for method in ("GET", "HEAD"):
                served = fetch(api, url, method, headers=member)
                assert served.status_code == 200 and served.headers["content-type"].startswith("image/")
                assert served.headers["cache-control"].startswith("private"), "never in a shared cache"
        for refused in (fetch(api, url), fetch(api, url, headers=stranger), fetch(api, url, "HEAD")):
            assert refused.status_code == 404, "as an image that does not exist"
        assert fetch(api, url, headers=stranger).json() == missing.json()

    cached = {url: fetch(api, url, headers=bo[0]).headers for url in urls}  # what bo's browser keeps
    for url, headers in cached.items():
        assert headers["cache-control"] == "private, no-cache", "asked again at every use"
        again = {"If-None-Match": headers["etag"], "If-Modified-Since": headers["last-modified"]}
        revalidated = fetch(api, url, headers={**bo[0], **again})
        assert (revalidated.status_code, revalidated.content) == (304, b""), "a member's cached copy stays good"
    assert api.post(f"{API}/rooms/{slug}/leave", headers=bo[0]).status_code == 200
    for url, headers in cached.items():
        assert fetch(api, url, headers=bo[0]).status_code == 404, "a member who left cannot keep the URL"
        again = {"If-None-Match": headers["etag"], "If-Modified-Since": headers["last-modified"]}
        assert fetch(api, url, headers={**bo[0], **again}).status_code == 404, "nor their cached copy"
        assert fetch(api, url, headers=ada).status_code == 200


def test_a_private_image_is_served_to_a_members_browser_by_its_session_cookie(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    slug = new_room(api, ada, private=True)["slug"]
    image = upload(api, ada, slug)
    cookies, browser_guest = browser_session(api)
    for url in (image["url"], image["thumbnail_url"]):
        assert fetch(api, url, cookies=cookies).status_code == 404, "the browser's guest is no member yet"

    invite(api, ada, slug, browser_guest)
    for url in (image["url"], image["thumbnail_url"]):
        served = fetch(api, url, cookies=cookies)  # what an <img> in the page sends
        assert served.status_code == 200 and served.headers["content-type"].startswith("image/")
        assert served.headers["cache-control"].startswith("private")


def test_a_public_rooms_images_are_served_to_anyone_as_before(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    image = upload(api, ada, new_room(api, ada, private=False)["slug"])
    for url in (image["url"], image["thumbnail_url"]):
        assert not url.startswith("/media/private/")
        served = fetch(api, url)
        assert served.status_code == 200 and served.headers["content-type"].startswith("image/")
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"


# The room list page, through NiceGUI's simulated User (the real app, on SQLite)


async def test_the_room_list_asks_once_about_a_private_room_it_cannot_see(users: UserFactory) -> None:
    """Every message anywhere reaches every room list (one channel for all rooms), private rooms'
    too: a list that cannot see the room must not look it up again at every message."""
    user = users()
    await user.open("/")
    await user.should_see(marker="room-list")
    context = core.app.state.chat
    ada = await context.db.run(guests.create_guest, display_name="Ada")
    secret = await context.db.run(rooms.create_room, owner_id=ada.id, name="Secret", is_private=True)
    lookups: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if secret.slug in str(parameters):
            lookups.append(statement)

    event.listen(context.db.engine, "before_cursor_execute", count)
    try:
        for _ in range(5):
            activity = RoomActivity(room=secret.slug, last_message_at=utcnow())
            await context.bus.publish(ROOMS_CHANNEL, activity.model_dump(mode="json"))
            await asyncio.sleep(0.3)
    finally:
        event.remove(context.db.engine, "before_cursor_execute", count)
    assert len(lookups) == 1, lookups
    await user.should_not_see("Secret")
