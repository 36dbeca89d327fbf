"""Every clause of the REST API (CONTRACT sections 2-3) against the real app process,
once on SQLite with the in-process bus and once on PostgreSQL with Redis."""

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from PIL import Image

from tests.support import AppProcess, unique

ROOM_KEYS = {
    "id",
    "slug",
    "name",
    "description",
    "is_private",
    "created_at",
    "member_count",
    "last_message_at",
    "unread",  # CONTRACT §6
}
MESSAGE_KEYS = {"id", "room", "author", "kind", "text", "image", "created_at"} | {
    "edited_at",  # CONTRACT §6
    "reply_to",
    "reactions",
    "mentions",
}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def new_guest(api: httpx.Client, name: str = "Ada") -> dict[str, str]:
    """Authorization headers of a new guest."""
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def new_room(api: httpx.Client, auth: dict[str, str], **fields: str) -> dict[str, Any]:
    response = api.post("/api/v1/rooms", json={"name": unique("Room"), **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def post(api: httpx.Client, auth: dict[str, str], slug: str, text: str) -> dict[str, Any]:
    response = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": text}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def image_bytes(image_format: str = "JPEG", size: tuple[int, int] = (1200, 900), gps: bool = True) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if gps:
        exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 0.0)})
    buffer = io.BytesIO()
    Image.new("RGB", size, "orange").save(buffer, image_format, exif=exif.tobytes())
    return buffer.getvalue()


# Guests (section 2)


def test_a_guest_is_created_with_a_token(api: httpx.Client) -> None:
    response = api.post("/api/v1/guests", json={"display_name": "  Ada  "})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "display_name", "token"} and body["display_name"] == "Ada"
    me = api.get("/api/v1/guests/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json() == {"id": body["id"], "display_name": "Ada"}


def test_a_guest_without_a_name_gets_a_generated_one(api: httpx.Client) -> None:
    body = api.post("/api/v1/guests", json={}).json()
    assert re.fullmatch(r"Guest \d{4}", body["display_name"])


@pytest.mark.parametrize("name", ["", "   ", "x" * 33, "bell\x07", 42])
def test_an_invalid_display_name_is_422(api: httpx.Client, name: object) -> None:
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 422 and "detail" in response.json()


def test_a_guest_can_rename_itself(api: httpx.Client) -> None:
    auth = new_guest(api)
    assert (
        api.patch("/api/v1/guests/me", json={"display_name": "Grace"}, headers=auth).json()["display_name"] == "Grace"
    )
    assert api.patch("/api/v1/guests/me", json={"display_name": ""}, headers=auth).status_code == 422


AUTHENTICATED = [
    ("POST", "/api/v1/rooms", {"json": {"name": "x"}}),
    ("POST", "/api/v1/rooms/{slug}/join", {}),
    ("POST", "/api/v1/rooms/{slug}/leave", {}),
    ("POST", "/api/v1/rooms/{slug}/messages", {"json": {"text": "x"}}),
    ("POST", "/api/v1/rooms/{slug}/images", {"files": {"file": ("a.png", b"x", "image/png")}}),
    ("GET", "/api/v1/guests/me", {}),
    ("PATCH", "/api/v1/guests/me", {"json": {"display_name": "x"}}),
]


@pytest.mark.parametrize(("method", "path", "options"), AUTHENTICATED)
@pytest.mark.parametrize("authorization", [None, "Bearer nonsense", "Basic YTpi", "Bearer"])
def test_acting_without_a_known_token_is_401(
    api: httpx.Client, method: str, path: str, options: dict[str, Any], authorization: str | None
) -> None:
    room = new_room(api, new_guest(api))
    headers = {"Authorization": authorization} if authorization else {}
    response = api.request(method, path.format(slug=room["slug"]), headers=headers, **options)
    assert response.status_code == 401 and response.json()["detail"]
    assert api.get(f"/api/v1/rooms/{room['slug']}/messages").json()["messages"] == []


# Rooms (section 3)


def test_creating_a_room_answers_the_room_with_its_creator_as_member(api: httpx.Client) -> None:
    auth = new_guest(api)
    name = unique("Python Café")
    response = api.post("/api/v1/rooms", json={"name": f"  {name} ", "description": "About Python"}, headers=auth)
    assert response.status_code == 201
    room = response.json()
    assert set(room) == ROOM_KEYS
    assert room["name"] == name and room["description"] == "About Python" and room["slug"].startswith("python-cafe-")
    assert room["member_count"] == 1 and room["is_private"] is False and room["last_message_at"] is None
    assert ISO_UTC.match(room["created_at"])
    assert api.get(f"/api/v1/rooms/{room['slug']}").json() == room


def test_a_room_name_taken_in_any_case_is_409(api: httpx.Client) -> None:
    auth = new_guest(api)
    room = new_room(api, auth)
    response = api.post("/api/v1/rooms", json={"name": room["name"].upper()}, headers=new_guest(api, "Bob"))
    assert response.status_code == 409 and "exists" in response.json()["detail"]


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "   "}, {"name": "x" * 65}, {}, {"name": "ok", "description": "d" * 501}]
)
def test_an_invalid_room_is_422(api: httpx.Client, body: dict[str, str]) -> None:
    assert api.post("/api/v1/rooms", json=body, headers=new_guest(api)).status_code == 422


