"""A client generated from the running app's /openapi.json works (CONTRACT §8, issue #13 item 9):
openapi-python-client builds it, the happy path runs through it, and every documented error
arrives parsed as the ErrorDetail model instead of crashing the client or raising.

openapi-python-client runs offline: it reads the schema from the app and writes Python files."""

import importlib
import io
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support import AppProcess, unavailable, unique

# The client cannot tell one binary image type from another; they all arrive as bytes.
CONFIG = """\
content_type_overrides:
  image/jpeg: application/octet-stream
  image/png: application/octet-stream
  image/gif: application/octet-stream
  image/webp: application/octet-stream
"""


class GeneratedPackage:
    """The generated client package: `package("api.rooms.create_room")` imports one of its modules."""

    def __init__(self, name: str, where: Path) -> None:
        self.name, self.where = name, where

    def __call__(self, module: str) -> Any:
        sys.path.insert(0, str(self.where))
        try:
            return importlib.import_module(f"{self.name}.{module}")
        finally:
            sys.path.remove(str(self.where))


@pytest.fixture(scope="module")
def generated(app_server: AppProcess, tmp_path_factory: pytest.TempPathFactory) -> GeneratedPackage:
    """The client generated from this app's schema, under a package name of its own (one per backend)."""
    generator = Path(sys.executable).parent / "openapi-python-client"
    if not generator.exists():
        unavailable("openapi-python-client is not installed: pip install -e '.[test]'")
    where = tmp_path_factory.mktemp("client")
    name = f"chat_client_{uuid.uuid4().hex[:8]}"
    (where / "config.yaml").write_text(CONFIG)
    command = [str(generator), "generate", "--url", f"{app_server.url}/openapi.json"]
    command += ["--output-path", str(where / name), "--meta", "none", "--config", str(where / "config.yaml")]
    # It formats its output with ruff when ruff is on PATH; the virtualenv's own is.
    env = {"PATH": f"{generator.parent}:/usr/bin:/bin"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, f"parts of the schema could not be generated:\n{result.stdout}"
    return GeneratedPackage(name, where)


def clients(pkg: GeneratedPackage, url: str, token: str | None = None) -> Any:
    """A client that raises on any status the schema does not document: undocumented answers fail the test."""
    module = pkg("client")
    if token is None:
        return module.Client(base_url=url, raise_on_unexpected_status=True)
    return module.AuthenticatedClient(base_url=url, token=token, raise_on_unexpected_status=True)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "purple").save(buffer, "PNG")
    return buffer.getvalue()


def test_the_generated_client_walks_the_happy_path(generated: GeneratedPackage, app_server: AppProcess) -> None:
    pkg, url = generated, app_server.url
    models = pkg("models")
    created = pkg("api.guests.create_guest").sync(client=clients(pkg, url), body=models.GuestCreate(display_name="Ada"))
    assert isinstance(created, models.GuestWithToken) and created.display_name == "Ada"
    me = clients(pkg, url, created.token)
    assert pkg("api.guests.get_current_guest").sync(client=me).id == created.id

    room = pkg("api.rooms.create_room").sync(client=me, body=models.RoomCreate(name=unique("Client room")))
    assert isinstance(room, models.RoomPublic) and room.member_count == 1
    post = pkg("api.rooms.post_message")
    sent = [post.sync(room.slug, client=me, body=models.MessageCreate(text=f"hello {n}")) for n in range(3)]
    assert [message.author.display_name for message in sent] == ["Ada"] * 3

    list_messages = pkg("api.rooms.list_messages")
    newest = list_messages.sync(room.slug, client=clients(pkg, url), limit=2)
    assert [m.text for m in newest.messages] == ["hello 1", "hello 2"] and newest.has_more
    older = list_messages.sync(room.slug, client=clients(pkg, url), before=newest.messages[0].id)
    assert [m.text for m in older.messages] == ["hello 0"] and not older.has_more

    upload = models.PostImageBody(file=pkg("types").File(payload=io.BytesIO(png()), file_name="a.png"), caption="hi")
    image = pkg("api.rooms.post_image").sync(room.slug, client=me, body=upload)
    assert isinstance(image, models.MessagePublic) and image.kind == "image" and image.image.width == 64
    assert room.slug in [r.slug for r in pkg("api.rooms.list_rooms").sync(client=clients(pkg, url))]


def test_the_generated_client_parses_every_documented_error(
    generated: GeneratedPackage, app_server: AppProcess
) -> None:
    pkg, url = generated, app_server.url
    models = pkg("models")
    anonymous = clients(pkg, url)
    token = pkg("api.guests.create_guest").sync(client=anonymous, body=models.GuestCreate(display_name="Bo")).token
    me = clients(pkg, url, token)
    name = unique("Taken")
    slug = pkg("api.rooms.create_room").sync(client=me, body=models.RoomCreate(name=name)).slug
    stranger = clients(pkg, url, "not-a-token")

    answers = {
        401: pkg("api.guests.get_current_guest").sync_detailed(client=stranger),
        404: pkg("api.rooms.get_room").sync_detailed("no-such-room-here", client=anonymous),
        409: pkg("api.rooms.create_room").sync_detailed(client=me, body=models.RoomCreate(name=name.upper())),
        422: pkg("api.rooms.post_message").sync_detailed(slug, client=me, body=models.MessageCreate(text="x" * 4001)),
    }
    for status, answer in answers.items():
        assert answer.status_code == status, (status, answer.content)
        assert isinstance(answer.parsed, models.ErrorDetail), (status, answer.parsed)
        assert answer.parsed.detail and isinstance(answer.parsed.detail, str)
    assert "4000" in answers[422].parsed.detail

    not_an_image = models.PostImageBody(file=pkg("types").File(payload=io.BytesIO(b"plain text"), file_name="a.png"))
    refused = pkg("api.rooms.post_image").sync_detailed(slug, client=me, body=not_an_image)
    assert refused.status_code == 415 and isinstance(refused.parsed, models.ErrorDetail)
