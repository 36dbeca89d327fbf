"""Compression of the pages' WebSocket at a fraction of its usual memory and CPU (#17).

Browsers offer permessage-deflate and uvicorn (through wsproto, which NiceGUI chooses) accepts it
with zlib's defaults: level 6, a 32 KiB window and memLevel 8, about 256 KiB of compressor state
per socket kept for the socket's life, plus an inflater for what the browser sends. Measured at 200
viewers, that was a sixth of the server's CPU and 0.17 MB of each viewer's memory.

Compression is still worth having: a live message re-sends a few rows of HTML, and the previous
frame holds the same rows, so it shrinks several times over. What it needs is far less state:
- the server's compressor keeps its context between messages (that is where the ratio comes from)
  but with an 8 KiB window, memLevel 5 and level 1: about 48 KiB, and the cheapest search. A server
  may always use a smaller window than negotiated: the browser's inflater takes any.
- the browser is asked not to keep context between its own messages (`client_no_context_takeover`,
  which a server may ask for without it being offered, RFC 7692 §7.1.1.2), so the server's inflater
  is dropped after each message instead of holding 32 KiB per socket. What a browser sends (acks,
  clicks, keystrokes) is small: it loses nothing worth keeping.

uvicorn offers no setting for this, so `install()` replaces the extension class its wsproto
protocol instantiates for each accepted socket; tests/test_websocket_deflate.py checks the result
on the wire.
"""

import zlib

from uvicorn.protocols.websockets import wsproto_impl
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits

LEVEL = 1
WINDOW_BITS = 13  # 8 KiB: a chunk of rows and the frame before it
MEMORY_LEVEL = 5


class CompactPerMessageDeflate(PerMessageDeflate):
    def __init__(self) -> None:
        super().__init__(client_no_context_takeover=True)

    def frame_outbound(
        self, proto: FrameDecoder | FrameProtocol, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool
    ) -> tuple[RsvBits, bytes]:
        if self._compressor is None and opcode in (Opcode.TEXT, Opcode.BINARY):
            bits = min(WINDOW_BITS, self.server_max_window_bits)
            self._compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -bits, MEMORY_LEVEL)
        return super().frame_outbound(proto, opcode, rsv, data, fin)


def install() -> None:
    """Every WebSocket accepted from now on compresses with CompactPerMessageDeflate."""
    wsproto_impl.PerMessageDeflate = CompactPerMessageDeflate  # type: ignore[misc]
