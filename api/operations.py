"""The operator's side of the HTTP app, wired in one place: /metrics and request timing and
logging, security headers and cookie flags, the browser-session cookie, and offline /docs."""

from typing import Any

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware

from api import docs, metrics
from api.security_headers import SecurityHeaders
from services.context import AppContext

# Browser sessions (the guest's identity) outlive browser restarts: a year, renewed on each visit.
SESSION_COOKIE: dict[str, Any] = {"max_age": 365 * 24 * 3600, "same_site": "lax"}


def install(app: FastAPI, context: AppContext, *, title: str) -> None:
    """Call after api.install and before ui.run. Middleware added later wraps what came before."""
    settings = context.settings
    trusted = settings.trusted_proxy_networks
    docs.install(app, title=title, version="1")
    app.include_router(metrics.router)
    # NiceGUI would add its session middleware itself in ui.run, outside every other middleware,
    # where SecurityHeaders could not flag its cookie; when it finds this one it keeps it.
    app.add_middleware(SessionMiddleware, secret_key=context.storage_secret, **SESSION_COOKIE)
    app.add_middleware(SecurityHeaders, trusted_proxies=trusted, public_url=settings.public_url)
    app.add_middleware(metrics.RequestMetrics, trusted_proxies=trusted)  # outermost: times all of it
