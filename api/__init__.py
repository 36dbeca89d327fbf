"""The REST API: a second face over the same services as the pages, beside chat_ui, not inside it."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api import guests, health, media, rooms
from api.body_limit import BodySizeLimit
from services.context import AppContext
from services.errors import ServiceError

API_PREFIX = "/api/v1"


def install(app: FastAPI, context: AppContext) -> None:
    app.state.chat = context
    app.include_router(guests.router, prefix=API_PREFIX)
    app.include_router(rooms.router, prefix=API_PREFIX)
    app.include_router(health.router)
    app.include_router(media.router)
    app.add_exception_handler(ServiceError, _service_error)  # type: ignore[arg-type]
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_upload_bytes)


async def _service_error(_request: Request, error: ServiceError) -> JSONResponse:
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)
