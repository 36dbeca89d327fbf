"""The REST API: a second face over the same services as the pages, beside chat_ui, not inside it."""

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from api import admin, export, guests, health, invites, media, room_activity, rooms, search
from api.body_limit import BodySizeLimit
from api.deps import hide_unreadable_room
from api.errors import operation_id, unreadable_body, validation_failed
from api.instance_header import InstanceHeader
from services.context import AppContext
from services.database import DATABASE_DOWN
from services.errors import ServiceError

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def install(app: FastAPI, context: AppContext) -> None:
    app.state.chat = context
    # NiceGUI creates the FastAPI app itself, so operationIds are set where the routers join it.
    # The routers with routes on a room (/rooms/{slug}/...) hide a private room from anyone who
    # may not read it, at this one place for every route they have or get (api.deps); the admin's
    # routes see every room.
    on_rooms = (rooms.router, room_activity.router, invites.router, export.router)
    for router in (
        guests.router,
        rooms.router,
        room_activity.router,
        search.router,
        invites.router,
        export.router,
        admin.router,
    ):
        hide = [Depends(hide_unreadable_room)] if router in on_rooms else None
        app.include_router(router, prefix=API_PREFIX, generate_unique_id_function=operation_id, dependencies=hide)
    app.include_router(health.router, generate_unique_id_function=operation_id)
    app.include_router(media.router, generate_unique_id_function=operation_id)
    app.add_exception_handler(RequestValidationError, validation_failed)  # type: ignore[arg-type]
    app.add_exception_handler(400, unreadable_body)
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    app.add_exception_handler(IntegrityError, _integrity_conflict)  # type: ignore[arg-type]
    for error in DATABASE_DOWN:
        app.add_exception_handler(error, _database_unavailable)
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_upload_bytes)
    app.add_middleware(InstanceHeader, instance=context.instance_id)


async def _service_error(_request: Request, error: ServiceError) -> JSONResponse:
    # Any refusal that knows when to try again says so: RateLimited (429), image_pool.Busy (503).
    retry_after = getattr(error, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)


async def _integrity_conflict(request: Request, error: IntegrityError) -> JSONResponse:
    """A constraint that no check could see coming, because a concurrent request changed the rows
    meanwhile (say, the room was deleted while someone was being removed from it). The services lock
    what they refer to, so this is the net under them: the transaction rolled back, and a clear 409
    beats a 500."""
    log.warning("conflict during %s %s: %s", request.method, request.url.path, str(error.orig).splitlines()[0])
    detail = "something this refers to was changed or removed at the same moment; nothing was saved, reload and retry"
    return JSONResponse({"detail": detail}, status_code=409)


async def _database_unavailable(request: Request, error: Exception) -> Response:
    """The database is down or overloaded: the transaction rolled back, so nothing was half-saved.
    Scripts get a 503 with a reason; a person opening a page gets a page that tries again by itself."""
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, str(error).splitlines()[0])
    headers = {"Retry-After": "5"}
    if request.url.path.startswith(API_PREFIX) or "text/html" not in request.headers.get("accept", ""):
        body = {"detail": "the database is unavailable right now; nothing was saved, please try again"}
        return JSONResponse(body, status_code=503, headers=headers)
    return HTMLResponse(_UNAVAILABLE_PAGE, status_code=503, headers=headers)


_UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Chat is reconnecting</title>
<style>body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;color:#334155}
main{text-align:center;max-width:28rem}h1{font-size:1.4rem}</style></head>
<body><main><h1>The chat cannot reach its database right now</h1>
<p>Nothing is lost. This page tries again every few seconds.</p></main></body></html>
"""
