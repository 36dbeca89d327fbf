"""The pages' WebSocket compresses with little state (api/websocket_deflate.py): what the server
answers a browser's permessage-deflate offer, that what it sends inflates with a browser's usual
32 KiB window, and that a browser's own compressed messages are still understood."""

import socket
import zlib
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Event, Request, TextMessage
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import Opcode, RsvBits

from api.websocket_deflate import CompactPerMessageDeflate
from tests.support import AppProcess

SOCKET_PATH = "/_nicegui_ws/socket.io/?EIO=4&transport=websocket"


class BrowserLikeSocket:
    """A WebSocket client over a plain socket that offers permessage-deflate as Chromium does."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.connection = WSConnection(ConnectionType.CLIENT)
        self.deflate = PerMessageDeflate()  # offers client_max_window_bits, like a browser
        self.send(Request(host=f"{parts.hostname}:{parts.port}", target=SOCKET_PATH, extensions=[self.deflate]))

    def send(self, event: Event) -> None:
        self.socket.sendall(self.connection.send(event))

    def next_event(self) -> Event:
        while True:
            for event in self.connection.events():
                return event
            data = self.socket.recv(65536)
            assert data, "the server closed the connection"
            self.connection.receive_data(data)

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def browser_socket(app_server: AppProcess) -> BrowserLikeSocket:
    client = BrowserLikeSocket(app_server.url)
    yield client  # type: ignore[misc]
    client.close()


def test_the_server_compresses_and_asks_browsers_to_keep_no_context(browser_socket: BrowserLikeSocket) -> None:
    accepted = browser_socket.next_event()
    assert isinstance(accepted, AcceptConnection)
    assert browser_socket.deflate.enabled(), "permessage-deflate is negotiated"
    assert browser_socket.deflate.client_no_context_takeover, "the browser is asked to compress each message alone"
    opened = browser_socket.next_event()  # Engine.IO's open packet, compressed and inflated here
    assert isinstance(opened, TextMessage) and opened.data.startswith('0{"sid"'), opened
    # A compressed message from the browser (Socket.IO's connect) is understood: the server answers it.
    browser_socket.send(TextMessage(data="40"))
    answer = browser_socket.next_event()
    assert isinstance(answer, TextMessage) and answer.data.startswith("4"), answer


def test_frames_inflate_with_a_browsers_full_window_and_shrink_repeated_rows() -> None:
    """Many messages through one compressor, each inflated by one 15-bit inflater as a browser does;
    a message that repeats rows of the one before shrinks to a fraction of its size."""
    deflate = CompactPerMessageDeflate()
    inflater = zlib.decompressobj(-15)
    rows = [
        f'<div class="chat-row" data-message-id="{n}"><p>message number {n} says hello</p></div>' for n in range(40)
    ]
    server = SimpleNamespace(client=False)  # what wsproto asks of the protocol: which side it is
    sizes = []
    for end in range(1, len(rows)):
        text = "".join(rows[max(0, end - 4) : end]).encode()  # a live chunk of up to four rows
        _, payload = deflate.frame_outbound(server, Opcode.TEXT, RsvBits(False, False, False), text, True)  # type: ignore[arg-type]
        assert inflater.decompress(payload + b"\x00\x00\xff\xff") == text
        sizes.append((len(payload), len(text)))
    compressed, plain = sizes[-1]
    assert compressed < plain / 3, (
        f"a chunk that repeats the last frame's rows compresses: {compressed} of {plain} bytes"
    )
