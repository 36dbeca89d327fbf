"""CONTRACT §8: security headers on every response, hardened cookies, and a Content-Security-Policy
that the pages (NiceGUI), the admin page and /docs (Swagger UI, served offline) work under in
real Chromium."""

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from api.security_headers import SecurityHeaders, harden_cookie
from services.client_address import Network
from services.config import load_settings
from tests.pages import Api, send
from tests.support import AppProcess, running_app, unique

ADMIN_TOKEN = "security-headers-admin-token-0123"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    base = tmp_path_factory.mktemp("security")
    # 127.0.0.1 plays the TLS-terminating proxy: its X-Forwarded-Proto is believed.
    with running_app(
        base / "logs", CHAT_DATA_DIR=str(base / "data"), CHAT_ADMIN_TOKEN=ADMIN_TOKEN, CHAT_TRUSTED_PROXIES="127.0.0.1"
    ) as process:
        yield process


def assert_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") in ("strict-origin-when-cross-origin", "no-referrer"), where
    policy = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, where
    assert "default-src 'self'" in policy and "object-src 'none'" in policy, where


def test_every_kind_of_response_carries_the_security_headers(app: AppProcess) -> None:
    api = Api(app.url)
    slug = api.room()
    with httpx.Client(base_url=app.url, timeout=10) as client:
        page = client.get("/")
        static = re.search(r'src="(/_nicegui/[^"]+\.js)"', page.text)
        assert static is not None, "the page names NiceGUI's scripts"
        responses = [
            page,
            client.get(f"/rooms/{slug}"),
            client.get(static.group(1)),
            client.get("/api/v1/rooms"),
            client.get(f"/api/v1/rooms/{slug}"),
            client.get("/api/v1/rooms/no-such-room"),  # 404 from the API
            client.post("/api/v1/rooms", json={"name": "x"}),  # 401
            client.get(f"/api/v1/rooms/{slug}/messages", params={"limit": 0}),  # 422
            client.get("/no/such/page"),  # 404 from the pages
            client.get("/healthz"),
            client.get("/metrics"),
            client.get("/docs"),
            client.get("/docs-assets/swagger-ui.css"),
            client.get("/openapi.json"),
        ]
    api.close()
    statuses = [response.status_code for response in responses]
    assert statuses == [200, 200, 200, 200, 200, 404, 401, 422, 404, 200, 200, 200, 200, 200]
    for response in responses:
        assert_security_headers(response)


def test_docs_load_nothing_from_another_origin(app: AppProcess) -> None:
    html = httpx.get(f"{app.url}/docs", timeout=10).text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), html


def session_cookie(response: httpx.Response) -> str:
    cookies = response.headers.get_list("set-cookie")
    assert cookies, "the first visit sets the session cookie"
    return next(cookie for cookie in cookies if cookie.startswith("session="))


def flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


def test_the_session_cookie_is_httponly_and_lax_and_secure_only_over_https(app: AppProcess) -> None:
    plain = flags(session_cookie(httpx.get(f"{app.url}/", timeout=10)))
    assert {"httponly", "samesite=lax"} <= plain
    assert "secure" not in plain  # a Secure cookie would never come back over plain HTTP
    behind_tls = httpx.get(f"{app.url}/", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert {"httponly", "samesite=lax", "secure"} <= flags(session_cookie(behind_tls))


def echo_app(*, trusted: tuple[Network, ...], public_url: str | None) -> TestClient:
    def set_cookie(_request: object) -> PlainTextResponse:
        response = PlainTextResponse("ok")
        response.set_cookie("plain", "1", httponly=False, samesite=None)  # type: ignore[arg-type]
        return response

    app = Starlette(routes=[Route("/", set_cookie)])
    app.add_middleware(SecurityHeaders, trusted_proxies=trusted, public_url=public_url)
    return TestClient(app)


def test_any_cookie_is_hardened_and_forwarded_proto_is_believed_only_from_a_trusted_proxy() -> None:
    untrusted = echo_app(trusted=(), public_url=None)
    cookie = flags(untrusted.get("/", headers={"X-Forwarded-Proto": "https"}).headers["set-cookie"])
    assert {"httponly", "samesite=lax"} <= cookie and "secure" not in cookie
    public_https = echo_app(trusted=(), public_url=load_settings(public_url="https://chat.example.org").public_url)
    assert "secure" in flags(public_https.get("/").headers["set-cookie"])


def test_a_cookie_keeps_the_flags_it_has() -> None:
    assert harden_cookie("a=1; Path=/; SameSite=strict; HttpOnly", https=True) == (
        "a=1; Path=/; SameSite=strict; HttpOnly; Secure"
    )


# In the tests only: the product has no such script. Chromium reports a blocked resource or
# eval both as a console error and as this DOM event; the event also names the directive.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def open_watched(browser: Browser, url: str, path: str, console: list[str]) -> Page:
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 800})
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on(
        "console",
        lambda message: (
            console.append(f"{path}: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.goto(path)
    return page


def violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__cspViolations"))


def test_pages_admin_and_docs_work_under_the_policy_in_chromium(browser: Browser, app: AppProcess) -> None:
    console: list[str] = []
    api = Api(app.url)
    slug = api.room(unique("Policy"))
    api.close()

    home = open_watched(browser, app.url, "/", console)
    expect(home.get_by_test_id("room-item").filter(has_text="Policy")).not_to_have_count(0)

    room = open_watched(browser, app.url, f"/rooms/{slug}", console)
    expect(room.get_by_test_id("message-input")).to_be_editable()
    send(room, "works under the policy")
    expect(room.get_by_test_id("message-text").last).to_have_text("works under the policy")

    admin = open_watched(browser, app.url, "/admin", console)
    admin.get_by_test_id("admin-token-input").fill(ADMIN_TOKEN)
    admin.get_by_test_id("admin-sign-in").click()
    expect(admin.get_by_test_id("admin-overview")).to_contain_text("Messages today")

    docs = open_watched(browser, app.url, "/docs", console)
    expect(docs.locator(".opblock").first).to_be_visible()  # Swagger UI rendered the operations
    expect(docs.locator(".opblock-summary-path").filter(has_text="/api/v1/rooms")).not_to_have_count(0)

    for page in (home, room, admin, docs):
        assert violations(page) == [], page.url
        page.context.close()
    assert console == []
