"""The REST API: a second face over the same services as the pages, beside chat_ui, not inside it."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api import guests, health, media, rooms
from api.body_limit import BodySizeLimit
from api.instance_header import InstanceHeader
from services.context import AppContext
from services.errors import ServiceError

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def install(app: FastAPI, context: AppContext) -> None:
    app.state.chat = context
    app.include_router(guests.router, prefix=API_PREFIX)
    app.include_router(rooms.router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(media.router)
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    for error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(error, _database_unavailable)
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_upload_bytes)
    app.add_middleware(InstanceHeader, instance=context.instance_id)


async def _service_error(_request: Request, error: ServiceError) -> JSONResponse:
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    """The database is down or overloaded: the transaction rolled back, so nothing was half-saved."""
    log.warning("database unavailable during %s %s: %s", request.method, request.url.path, error)
    body = {"detail": "the database is unavailable right now; nothing was saved, please try again"}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