def test_a_64_character_name_is_accepted(api: httpx.Client) -> None:
    name = unique("n")
    name += "x" * (64 - len(name))
    assert api.post("/api/v1/rooms", json={"name": name}, headers=new_guest(api)).status_code == 201


def test_rooms_are_listed_most_recent_activity_first(api: httpx.Client) -> None:
    auth = new_guest(api)
    older, newer = new_room(api, auth), new_room(api, auth)
    listed = api.get("/api/v1/rooms").json()
    slugs = [room["slug"] for room in listed]
    assert slugs.index(newer["slug"]) < slugs.index(older["slug"])
    assert all(set(room) == ROOM_KEYS for room in listed)
    post(api, auth, older["slug"], "bump")
    listed = api.get("/api/v1/rooms").json()
    assert listed[0]["slug"] == older["slug"] and ISO_UTC.match(listed[0]["last_message_at"])


def test_an_unknown_room_is_404(api: httpx.Client) -> None:
    auth = new_guest(api)
    assert api.get("/api/v1/rooms/no-such-room").status_code == 404
    assert api.get("/api/v1/rooms/no-such-room/messages").status_code == 404
    for action in ("join", "leave"):
        assert api.post(f"/api/v1/rooms/no-such-room/{action}", headers=auth).status_code == 404
    response = api.post("/api/v1/rooms/no-such-room/messages", json={"text": "x"}, headers=auth)
    assert response.status_code == 404 and response.json()["detail"]


def test_joining_twice_is_fine_and_leaving_counts_down(api: httpx.Client) -> None:
    room = new_room(api, new_guest(api))
    visitor = new_guest(api, "Bob")
    for _ in range(2):
        response = api.post(f"/api/v1/rooms/{room['slug']}/join", headers=visitor)
        assert response.status_code == 200 and response.json()["member_count"] == 2
    assert set(response.json()) == ROOM_KEYS
    assert api.post(f"/api/v1/rooms/{room['slug']}/leave", headers=visitor).status_code == 200
    assert api.get(f"/api/v1/rooms/{room['slug']}").json()["member_count"] == 1


# Messages


def test_a_posted_message_has_the_contract_shape(api: httpx.Client) -> None:
    auth = new_guest(api, "Ada")
    room = new_room(api, auth)
    message = post(api, auth, room["slug"], "  <b>bold</b> & <script>x</script>\nline two  ")
    assert set(message) == MESSAGE_KEYS
    assert message["text"] == "<b>bold</b> & <script>x</script>\nline two"  # stored and answered literally
    assert message["room"] == room["slug"] and message["kind"] == "text" and message["image"] is None
    assert message["author"]["display_name"] == "Ada" and set(message["author"]) == {"id", "display_name"}
    assert ISO_UTC.match(message["created_at"])


