"""/docs works without internet access (issue #15, CONTRACT §6): Swagger UI's files come from the
swagger-ui-py package through the app (api/docs.py), not from a CDN.

Real Chromium opens /docs with every request to another host aborted and counted, as on an
air-gapped server or in the desktop app: the operations must render, and nothing may have tried to
leave the machine.
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Route, expect

from tests.support import AppProcess, module_app


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "docs-app") as app:
        yield app


def test_docs_render_their_operations_with_no_network(browser: Browser, chat: AppProcess) -> None:
    app_host = urlsplit(chat.url).netloc
    local, blocked = [], []

    def only_the_app(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == app_host:
            local.append(url)
            route.continue_()
        else:
            blocked.append(url)
            route.abort("internetdisconnected")

    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=chat.url)
    try:
        context.route("**/*", only_the_app)
        page = context.new_page()
        page.goto("/docs")
        # Swagger UI drew the operations from /openapi.json: POST /api/v1/rooms (create_room) among them.
        create_room = page.locator(".opblock.opblock-post", has=page.locator('[data-path="/api/v1/rooms"]'))
        expect(create_room).to_be_visible(timeout=15_000)
        expect(create_room.locator(".opblock-summary-method")).to_have_text("POST")
        assert page.locator(".opblock").count() >= 10, "every operation of the API is listed"
        # Opening it shows its request body: Swagger UI's scripts work, not just its first paint.
        create_room.locator(".opblock-summary").first.click()
        expect(create_room.locator(".opblock-body")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert any(url.endswith("/openapi.json") for url in local), local
        assert any("swagger-ui-bundle.js" in url for url in local), local
        assert blocked == [], f"/docs tried to reach the internet: {blocked}"
    finally:
        context.close()
