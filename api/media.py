"""GET /media/<key>: stored images, with their image content type and a long cache life."""

import anyio.to_thread
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.deps import Context
from api.errors import responses
from services.media import content_type_for

router = APIRouter(tags=["media"])


_IMAGE = {"schema": {"type": "string", "format": "binary"}}
_IMAGE_TYPES = {"image/jpeg": _IMAGE, "image/png": _IMAGE, "image/gif": _IMAGE, "image/webp": _IMAGE}


@router.get(
    "/media/{key:path}",
    response_class=FileResponse,
    responses={200: {"content": _IMAGE_TYPES, "description": "the image"}, **responses(404, 422)},
)
async def get_media_file(key: str, context: Context) -> FileResponse:
    return await media_file(key, context)


# HEAD is the same answer without the body; one operation per method keeps operationIds unique.
@router.head("/media/{key:path}", response_class=FileResponse, include_in_schema=False)
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
