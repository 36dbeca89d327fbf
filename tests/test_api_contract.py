"""The API's contract at its edges (CONTRACT §8, issue #13 items 1, 2, 9 and 11), against the real
app on SQLite and on PostgreSQL: input the databases cannot store or address gets a clear 422
(404 for an id in a path), never a 500; emoji names are names; every error is `{"detail": text}`
and /openapi.json says so."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.support import AppProcess, running_app, unique

TOO_BIG = "99999999999999999999"  # > 2^63 - 1: no 64-bit integer column can hold it
ID_MAX = 2**31 - 1  # ids are INTEGER columns: 32-bit on PostgreSQL
ADMIN_TOKEN = "contract-admin-token-0123456789"


def guest(api: httpx.Client, name: str = "Ada") -> tuple[dict[str, str], dict[str, Any]]:
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['token']}"}, body


def room(api: httpx.Client, auth: dict[str, str]) -> dict[str, Any]:
    response = api.post("/api/v1/rooms", json={"name": unique("Room")}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    """The status, and the one error shape: {"detail": "a sentence"} holding each of `words`."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    for word in words:
        assert word in body["detail"], body["detail"]
    return body["detail"]  # type: ignore[no-any-return]


# Item 1: integers beyond 64 bits.


@pytest.mark.parametrize(
    "query", [f"before={TOO_BIG}", f"after={TOO_BIG}", f"limit={TOO_BIG}", f"before=-{TOO_BIG}", f"after={2**31}"]
)
def test_a_query_integer_beyond_64_bits_is_422(api: httpx.Client, query: str) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    name = query.split("=")[0]
    assert_error(api.get(f"/api/v1/rooms/{slug}/messages?{query}"), 422, f"{name}:")


def test_the_largest_id_as_a_cursor_is_an_ordinary_one(api: httpx.Client) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    api.post(f"/api/v1/rooms/{slug}/messages", json={"text": "hello"}, headers=auth).raise_for_status()
    older = api.get(f"/api/v1/rooms/{slug}/messages?before={ID_MAX}")
    assert older.status_code == 200 and [m["text"] for m in older.json()["messages"]] == ["hello"]
    newer = api.get(f"/api/v1/rooms/{slug}/messages?after={ID_MAX}")
    assert newer.status_code == 200 and newer.json() == {"messages": [], "has_more": False}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/rooms/{slug}/messages/{big}"),
        ("DELETE", "/api/v1/rooms/{slug}/members/{big}"),
        ("DELETE", "/api/v1/rooms/{slug}/removals/{big}"),
        ("DELETE", "/api/v1/rooms/{slug}/messages/0"),
        ("DELETE", "/api/v1/rooms/{slug}/members/-{big}"),
        ("DELETE", f"/api/v1/rooms/{{slug}}/messages/{2**31}"),
    ],
)
def test_an_id_in_a_path_beyond_64_bits_is_404(api: httpx.Client, method: str, path: str) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    response = api.request(method, path.format(slug=slug, big=TOO_BIG), headers=auth)
    assert_error(response, 404, "_id")


# Item 2: what the databases cannot hold.

NUL = "before\x00after"
SURROGATE = '"lone \\ud800 surrogate"'  # JSON text: json.loads accepts it, neither database can encode it


def test_a_nul_in_any_text_field_is_422_and_nothing_is_stored(api: httpx.Client) -> None:
    auth, me = guest(api)
    slug = room(api, auth)["slug"]
    refusals = [
        api.post("/api/v1/guests", json={"display_name": NUL}),
        api.patch("/api/v1/guests/me", json={"display_name": NUL}, headers=auth),
        api.post("/api/v1/rooms", json={"name": NUL}, headers=auth),
        api.post("/api/v1/rooms", json={"name": unique("Room"), "description": NUL}, headers=auth),
        api.post(f"/api/v1/rooms/{slug}/messages", json={"text": NUL}, headers=auth),
    ]
    for response in refusals:
        assert_error(response, 422, "NUL")
    assert api.get("/api/v1/guests/me", headers=auth).json()["display_name"] == me["display_name"]
    assert api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"] == []


