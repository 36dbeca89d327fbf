"""Security headers on every HTTP response (pages, API, static files, /docs, errors, 404s), and
every cookie made HttpOnly, SameSite=Lax and, over HTTPS, Secure (CONTRACT §8).

The Content-Security-Policy is as tight as NiceGUI allows. Its page (nicegui/templates/index.html)
is built from inline <script> and <style> blocks (the page's elements are an inline module script),
and Vue compiles element templates at run time with `new Function`, so scripts need
'unsafe-inline' and 'unsafe-eval'; Quasar and the theme set inline styles. Everything is loaded
from this origin: no CDN (Swagger UI's files are served by api/docs.py). Markup in user text is
never rendered as HTML in the first place; the CSP is the second line of defence, and mostly stops
the chat from being framed (frame-ancestors) or its pages from loading anything from elsewhere.

The desktop window (--native) loads the page as its top-level document, which frame-ancestors does
not restrict, so it needs no exception.
"""

from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.client_address import Network, is_https

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",  # NiceGUI's socket.io, WebSocket included: 'self' covers ws(s) to this origin
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


def harden_cookie(cookie: str, *, https: bool) -> str:
    """A Set-Cookie value with HttpOnly, SameSite=Lax (unless it names its own SameSite) and, when
    the browser came over HTTPS, Secure."""
    attributes = {part.strip().split("=", 1)[0].lower() for part in cookie.split(";")[1:]}
    additions = [
        flag
        for flag, present in (
            ("HttpOnly", "httponly" in attributes),
            ("SameSite=Lax", "samesite" in attributes),
            ("Secure", "secure" in attributes or not https),
        )
        if not present
    ]
    return "; ".join([cookie.rstrip("; "), *additions])


class SecurityHeaders:
    """Pure ASGI middleware: it must wrap NiceGUI's session middleware to see the session cookie."""

    def __init__(self, app: ASGIApp, *, trusted_proxies: Sequence[Network], public_url: str | None) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self._is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                cookies = headers.getlist("set-cookie")
                if cookies:
                    del headers["set-cookie"]
                    for cookie in cookies:
                        headers.append("set-cookie", harden_cookie(cookie, https=https))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _is_https(self, scope: Scope) -> bool:
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        peer = scope["client"][0] if scope.get("client") else None
        return is_https(scope.get("scheme", "http"), peer, headers, self.trusted, self.public_url)