@pytest.mark.parametrize("body", [{"text": ""}, {"text": " \n\t "}, {"text": "x" * 4001}, {}, {"text": None}])
def test_an_invalid_message_is_422_and_nothing_is_saved(api: httpx.Client, body: dict[str, Any]) -> None:
    auth = new_guest(api)
    room = new_room(api, auth)
    assert api.post(f"/api/v1/rooms/{room['slug']}/messages", json=body, headers=auth).status_code == 422
    assert api.get(f"/api/v1/rooms/{room['slug']}/messages").json() == {"messages": [], "has_more": False}


def test_history_pages_by_before_and_after(api: httpx.Client) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    ids = [post(api, auth, slug, f"m{n}")["id"] for n in range(60)]
    assert ids == sorted(ids)

    newest = api.get(f"/api/v1/rooms/{slug}/messages").json()
    assert [m["id"] for m in newest["messages"]] == ids[-50:] and newest["has_more"] is True
    older = api.get(f"/api/v1/rooms/{slug}/messages", params={"before": ids[10], "limit": 100}).json()
    assert [m["id"] for m in older["messages"]] == ids[:10] and older["has_more"] is False
    middle = api.get(f"/api/v1/rooms/{slug}/messages", params={"before": ids[30], "limit": 5}).json()
    assert [m["id"] for m in middle["messages"]] == ids[25:30] and middle["has_more"] is True

    forward = api.get(f"/api/v1/rooms/{slug}/messages", params={"after": ids[50], "limit": 5}).json()
    assert [m["id"] for m in forward["messages"]] == ids[51:56] and forward["has_more"] is True
    tail = api.get(f"/api/v1/rooms/{slug}/messages", params={"after": ids[54]}).json()
    assert [m["id"] for m in tail["messages"]] == ids[55:] and tail["has_more"] is False


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "many"}, {"before": 3, "after": 1}, {"before": "x"}]
)
def test_paging_arguments_out_of_range_are_422(api: httpx.Client, params: dict[str, Any]) -> None:
    slug = new_room(api, new_guest(api))["slug"]
    assert api.get(f"/api/v1/rooms/{slug}/messages", params=params).status_code == 422


def test_history_needs_no_token(api: httpx.Client, app_server: AppProcess) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    post(api, auth, slug, "public")
    page = httpx.get(f"{app_server.url}/api/v1/rooms/{slug}/messages", timeout=10).json()
    assert [m["text"] for m in page["messages"]] == ["public"]


def test_posting_in_a_room_joins_it(api: httpx.Client) -> None:
    slug = new_room(api, new_guest(api))["slug"]
    post(api, new_guest(api, "Bob"), slug, "hi")
    assert api.get(f"/api/v1/rooms/{slug}").json()["member_count"] == 2


# Images


def test_an_uploaded_image_is_served_clean_with_a_thumbnail(api: httpx.Client) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    response = api.post(
        f"/api/v1/rooms/{slug}/images",
        files={"file": ("photo.jpg", image_bytes(), "image/jpeg")},
        data={"caption": "holiday"},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    message = response.json()
    assert set(message) == MESSAGE_KEYS and message["kind"] == "image" and message["text"] == "holiday"
    image = message["image"]
    assert set(image) == {"url", "thumbnail_url", "width", "height"} and (
        image["width"],
        image["height"],
    ) == (1200, 900)

    original = api.get(image["url"])
    assert original.status_code == 200 and original.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(original.content)) as stored:
        assert stored.size == (1200, 900) and not stored.getexif()
    thumbnail = api.get(image["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"].startswith("image/")
    with Image.open(io.BytesIO(thumbnail.content)) as small:
        assert small.size == (400, 300)
    assert api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"] == [message]


@pytest.mark.parametrize("image_format", ["PNG", "GIF", "WEBP"])
def test_png_gif_and_webp_are_accepted(api: httpx.Client, image_format: str) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, image_format)
    response = api.post(f"/api/v1/rooms/{slug}/images", files={"file": ("x", buffer.getvalue())}, headers=auth)
    assert response.status_code == 201, response.text
    served = api.get(response.json()["image"]["url"])
    assert served.headers["content-type"] == f"image/{image_format.lower()}"