def test_a_nul_in_an_image_caption_is_422_and_nothing_is_stored(api: httpx.Client) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    files = {"file": ("a.png", buffer.getvalue(), "image/png")}
    response = api.post(f"/api/v1/rooms/{slug}/images", files=files, data={"caption": NUL}, headers=auth)
    assert_error(response, 422, "NUL")
    assert api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"] == []


def test_a_lone_surrogate_is_422(api: httpx.Client) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    headers = {**auth, "Content-Type": "application/json"}
    response = api.post(f"/api/v1/rooms/{slug}/messages", content=f'{{"text": {SURROGATE}}}', headers=headers)
    assert_error(response, 422, "text:")
    assert api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"] == []


@pytest.mark.parametrize("slug", ["%00", "a%00b", "Lobby", "x" * 81])
def test_a_slug_that_cannot_name_a_room_is_404(api: httpx.Client, slug: str) -> None:
    auth, _ = guest(api)
    assert_error(api.get(f"/api/v1/rooms/{slug}"), 404, "slug")
    assert_error(api.get(f"/api/v1/rooms/{slug}/messages"), 404, "slug")
    assert_error(api.post(f"/api/v1/rooms/{slug}/messages", json={"text": "hi"}, headers=auth), 404, "slug")
    page = api.get(f"/rooms/{slug}")  # the room page: a "no such room" page, not an error
    assert page.status_code < 500, page.text[:300]


# Item 11: emoji sequences are names; controls and bidi overrides are not.

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # 👨‍👩‍👧: three emoji joined by ZWJ
RED_HEART = "\u2764\ufe0f"  # ❤️: a variation selector asks for the emoji form
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # 🏴󠁧󠁢󠁳󠁣󠁴󠁿: a tag sequence
RAINBOW = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈


@pytest.mark.parametrize("name", [FAMILY, f"Ada {RED_HEART}", SCOTLAND, RAINBOW, "Zoë \U0001f44d\U0001f3fd"])
def test_a_display_name_with_emoji_sequences_is_accepted(api: httpx.Client, name: str) -> None:
    auth, created = guest(api, name)
    assert created["display_name"] == name
    renamed = api.patch("/api/v1/guests/me", json={"display_name": f"{name}!"}, headers=auth)
    assert renamed.status_code == 200 and renamed.json()["display_name"] == f"{name}!"


@pytest.mark.parametrize(
    "name",
    [
        "evil\u202egnp.exe",
        "a\u2066b",
        "zero\u200bwidth",
        "\u200dAda",
        "bell\x07",
        "line\nbreak",
        "\U000e0067\U000e0062",
    ],
)
def test_a_display_name_with_control_or_bidi_characters_is_refused(api: httpx.Client, name: str) -> None:
    assert_error(api.post("/api/v1/guests", json={"display_name": name}), 422, "control characters")


# Item 9: one error shape, in the answers and in the schema.


def test_validation_errors_are_one_readable_line_naming_the_field(api: httpx.Client) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    too_long = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": "x" * 4001}, headers=auth)
    assert_error(too_long, 422, "text:", "at most 4000 characters")
    assert_error(api.post(f"/api/v1/rooms/{slug}/messages", json={}, headers=auth), 422, "text:", "required")
    broken = api.post(
        f"/api/v1/rooms/{slug}/messages", content="{not json", headers={**auth, "Content-Type": "application/json"}
    )
    assert_error(broken, 422, "JSON")
    assert_error(api.get(f"/api/v1/rooms/{slug}/messages?limit=0"), 422, "limit:")


def test_text_is_measured_after_trimming_as_the_contract_says(api: httpx.Client) -> None:
    auth, _ = guest(api)
    slug = room(api, auth)["slug"]
    padded = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": f"  {'x' * 4000}\n"}, headers=auth)
    assert padded.status_code == 201 and padded.json()["text"] == "x" * 4000
    assert_error(api.post(f"/api/v1/rooms/{slug}/messages", json={"text": " \n "}, headers=auth), 422, "text:")


