"""Export (CONTRACT §7): a room's history as a zip, JSON or Markdown with its images.

Over HTTP against the real app on both backends (SQLite with the in-process bus, PostgreSQL with
Redis): what the zip holds, who may have it, and its errors; a Markdown transcript that no message
can forge; a client that hangs up stops the server's reading; past two exports at once a third is
refused while pages still answer. On the services, on both databases: memory that does not grow
with the room (tracemalloc while the stream is consumed, at two sizes of room). Against an app of
the module's own, in real Chromium: the room bar's Export downloads the zip, on a laptop and on a
phone (screenshots of the dialog go to test-artifacts/export-*.png).
"""

import base64
import contextlib
import io
import json
import re
import secrets
import socket
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt
from PIL import Image
from playwright.sync_api import Browser, expect
from sqlalchemy import insert, text

from models.message import Message
from services import export, guests, rooms
from services.bus import make_bus
from services.database import Database
from services.media import LocalMediaStore
from tests.pages import PageOpener, api_as, open_room
from tests.support import ROOT, AppProcess, module_app, unique, wait_until

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "device_scale_factor": 2}


# Over HTTP, on both backends


def new_guest(api: httpx.Client, name: str) -> tuple[dict[str, str], int]:
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, response.json()["id"]


def new_room(api: httpx.Client, auth: dict[str, str], *, private: bool = False, description: str = "") -> str:
    body = {"name": unique("Export room"), "description": description, "is_private": private}
    response = api.post("/api/v1/rooms", json=body, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["is_private"] is private
    return response.json()["slug"]  # type: ignore[no-any-return]


def post(api: httpx.Client, auth: dict[str, str], slug: str, text: str, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/api/v1/rooms/{slug}/messages", json={"text": text, **fields}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def png(colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, "PNG")
    return buffer.getvalue()


def post_image(api: httpx.Client, auth: dict[str, str], slug: str, caption: str) -> dict[str, Any]:
    files = {"file": ("square.png", png(), "image/png")}
    response = api.post(f"/api/v1/rooms/{slug}/images", files=files, data={"caption": caption}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def export_of(api: httpx.Client, slug: str, fmt: str | None = None, **request: Any) -> httpx.Response:
    params = {} if fmt is None else {"format": fmt}
    return api.get(f"/api/v1/rooms/{slug}/export", params=params, **request)


def archive(response: httpx.Response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None, "every entry's checksum holds"
    return archive


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    for word in words:
        assert word in body["detail"], body["detail"]


@pytest.fixture
def conversation(api: httpx.Client) -> dict[str, Any]:
    """A public room where Ada and Bo talked: a reply, an edit, a reaction, a deleted message and
    an image with a caption, in that order."""
    ada, _ = new_guest(api, "Ada")
    bo, bo_id = new_guest(api, "Bo")
    slug = new_room(api, ada, description="Where we plan the *launch*")
    first = post(api, ada, slug, "Hello **everyone**\nsecond line")
    post(api, bo, slug, "Hi Ada", reply_to=first["id"])
    gone = post(api, ada, slug, "a secret that was deleted")
    assert api.delete(f"/api/v1/rooms/{slug}/messages/{gone['id']}", headers=ada).status_code == 204
    edited = post(api, bo, slug, "a typo")
    response = api.patch(f"/api/v1/rooms/{slug}/messages/{edited['id']}", json={"text": "no typo"}, headers=bo)
    assert response.status_code == 200, response.text
    response = api.put(f"/api/v1/rooms/{slug}/messages/{first['id']}/reactions/%F0%9F%91%8D", headers=bo)
    assert response.status_code == 200, response.text
    image = post_image(api, ada, slug, "A teal square")
    history = api.get(f"/api/v1/rooms/{slug}/messages").json()["messages"]
    return {"slug": slug, "history": history, "ids": [m["id"] for m in history], "image": image, "bo_id": bo_id}


def test_json_export_holds_every_live_message_oldest_first_as_the_api_shows_it(
    api: httpx.Client, conversation: dict[str, Any]
) -> None:
    slug, history, image = conversation["slug"], conversation["history"], conversation["image"]
    response = export_of(api, slug)  # anonymously: the room is public; json is the default
    zipped = archive(response)
    document = json.loads(zipped.read("messages.json"))
    day = document["room"]["exported_at"][:10]
    assert response.headers["content-disposition"] == f'attachment; filename="{slug}-{day}.zip"'
    assert datetime.fromisoformat(document["room"]["exported_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert {k: v for k, v in document["room"].items() if k != "exported_at"} == {
        "slug": slug,
        "name": api.get(f"/api/v1/rooms/{slug}").json()["name"],
        "description": "Where we plan the *launch*",
        "is_private": False,
    }
    exported = document["messages"]
    assert [m["id"] for m in exported] == conversation["ids"], "oldest first, the deleted one left out"
    assert "a secret that was deleted" not in zipped.read("messages.json").decode()
    for shown, saved in zip(history, exported, strict=True):
        assert {k: v for k, v in saved.items() if k != "image"} == {
            k: v for k, v in shown.items() if k not in ("room", "image")
        }, "each message as the API shows it"
    first, reply, edited, picture = exported
    assert reply["reply_to"]["id"] == first["id"] and reply["reply_to"]["text"].startswith("Hello")
    assert edited["text"] == "no typo" and edited["edited_at"] is not None
    assert first["reactions"] == [{"emoji": "👍", "count": 1, "guest_ids": [conversation["bo_id"]]}]
    assert picture["text"] == "A teal square"
    file = f"images/{image['id']:06d}.png"
    assert picture["image"] == {"file": file, "width": 40, "height": 30}, "no thumbnail: the zip has none"
    assert [name for name in zipped.namelist() if name.startswith("images/")] == [file]
    assert zipped.getinfo(file).compress_type == zipfile.ZIP_STORED, "images are stored, not deflated again"
    assert zipped.getinfo("messages.json").compress_type == zipfile.ZIP_DEFLATED
    assert zipped.read(file) == api.get(image["image"]["url"]).content, "the same bytes as the image's URL"


def test_markdown_export_reads_as_a_transcript_with_its_images(api: httpx.Client, conversation: dict[str, Any]) -> None:
    slug, image = conversation["slug"], conversation["image"]
    zipped = archive(export_of(api, slug, "markdown"))
    assert sorted(zipped.namelist()) == ["images/" + f"{image['id']:06d}.png", "messages.md"]
    transcript = zipped.read("messages.md").decode()
    name = api.get(f"/api/v1/rooms/{slug}").json()["name"]
    assert transcript.startswith(f"# {name}\n\nWhere we plan the *launch*\n")
    assert "All times are in UTC" in transcript.split("## ")[0], "said at the top"
    sent = datetime.fromisoformat(image["created_at"])
    weekday = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[sent.weekday()]
    month = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")[sent.month - 1]  # fmt: skip
    assert f"\n## {weekday}, {sent.day} {month} {sent.year}\n" in transcript, "a day heading, in English"
    assert re.search(r"^\*\*Ada\*\* · \d\d:\d\d$", transcript, re.MULTILINE), transcript
    assert "Hello **everyone**  \nsecond line" in transcript, "Markdown as written, its line breaks kept"
    assert "> **Ada**: Hello **everyone**" in transcript, "the reply quotes what it answers"
    assert re.search(r"^\*\*Bo\*\* · \d\d:\d\d · \*edited\*\n\nno typo$", transcript, re.MULTILINE), transcript
    assert "Reactions: 👍 1" in transcript
    link = f"![A teal square](images/{image['id']:06d}.png)"
    assert link in transcript, "the image by its file in the zip, its caption as the text"
    order = [transcript.index(words) for words in ("Hello **everyone**", "Hi Ada", "no typo", link)]
    assert order == sorted(order), "oldest first"
    assert "a secret that was deleted" not in transcript and "a typo" not in transcript
    assert zipped.read(f"images/{image['id']:06d}.png") == api.get(image["image"]["url"]).content


def test_no_message_can_forge_an_author_a_day_or_html_in_the_markdown_transcript(api: httpx.Client) -> None:
    """Rendered as a Markdown viewer does (CommonMark, HTML allowed), the transcript shows what the
    chat shows: HTML as text, and only the real authors and days as headers."""
    ada, _ = new_guest(api, "Ada")
    bo, _ = new_guest(api, "Bo")
    slug = new_room(api, ada, description="<script>alert(1)</script> & **plans**")
    post(api, ada, slug, "Look <img src=x onerror=alert(1)> & `a<b`\n**Mallory** · 12:00\nI am Mallory now")
    post(api, ada, slug, "## Monday, 1 January 2024\nforged day\nunderlined\n===")
    reply = post(api, ada, slug, "an open fence\n```\n<b>code</b>")
    post(api, bo, slug, "Bo is still <i>here</i>", reply_to=reply["id"])
    transcript = archive(export_of(api, slug, "markdown")).read("messages.md").decode()
    html = MarkdownIt("commonmark", {"html": True}).render(transcript)
    assert "<script" not in html and "<img" not in html and "<i>" not in html, html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <strong>plans</strong>" in html, "the description as text"
    assert "Look &lt;img src=x onerror=alert(1)&gt; &amp; <code>a&lt;b</code>" in html, "the chat's text, code kept"
    assert "<strong>Mallory</strong>" not in html and "**Mallory** · 12:00" in html, "shown as written"
    headings = re.findall(r"<h(\d)>(.*?)</h\1>", html)
    assert [level for level, _ in headings] == ["1", "2"], headings  # the room's name and one real day
    assert "Monday, 1 January 2024" not in headings[1][1]
    assert "<code>&lt;b&gt;code&lt;/b&gt;\n</code>" in html, "the open fence's code, closed with its message"
    assert re.search(r"<p><strong>Bo</strong> · \d\d:\d\d</p>", html), "the next message is no code"
    assert "Bo is still &lt;i&gt;here&lt;/i&gt;" in html


def test_a_format_that_is_not_offered_is_refused_and_a_missing_room_is_not_found(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    slug = new_room(api, ada)
    assert_error(export_of(api, slug, "pdf"), 422, "format")
    assert_error(export_of(api, slug, ""), 422, "format")
    assert_error(export_of(api, unique("no-such-room")), 404)
    assert_error(export_of(api, slug, headers={"Authorization": "Bearer not-a-token"}), 401)


def test_an_empty_room_exports_an_empty_history(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    slug = new_room(api, ada)
    assert json.loads(archive(export_of(api, slug)).read("messages.json"))["messages"] == []
    assert "*No messages.*" in archive(export_of(api, slug, "markdown")).read("messages.md").decode()


def browser_cookie_of(api: httpx.Client) -> tuple[httpx.Cookies, dict[str, str]]:
    """A browser's session, as a first visit to a page makes it, and the bearer header of the guest
    the page made for it (the token the signed cookie holds: Starlette's session is signed base64
    JSON, readable by whoever holds it, as the browser does)."""
    with httpx.Client(base_url=str(api.base_url), timeout=10) as browser:
        assert browser.get("/").status_code == 200
        cookies = browser.cookies
    payload = cookies["session"].split(".")[0]
    session = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return cookies, {"Authorization": f"Bearer {session[guests.BROWSER_TOKEN_KEY]}"}


def test_a_private_room_exports_to_its_members_only_by_token_or_session_cookie(api: httpx.Client) -> None:
    ada, _ = new_guest(api, "Ada")
    stranger, _ = new_guest(api, "Stranger")
    slug = new_room(api, ada, private=True)
    post(api, ada, slug, "for members only")
    image = post_image(api, ada, slug, "members' picture")
    missing = export_of(api, unique("no-such-room")).json()["detail"]
    for request in ({}, {"headers": stranger}):
        for fmt in ("json", "markdown"):
            refused = export_of(api, slug, fmt, **request)
            assert_error(refused, 404)
            assert refused.json()["detail"].replace(slug, "X") == missing.split("'")[0] + "'X'", "as a missing room"
    zipped = archive(export_of(api, slug, headers=ada))
    document = json.loads(zipped.read("messages.json"))
    assert document["room"]["is_private"] is True
    assert [m["text"] for m in document["messages"]] == ["for members only", "members' picture"]
    file = document["messages"][1]["image"]["file"]
    assert zipped.read(file) == api.get(image["image"]["url"], headers=ada).content, "the private image's bytes"

    cookies, browser_guest = browser_cookie_of(api)
    with httpx.Client(base_url=str(api.base_url), cookies=cookies, timeout=10) as browser:
        assert_error(export_of(browser, slug), 404)  # the browser's guest is no member yet
    invite = api.post(f"/api/v1/rooms/{slug}/invites", headers=ada)
    assert invite.status_code == 201, invite.text
    accepted = api.post(f"/api/v1/invites/{invite.json()['code']}/accept", headers=browser_guest)
    assert accepted.status_code == 200, accepted.text
    with httpx.Client(base_url=str(api.base_url), cookies=cookies, timeout=10) as browser:
        transcript = archive(export_of(browser, slug, "markdown")).read("messages.md").decode()
    assert "for members only" in transcript, "the page's download link works with the session cookie"


# On the services, on SQLite and PostgreSQL

SMALL, LARGE = 1_000, 5_000  # messages in the two rooms compared
TEXT_CHARS = 1_000
MEMORY_BOUND = 2_500_000  # bytes: a few pages' worth; the large room's text alone is 5 MB
GROWTH_BOUND = 400_000  # bytes the peak may grow from the small room to the large one


def seed_history(db: Database, count: int, text_chars: int = TEXT_CHARS) -> tuple[str, list[int]]:
    """`count` messages in a new room, written in bulk; the room's slug and the messages' ids."""
    with db.session() as session:
        author = guests.create_guest(session=session, display_name="Seeder")
        slug = rooms.create_room(session=session, owner_id=author.id, name=unique("Big room")).slug
        session.commit()
    return slug, bulk_messages(db, slug, count, text_chars)


def bulk_messages(db: Database, slug: str, count: int, text_chars: int = TEXT_CHARS) -> list[int]:
    """`count` messages of `text_chars` hard-to-compress characters by the room's owner, one a
    second up to now, in one INSERT; their ids, oldest first."""
    with db.session() as session:
        room = rooms.room_by_slug(session, slug)
        room_id, author_id = room.id, room.owner_id
    start = datetime.now(UTC) - timedelta(seconds=count)
    rows = [
        {
            "room_id": room_id,
            "author_id": author_id,
            "kind": "text",
            "text": f"{n} " + secrets.token_hex(text_chars // 2),
            "created_at": start + timedelta(seconds=n),
        }
        for n in range(count)
    ]
    with db.engine.begin() as connection:
        connection.execute(insert(Message), rows)
        query = text("SELECT id FROM message WHERE room_id = :room_id ORDER BY id")
        return [row.id for row in connection.execute(query, {"room_id": room_id})]


async def consume(db: Database, slug: str, fmt: str, into: Path) -> int:
    """Export the room into a file (not into memory, which the test measures); its peak traced bytes."""
    room = await db.run_read(export.snapshot_room, slug=slug, reader_id=None)
    media = LocalMediaStore(into.parent / "media")
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with into.open("wb") as file:
            async for chunk in export.stream_export(db=db, media=media, room=room, fmt=fmt):  # type: ignore[arg-type]
                file.write(chunk)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["json", "markdown"])
async def test_memory_does_not_grow_with_the_history(db: Database, tmp_path: Path, fmt: str) -> None:
    """The peak at 5,000 messages against the peak at 1,000: an export that kept what it sent (or
    the history) would grow by the 2 MB more of zip it makes, far past GROWTH_BOUND."""
    small_slug, _ = seed_history(db, SMALL)
    large_slug, ids = seed_history(db, LARGE)
    await consume(db, small_slug, fmt, tmp_path / "warm-up.zip")  # the first export fills caches once
    small = await consume(db, small_slug, fmt, tmp_path / "small.zip")
    large = await consume(db, large_slug, fmt, tmp_path / "large.zip")
    extra = (tmp_path / "large.zip").stat().st_size - (tmp_path / "small.zip").stat().st_size
    assert extra > 4 * GROWTH_BOUND, f"keeping the zip ({extra:,} bytes more) would break the bound"
    assert large - small < GROWTH_BOUND, f"the peak grew from {small:,} to {large:,} bytes"
    assert large < MEMORY_BOUND, f"the export's peak was {large:,} bytes"
    with zipfile.ZipFile(tmp_path / "large.zip") as zipped:
        if fmt == "json":
            assert [m["id"] for m in json.loads(zipped.read("messages.json"))["messages"]] == ids
        else:
            assert zipped.read("messages.md").decode().count("**Seeder** · ") == LARGE


# Against the shared app on both backends, with a large room: hanging up, and too many at once

BIG_ROOM = 20_000  # messages of 1,000 random characters: a zip of some 11 MB in 201 pages of reads


@pytest.fixture(scope="module")
def big_room(app_server: AppProcess) -> str:
    with api_as(app_server.url, "Ada") as ada:
        slug = ada.room()
    settings = app_server.settings
    url = settings.get("CHAT_DATABASE_URL") or f"sqlite:///{Path(settings['CHAT_DATA_DIR']) / 'chat.db'}"
    app_db = Database(url, bus=make_bus(None))
    try:
        bulk_messages(app_db, slug, BIG_ROOM)
    finally:
        app_db.dispose()
    return slug


def stopped_after(app: AppProcess, slug: str) -> list[int]:
    """The pages each stopped export of the room had read, from the app's log."""
    return [int(n) for n in re.findall(rf"the export of '{slug}' stopped after \d+ bytes and (\d+) pages", app.log())]


def test_a_client_that_hangs_up_stops_the_servers_reading(app_server: AppProcess, big_room: str) -> None:
    """The client reads the first piece of a zip the server takes seconds to make, and hangs up:
    the server stops reading pages then, far from the 201 the whole export reads."""
    before = len(stopped_after(app_server, big_room))
    with httpx.Client(base_url=app_server.url, timeout=10) as client:
        with client.stream("GET", f"/api/v1/rooms/{big_room}/export") as response:
            assert response.status_code == 200
            assert len(next(response.iter_raw())) > 0
        wait_until(
            lambda: len(stopped_after(app_server, big_room)) > before,
            timeout=10,
            message="the server should stop making the zip once its client is gone",
        )
        pages = stopped_after(app_server, big_room)[before]
        assert 0 < pages < BIG_ROOM // export.MESSAGE_PAGE // 2, f"{pages} pages read"
        assert client.get("/healthz").status_code == 200


@contextlib.contextmanager
def held_export(url: str, slug: str) -> Iterator[None]:
    """A client that starts an export, reads its first bytes and then nothing, with a small receive
    buffer of its own (else the kernel's, tuned up to 32 MB here, would take the whole zip): the
    server's export waits until the client reads on or hangs up, as a slow client's would."""
    address = httpx.URL(url)
    with socket.socket() as client:
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        client.settimeout(10)
        client.connect((address.host, address.port))
        request = f"GET /api/v1/rooms/{slug}/export HTTP/1.1\r\nHost: {address.host}\r\nConnection: close\r\n\r\n"
        client.sendall(request.encode())
        assert client.recv(4096).startswith(b"HTTP/1.1 200 "), "the export starts"
        yield


def test_past_two_exports_at_once_a_third_is_refused_and_pages_still_answer(
    app_server: AppProcess, big_room: str, api: httpx.Client
) -> None:
    before = len(stopped_after(app_server, big_room))
    with contextlib.ExitStack() as holding:
        for _ in range(export.EXPORTS_AT_ONCE):
            holding.enter_context(held_export(app_server.url, big_room))
        refused = export_of(api, big_room)
        assert_error(refused, 503, "try again in a minute")
        assert refused.headers["retry-after"] == str(export.BUSY_RETRY_AFTER)
        for path in ("/healthz", f"/api/v1/rooms/{big_room}/messages", f"/rooms/{big_room}"):
            started = time.monotonic()
            assert api.get(path).status_code == 200, path
            assert time.monotonic() - started < 3, f"{path} waited behind the exports"
    wait_until(
        lambda: len(stopped_after(app_server, big_room)) >= before + export.EXPORTS_AT_ONCE,
        timeout=10,
        message="both exports should stop once their clients are gone",
    )
    with api.stream("GET", f"/api/v1/rooms/{big_room}/export") as response:
        assert response.status_code == 200, "their slots are free again"


# Against an app of the module's own (SQLite): the page's Export in Chromium


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "export-app") as app:
        yield app


def test_the_room_bar_exports_a_markdown_transcript_that_the_browser_downloads(
    new_page: PageOpener, chat: AppProcess, tmp_path: Path
) -> None:
    with api_as(chat.url, "Ada") as ada:
        slug = ada.room()
        ada.say(slug, "Notes for the **export**")
    page = open_room(new_page, slug)
    page.get_by_test_id("export-room-button").click()
    expect(page.get_by_test_id("export-json")).to_be_visible()
    with page.expect_download(timeout=15_000) as started:
        page.get_by_test_id("export-markdown").click()
    download = started.value
    assert re.fullmatch(rf"{slug}-\d{{4}}-\d\d-\d\d\.zip", download.suggested_filename), download.suggested_filename
    download.save_as(tmp_path / "room.zip")
    with zipfile.ZipFile(tmp_path / "room.zip") as zipped:
        assert zipped.namelist() == ["messages.md"]
        assert "Notes for the **export**" in zipped.read("messages.md").decode()
    expect(page.get_by_test_id("export-markdown")).to_be_hidden()  # the dialog closed


def test_on_a_phone_export_is_in_the_rooms_menu(browser: Browser, chat: AppProcess, tmp_path: Path) -> None:
    with api_as(chat.url, "Ada") as ada:
        slug = ada.room()
        ada.say(slug, "Sent from a phone")
    context = browser.new_context(base_url=chat.url, **PHONE)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"/rooms/{slug}")
        expect(page.get_by_test_id("export-room-button")).to_be_hidden()  # inside the closed menu
        page.get_by_test_id("room-menu-button").click()
        page.get_by_test_id("export-room-button").click()
        expect(page.get_by_test_id("export-room-button")).to_be_hidden()  # the menu closed
        with page.expect_download(timeout=15_000) as started:
            page.get_by_test_id("export-json").click()
        started.value.save_as(tmp_path / "room.zip")
        with zipfile.ZipFile(tmp_path / "room.zip") as zipped:
            texts = [m["text"] for m in json.loads(zipped.read("messages.json"))["messages"]]
        assert texts == ["Sent from a phone"]
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["laptop", "phone"])
def test_screenshots_of_the_export_dialog(browser: Browser, chat: AppProcess, scheme: str, device: str) -> None:
    options = PHONE if device == "phone" else {"viewport": {"width": 1280, "height": 800}}
    context = browser.new_context(base_url=chat.url, color_scheme=scheme, **options)  # type: ignore[arg-type]
    with api_as(chat.url, "Ada") as ada:
        slug = ada.room(unique("Launch plans"))
        ada.say(slug, "Shall we export the plan?")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"/rooms/{slug}")
        expect(page.get_by_test_id("message-text")).to_have_text("Shall we export the plan?")
        ARTIFACTS.mkdir(exist_ok=True)
        width = options["viewport"]["width"]  # type: ignore[index]
        if device == "phone":
            page.get_by_test_id("room-menu-button").click()
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / f"export-{width}-{scheme}-menu.png"))
        else:
            page.screenshot(path=str(ARTIFACTS / f"export-{width}-{scheme}-bar.png"))
        page.get_by_test_id("export-room-button").click()
        expect(page.get_by_test_id("export-markdown")).to_be_visible()
        page.wait_for_timeout(400)  # the dialog's fade-in
        page.screenshot(path=str(ARTIFACTS / f"export-{width}-{scheme}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
