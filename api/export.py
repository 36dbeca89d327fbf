"""GET /rooms/{slug}/export: a room's history as a zip, streamed while it is made (CONTRACT §7)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from api.deps import Context, ReaderGuest
from api.errors import COMMON, responses
from api.params import Slug
from services import export
from services.transcript import ExportFormat

router = APIRouter(tags=["export"])


class ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that closes its generator when it ends, however it ends, then releases
    the export's slot. Starlette stops pulling from it when the client goes away, but leaves it
    suspended for the garbage collector to close whenever it comes by: until then the export would
    hold its open file and its state (and, here, a slot). Released here rather than in the
    generator, whose `finally` does not run if it is closed before it started."""

    def __init__(self, *args: Any, slot: export.Slot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                close = getattr(self.body_iterator, "aclose", None)
                if close is not None:
                    await close()
            finally:
                self.slot.release()


_ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
_ATTACHMENT = {
    "Content-Disposition": {
        "description": '`attachment; filename="<slug>-<YYYY-MM-DD>.zip"`, the day of the export (UTC)',
        "schema": {"type": "string"},
    }
}


@router.get(
    "/rooms/{slug}/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": _ZIP, "headers": _ATTACHMENT, "description": "the zip, as an attachment"},
        **responses(401, 404, *COMMON),
    },
)
async def export_room(
    slug: Slug,
    context: Context,
    reader: ReaderGuest,
    fmt: Annotated[
        ExportFormat,
        Query(
            alias="format",
            description="`json`: messages.json, each message as the API shows it; `markdown`: messages.md",
        ),
    ] = "json",
) -> StreamingResponse:
    """The room's history up to now as a zip: `messages.json` or `messages.md` (a transcript, times
    in UTC) and the room's images under `images/`, which both refer to. Anyone may export a public
    room; a private one, its members (a bearer token, or the browser's session cookie so that a
    page's download link works); to anyone else it is 404, as a room that does not exist.
    Deleted messages are left out. The zip is made while it is sent, in memory that does not grow
    with the room. A server makes a few exports at once; past that it answers 503 with Retry-After."""
    room = await context.db.run_read(export.snapshot_room, slug=slug, reader_id=reader.id if reader else None)
    slot = export.SLOTS.claim()  # after the room's check: whoever may not read it learns nothing more
    chunks = export.stream_export(db=context.db, media=context.media, room=room, fmt=fmt)
    headers = {
        "Content-Disposition": f'attachment; filename="{export.archive_name(room)}"',
        "Cache-Control": "no-store",  # a private room's history is nobody's to keep but the reader's
    }
    return ClosingStreamingResponse(chunks, media_type="application/zip", headers=headers, slot=slot)