def openapi(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def test_operation_ids_name_the_action(api: httpx.Client) -> None:
    ids = {f"{method} {path}": operation["operationId"] for method, path, operation in operations(openapi(api))}
    assert len(set(ids.values())) == len(ids), ids
    assert not [name for name in ids.values() if "api_v1" in name or name.endswith(("_get", "_post", "_delete"))]
    assert ids["POST /api/v1/rooms"] == "create_room"
    assert ids["GET /api/v1/rooms"] == "list_rooms"
    assert ids["POST /api/v1/rooms/{slug}/messages"] == "post_message"
    assert ids["GET /api/v1/rooms/{slug}/messages"] == "list_messages"
    assert ids["DELETE /api/v1/admin/messages/{message_id}"] == "admin_delete_message"


def test_every_error_answer_is_documented_with_the_detail_model(api: httpx.Client) -> None:
    schema = openapi(api)
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert detail["properties"]["detail"]["type"] == "string" and detail["required"] == ["detail"]
    for method, path, operation in operations(schema):
        errors = {code: answer for code, answer in operation["responses"].items() if code >= "400"}
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        assert "422" in errors or not takes_input, (method, path)
        for code, answer in errors.items():
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorDetail", (method, path, code)
    by_id = {operation["operationId"]: operation for _, _, operation in operations(schema)}
    assert {"401", "403", "404", "429"} <= set(by_id["post_message"]["responses"])
    assert {"401", "409"} <= set(by_id["create_room"]["responses"])
    assert {"413", "415"} <= set(by_id["post_image"]["responses"])
    assert "Retry-After" in by_id["post_message"]["responses"]["429"]["headers"]
    assert {"401", "404"} <= set(by_id["admin_ban_guest"]["responses"])


def test_length_limits_and_id_bounds_are_in_the_schema(api: httpx.Client) -> None:
    schema = openapi(api)
    models = schema["components"]["schemas"]
    assert {"minLength": 1, "maxLength": 4000}.items() <= models["MessageCreate"]["properties"]["text"].items()
    assert {"minLength": 1, "maxLength": 64}.items() <= models["RoomCreate"]["properties"]["name"].items()
    assert {"minLength": 1, "maxLength": 32}.items() <= models["GuestUpdate"]["properties"]["display_name"].items()
    by_id = {operation["operationId"]: operation for _, _, operation in operations(schema)}
    parameters = {p["name"]: p["schema"] for p in by_id["delete_message"]["parameters"]}
    assert parameters["message_id"]["maximum"] == ID_MAX and parameters["message_id"]["minimum"] == 1
    cursors = {p["name"]: p["schema"] for p in by_id["list_messages"]["parameters"]}
    assert any(option.get("maximum") == ID_MAX for option in cursors["before"]["anyOf"])


# The admin API, which the shared app does not enable.


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    data_dir: Path = tmp_path_factory.mktemp("contract-admin")
    with running_app(data_dir / "logs", CHAT_DATA_DIR=str(data_dir), CHAT_ADMIN_TOKEN=ADMIN_TOKEN) as app:
        yield app


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", f"/api/v1/admin/messages/{TOO_BIG}"),
        ("POST", f"/api/v1/admin/guests/{TOO_BIG}/ban"),
        ("DELETE", f"/api/v1/admin/guests/{TOO_BIG}/ban"),
        ("PATCH", f"/api/v1/admin/guests/{TOO_BIG}"),
        ("DELETE", f"/api/v1/admin/rooms/lobby/members/{TOO_BIG}"),
        ("DELETE", f"/api/v1/admin/rooms/lobby/removals/{TOO_BIG}"),
        ("DELETE", "/api/v1/admin/rooms/%00"),
    ],
)
def test_admin_ids_beyond_64_bits_are_404(admin_app: AppProcess, method: str, path: str) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    body = {"display_name": "Polite"} if method == "PATCH" else None
    response = httpx.request(method, f"{admin_app.url}{path}", json=body, headers=headers, timeout=10)
    assert_error(response, 404)


def test_admin_text_with_a_nul_is_422(admin_app: AppProcess) -> None:
    with httpx.Client(base_url=admin_app.url, timeout=10) as api:
        auth, me = guest(api)
        slug = room(api, auth)["slug"]
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert_error(api.patch(f"/api/v1/admin/rooms/{slug}", json={"description": NUL}, headers=admin), 422, "NUL")
        assert_error(api.patch(f"/api/v1/admin/guests/{me['id']}", json={"display_name": NUL}, headers=admin), 422)
