"""GET /metrics (Prometheus text), and the middleware that times and logs every HTTP request.

One middleware does both so that the histogram and the log line agree on route, status and
duration. The route is the matched template (`/api/v1/rooms/{slug}`), never the raw path, so
that the number of time series stays bounded whatever URLs clients invent.
"""

import logging
import time
from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import metrics
from services.client_address import Network, client_address

router = APIRouter(tags=["operations"])
log = logging.getLogger("chat.requests")
UNMATCHED = "unmatched"  # 404s: any path a scanner tries would otherwise become a label value


@router.get("/metrics", include_in_schema=False)
def prometheus_metrics() -> Response:
    """This process's figures; scrape every instance (they do not add each other's up)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Times each HTTP request into the latency histogram and writes one log line for it."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "other"
        metrics.HTTP_LATENCY.labels(method=method, route=route, status=str(status)).observe(seconds)
        headers = Headers(scope=scope)  # every line of a repeated header, as the API's limits read them
        peer = scope["client"][0] if scope.get("client") else None
        log.info(
            "request",
            extra={
                "method": scope["method"],
                "route": route,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "client": client_address(peer, headers, self.trusted),
            },
        )


def route_template(scope: Scope) -> str:
    """The matched route's template; for static files under a mount (which FastAPI's router
    serves without naming a route in the scope) the mount's prefix; else UNMATCHED."""
    # FastAPI (0.16x) runs a route of an included router as the router's own object, whose path
    # lacks the prefix; the full template is on the route context it keeps in the scope.
    context = scope.get("fastapi", {}).get("effective_route_context")
    if getattr(context, "path_format", None):
        return str(context.path_format)
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return f"{route.path}/{{path}}" if isinstance(route, Mount) else str(route.path)
    path = scope["path"]
    for candidate in getattr(scope.get("app"), "routes", ()):
        if isinstance(candidate, Mount) and candidate.path and path.startswith(candidate.path + "/"):
            return f"{candidate.path}/{{path}}"
    return UNMATCHED


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
