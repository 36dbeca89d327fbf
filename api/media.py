"""GET /media/<key>: stored images, with their image content type and a long cache life.

A public room's image is anyone's who has its (random) URL: no query at all, cached by anyone for
a year. A private room's image (a key under private/<room id>/, services.media) is its members':
the caller is known as any reader (bearer token, else the browser's session cookie, which the
page's <img> tags send), and anyone else, a member who left included, gets the 404 of an image
that does not exist; it is cached by the member's own browser only, and for an hour at most.
"""

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from api.deps import Bearer, Context, reader_token
from api.errors import responses
from services import access
from services.media import content_type_for, private_room_of

router = APIRouter(tags=["media"])


_IMAGE = {"schema": {"type": "string", "format": "binary"}}
_IMAGE_TYPES = {"image/jpeg": _IMAGE, "image/png": _IMAGE, "image/gif": _IMAGE, "image/webp": _IMAGE}
# Keys are random and never reused, so the bytes behind a URL never change.
_PUBLIC_CACHE = "public, max-age=31536000, immutable"
# Never in a shared cache; and a member who leaves stops seeing it within the hour, on reload.
_PRIVATE_CACHE = "private, max-age=3600"


@router.get(
    "/media/{key:path}",
    response_class=FileResponse,
    responses={200: {"content": _IMAGE_TYPES, "description": "the image"}, **responses(404, 422)},
)
async def get_media_file(key: str, request: Request, context: Context, credentials: Bearer) -> FileResponse:
    """An image by its key. A private room's images need a member's token (or, in a browser, its
    session cookie); to anyone else they do not exist (404)."""
    return await media_file(key, request, context, credentials)


# HEAD is the same answer without the body; one operation per method keeps operationIds unique.
@router.head("/media/{key:path}", response_class=FileResponse, include_in_schema=False)
async def media_file(key: str, request: Request, context: Context, credentials: Bearer) -> FileResponse:
    room_id = private_room_of(key)
    if room_id is not None:
        token = reader_token(request, credentials)
        if not await context.db.run_read(access.may_see_private_image, room_id=room_id, key=key, token=token):
            raise HTTPException(404, "no such image")
    # None for anything that is not one of our keys; a thread, since the folder may be a network volume.
    path = await anyio.to_thread.run_sync(context.media.local_path, key)
    if path is None:
        raise HTTPException(404, "no such image")
    return FileResponse(
        path,
        media_type=content_type_for(key),
        headers={
            "Cache-Control": _PRIVATE_CACHE if room_id is not None else _PUBLIC_CACHE,
            "X-Content-Type-Options": "nosniff",
        },
    )
