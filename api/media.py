"""GET /media/<key>: stored images, with their image content type and a long cache life."""

import anyio.to_thread
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.deps import Context
from services.media import content_type_for

router = APIRouter(tags=["media"])


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"], response_class=FileResponse)
async def media_file(key: str, context: Context) -> FileResponse:
    # None for anything that is not one of our keys; a thread, since the folder may be a network volume.
    path = await anyio.to_thread.run_sync(context.media.local_path, key)
    if path is None:
        raise HTTPException(404, "no such image")
    # Keys are random and never reused, so the bytes behind a URL never change.
    return FileResponse(
        path,
        media_type=content_type_for(key),
        headers={"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"},
    )
