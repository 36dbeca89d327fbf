"""One shape for every error the API sends, `{"detail": "text"}`, and the OpenAPI that says so.

FastAPI answers a failed validation with a list of pydantic errors, and documents that list
under 422 of every operation; generated clients then crash on the plain-text details every
other error carries. Here validation errors become one readable line naming the field, an id
in a path that fails validation becomes the 404 it is (it cannot name anything), and
`responses(...)` declares each status an operation can answer with the one `ErrorDetail` model.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """Every error answer: a sentence for people, stable enough to show as it is."""

    detail: str = Field(examples=["text: must be at most 4000 characters"])


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before trying again", "schema": {"type": "integer"}}}

WHY = {
    401: "No token, or one that names nobody: send Authorization: Bearer <token>",
    403: "The token is valid but may not do this (banned, removed from the room, not the owner, locked room)",
    404: "Nothing has this address (for admin routes: the admin API is off without CHAT_ADMIN_TOKEN)",
    409: "It conflicts with what exists (a room name taken, ignoring case)",
    413: "The body is larger than CHAT_MAX_UPLOAD_MB allows",
    415: "Not a JPEG, PNG, GIF or WebP image that can be decoded",
    422: "Invalid input; the detail names the field and what is wrong with it",
    429: "Too many requests from this guest or address; try again after Retry-After seconds",
    503: "The database (or the image workers) cannot answer right now; nothing was saved",
}
_WITH_RETRY_AFTER = {429, 503}

# The answers most operations share: every route validates its input and reads the database.
COMMON = (422, 503)
AUTHENTICATED = (401, 403, 429, *COMMON)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route decorator: each error status with the ErrorDetail model."""
    declared: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        declared[status] = {"model": ErrorDetail, "description": WHY[status]}
        if status in _WITH_RETRY_AFTER:
            declared[status]["headers"] = _RETRY_AFTER
    return declared


def operation_id(route: APIRoute) -> str:
    """operationIds that name the action (`create_room`, `list_messages`), not FastAPI's
    spelling of the path (`create_room_api_v1_rooms_post`): route function names are unique."""
    return route.name


async def validation_failed(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = list(error.errors())
    in_path = [problem for problem in problems if problem.get("loc", ("",))[0] == "path"]
    if in_path:
        return JSONResponse({"detail": _not_found(in_path[0])}, status_code=404)
    return JSONResponse({"detail": "; ".join(_describe(problem) for problem in problems)}, status_code=422)


async def unreadable_body(request: Request, error: Exception) -> Response:
    """FastAPI and Starlette answer 400 for a body they cannot even parse (bytes that are not UTF-8,
    a broken multipart form). For the API that is invalid input like any other: the same 422."""
    if request.url.path.startswith("/api/"):
        reason = getattr(error, "detail", "") or "it could not be parsed"
        return JSONResponse({"detail": f"body: {str(reason)[:1].lower()}{str(reason)[1:]}"}, status_code=422)
    return await http_exception_handler(request, error)  # type: ignore[arg-type]


def _describe(problem: dict[str, Any]) -> str:
    """'text: string should have at most 4000 characters': the field, then pydantic's reason."""
    location: Sequence[Any] = problem.get("loc", ())
    field = ".".join(str(part) for part in location[1:]) or (str(location[0]) if location else "request")
    message = str(problem.get("msg", "is invalid"))
    if problem.get("type") == "json_invalid":
        return f"body: not valid JSON ({problem.get('ctx', {}).get('error', 'decode error')})"
    return f"{field}: {message[:1].lower()}{message[1:]}"


def _not_found(problem: dict[str, Any]) -> str:
    location: Sequence[Any] = problem.get("loc", ())
    name = str(location[-1]) if location else "path"
    value = str(problem.get("input", ""))[:100]
    return f"nothing has the {name} {value!r}: it is not a valid {name}"