def test_an_image_over_the_upload_limit_is_413(api: httpx.Client) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    too_big = b"\xff\xd8" + b"\0" * (1024 * 1024 + 10)  # the test server runs with CHAT_MAX_UPLOAD_MB=1
    response = api.post(f"/api/v1/rooms/{slug}/images", files={"file": ("big.jpg", too_big)}, headers=auth)
    assert response.status_code == 413 and "MB" in response.json()["detail"]
    huge = b"\0" * (3 * 1024 * 1024)
    response = api.post(f"/api/v1/rooms/{slug}/images", files={"file": ("huge.jpg", huge)}, headers=auth)
    assert response.status_code == 413
    assert api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"] == []


@pytest.mark.parametrize("content", [b"hello, I am text", b"\x89PNG\r\n\x1a\n" + b"\0" * 50, b""])
def test_a_file_that_is_not_an_image_is_415(api: httpx.Client, content: bytes) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    response = api.post(f"/api/v1/rooms/{slug}/images", files={"file": ("cat.png", content, "image/png")}, headers=auth)
    assert response.status_code == 415 and response.json()["detail"]
    assert api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"] == []


def test_an_upload_without_a_file_is_422_and_to_an_unknown_room_404(api: httpx.Client) -> None:
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    assert (
        api.post(
            f"/api/v1/rooms/{slug}/images", data={"caption": "x"}, files={"other": ("a", b"b")}, headers=auth
        ).status_code
        == 422
    )
    files = {"file": ("a.png", image_bytes("PNG", (10, 10), gps=False))}
    assert api.post("/api/v1/rooms/nope/images", files=files, headers=auth).status_code == 404


def test_media_outside_the_store_is_never_served(api: httpx.Client, app_server: AppProcess) -> None:
    secret = (Path(app_server.settings["CHAT_DATA_DIR"]) / "storage_secret").read_bytes()
    for path in (
        "/media/../main.py",
        "/media/%2e%2e/main.py",
        "/media/..%2fstorage_secret",
        "/media/ab/" + "0" * 32 + ".png",
        "/media/storage_secret",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert b"def build_parser" not in response.content and secret not in response.content


# Live events, time and documentation


@pytest.mark.parametrize("app_server", ["postgresql+redis"], indirect=True)
def test_a_posted_message_is_published_on_the_bus(api: httpx.Client, app_server: AppProcess) -> None:
    """A subscriber outside the app (another instance, in effect) gets message.created from Redis."""
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    client = redis.Redis.from_url(app_server.settings["CHAT_REDIS_URL"])
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"{app_server.settings['CHAT_REDIS_PREFIX']}:room.{slug}")
    try:
        sent = post(api, auth, slug, "over the wire")
        received = pubsub.get_message(timeout=3)
        while received is None or received["type"] != "message":
            received = pubsub.get_message(timeout=3)
            assert received is not None, "no event within 3 s"
        event = json.loads(received["data"])
        assert event["type"] == "message.created" and event["message"] == sent
    finally:
        pubsub.close()
        client.close()


def test_health_and_the_openapi_page(api: httpx.Client) -> None:
    assert api.get("/healthz").json() == {"status": "ok", "database": "ok", "bus": "ok"}
    assert api.get("/docs").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/api/v1/rooms", "/api/v1/guests", "/api/v1/rooms/{slug}/images", "/healthz"} <= set(paths)


def test_a_chunked_upload_over_the_limit_is_413(api: httpx.Client) -> None:
    """No Content-Length to go by: the body is counted as it arrives and refused past the limit."""
    auth = new_guest(api)
    slug = new_room(api, auth)["slug"]
    boundary = "chunkedboundary"

    def body() -> Iterator[bytes]:
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n'.encode()
        for _ in range(40):
            yield b"\0" * (64 * 1024)  # 2.5 MB in all, against a 1 MB limit
        yield f"\r\n--{boundary}--\r\n".encode()

    headers = {**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = api.post(f"/api/v1/rooms/{slug}/images", content=body(), headers=headers)
    assert response.status_code == 413 and "MB" in response.json()["detail"]


def test_the_pages_upload_route_refuses_oversized_bodies_too(api: httpx.Client) -> None:
    too_big = b"\0" * (3 * 1024 * 1024)
    response = api.post("/_nicegui/client/some-client/upload/some-upload", content=too_big)
    assert response.status_code == 413
