"""GET /media/<key>: stored images, with their image content type and a long cache life.

A public room's image is anyone's who has its (random) URL: no query at all, cached by anyone for
a year. A private room's image (a key under private/<room id>/, services.media) is its members':
the caller is known as any reader (bearer token, else the browser's session cookie, which the
page's <img> tags send), and anyone else, a member who left included, gets the 404 of an image
that does not exist; it is cached by the member's own browser only, which asks again before each
use (a cheap 304 while they may still see it, by the ETag FileResponse sends), so that a member who
leaves stops seeing it at once.
"""

import os
from pathlib import Path

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.datastructures import Headers
from starlette.staticfiles import NotModifiedResponse, StaticFiles

from api.deps import Bearer, Context, reader_token
from api.errors import responses
from services import access
from services.media import MediaStore, content_type_for, private_room_of

router = APIRouter(tags=["media"])


_IMAGE = {"schema": {"type": "string", "format": "binary"}}
_IMAGE_TYPES = {"image/jpeg": _IMAGE, "image/png": _IMAGE, "image/gif": _IMAGE, "image/webp": _IMAGE}
# Keys are random and never reused, so the bytes behind a URL never change.
_PUBLIC_CACHE = "public, max-age=31536000, immutable"
# Never in a shared cache, and revalidated at every use: the check above runs each time, a member
# still answered by a 304 without the bytes, one who left by a 404.
_PRIVATE_CACHE = "private, no-cache"
_CONDITIONS = StaticFiles(directory=None, check_dir=False)  # only its is_not_modified(), which reads no files


@router.get(
    "/media/{key:path}",
    response_class=FileResponse,
    responses={200: {"content": _IMAGE_TYPES, "description": "the image"}, **responses(404, 422)},
)
async def get_media_file(key: str, request: Request, context: Context, credentials: Bearer) -> Response:
    """An image by its key. A private room's images need a member's token (or, in a browser, its
    session cookie); to anyone else they do not exist (404)."""
    return await media_file(key, request, context, credentials)


# HEAD is the same answer without the body; one operation per method keeps operationIds unique.
@router.head("/media/{key:path}", response_class=FileResponse, include_in_schema=False)
async def media_file(key: str, request: Request, context: Context, credentials: Bearer) -> Response:
    room_id = private_room_of(key)
    if room_id is not None:
        token = reader_token(request, credentials)
        if not await context.db.run_read(access.may_see_private_image, room_id=room_id, key=key, token=token):
            raise HTTPException(404, "no such image")
    # None for anything that is not one of our keys; a thread, since the folder may be a network volume.
    found = await anyio.to_thread.run_sync(_locate, context.media, key)
    if found is None:
        raise HTTPException(404, "no such image")
    path, stat_result = found
    response = FileResponse(
        path,
        media_type=content_type_for(key),
        stat_result=stat_result,  # its ETag and Last-Modified now, for the check below
        headers={
            "Cache-Control": _PRIVATE_CACHE if room_id is not None else _PUBLIC_CACHE,
            "X-Content-Type-Options": "nosniff",
        },
    )
    # A browser revalidating its copy (If-None-Match / If-Modified-Since) gets a 304 without the
    # bytes; FileResponse itself does not answer conditional requests (StaticFiles does, so its check).
    if _CONDITIONS.is_not_modified(response.headers, Headers(scope=request.scope)):
        return NotModifiedResponse(response.headers)
    return response


def _locate(media: MediaStore, key: str) -> tuple[Path, os.stat_result] | None:
    """The key's file and its size and times; None when there is none."""
    path = media.local_path(key)
    try:
        return (path, path.stat()) if path is not None else None
    except FileNotFoundError:  # deleted a moment ago, with its room
        return None
