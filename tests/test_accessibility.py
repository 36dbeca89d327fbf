"""Accessibility (issue #15): an axe-core audit of `/` and of a busy room in real Chromium, at desktop
and phone sizes, light and dark, finds no serious or critical violation; focus is visible.

axe-core comes with the axe-playwright-python package (its axe.min.js is injected into the page by
Playwright, which is not subject to the page's Content-Security-Policy); nothing is fetched at run
time. The busy room holds messages from several guests, a reply, reactions, an image and a mention
of the reader, and is audited once more with a row's command buttons shown (as on hover), so that
their names and contrast are checked too, and again scrolled to its beginning. Dialogs and the
phone's message menu are audited open. The palette's contrast is also checked without a browser.
Screenshots go to test-artifacts/a11y-*.png.
"""

import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from chat_ui import theme
from tests.pages import LIVE, SCROLL_TO_TOP, Api, send
from tests.support import ROOT, AppProcess, module_app, unique

ARTIFACTS = ROOT / "test-artifacts"
SIZES = [(1280, 800), (390, 844)]
SCHEMES = ["light", "dark"]
BLOCKING = {"serious", "critical"}


# The palette itself (chat_ui/theme.py), checked without a browser: every text colour on every
# surface it may sit on, in both themes, by WCAG's formula.

TEXT_ON_SURFACES = {
    fg: ("page", "surface", "raised", "hover")
    for fg in ("text", "muted", "faint", "accent", "accent-text", "danger", "warning")
}


def _palette(selector: str) -> dict[str, str]:
    block = re.search(re.escape(selector) + r" \{(.*?)\}", theme.CSS, re.S)
    assert block, f"theme.CSS has a {selector} block"
    return dict(re.findall(r"--chat-([a-z-]+):\s*([^;]+);", block.group(1)))


def _rgba(value: str) -> tuple[float, float, float, float]:
    if value.startswith("#"):
        return (*(int(value[i : i + 2], 16) for i in (1, 3, 5)), 1.0)  # type: ignore[return-value]
    r, g, b, a = (float(part) for part in re.findall(r"[\d.]+", value))
    return r, g, b, a


def _over(top: str, below: str) -> str:
    """A translucent colour as painted over an opaque one."""
    r, g, b, a = _rgba(top)
    base = _rgba(below)
    return "#" + "".join(f"{round(a * c + (1 - a) * d):02x}" for c, d in zip((r, g, b), base[:3], strict=True))


def contrast(one: str, other: str) -> float:
    def luminance(colour: str) -> float:
        channels = [c / 255 for c in _rgba(colour)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("selector", [":root", "body.body--dark"])
def test_the_palette_keeps_text_readable(selector: str) -> None:
    """Every text colour reaches 4.5:1 on each surface, text on accent-soft and on the brand fill
    too; the presence dot (a shape) reaches 3:1."""
    palette = _palette(selector)
    pairs = [(fg, bg, palette[bg], 4.5) for fg, bgs in TEXT_ON_SURFACES.items() for bg in bgs]
    for surface in ("surface", "raised"):
        soft = _over(palette["accent-soft"], palette[surface])
        pairs += [(fg, f"accent-soft on {surface}", soft, 4.5) for fg in ("text", "muted", "accent-text")]
    pairs += [("on-accent", "accent-fill", palette["accent-fill"], 4.5), ("online", "surface", palette["surface"], 3)]
    low = [
        f"--chat-{fg} on {name}: {contrast(palette[fg], colour):.2f}"
        for fg, name, colour, least in pairs
        if contrast(palette[fg], colour) < least
    ]
    assert not low, f"{selector}: {low}"
    assert contrast("#777777", "#ffffff") < 4.5 < contrast("#767676", "#ffffff")  # the formula, on WCAG's own pair


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppProcess]:
    with module_app(tmp_path_factory, "a11y-app") as app:
        yield app


@pytest.fixture(scope="module")
def guests(chat: AppProcess) -> Iterator[dict[str, Api]]:
    people = {name: Api(chat.url, name=name) for name in ("Ada", "Bo", "Cyrus")}
    yield people
    for api in people.values():
        api.close()


@pytest.fixture(scope="module")
def busy_room(guests: dict[str, Api]) -> str:
    """A room as a chat looks after a while: three guests, grouped messages, Markdown, a reply,
    reactions, an image and a mention."""
    ada, bo, cyrus = guests["Ada"], guests["Bo"], guests["Cyrus"]
    slug = ada.room(unique("Design review"))
    question = ada.say(slug, "Has anyone tried the **new** build? Notes: https://example.com/notes")
    ada.say(slug, "It should fix the `KeyError` in the importer.")
    answer = _post(bo, slug, {"text": "Yes! Works here:\n```\n$ chat --check\nall good\n```", "reply_to": question})
    for api, emoji in ((ada, "🎉"), (bo, "👍"), (cyrus, "👍")):
        response = api.client.put(f"/api/v1/rooms/{slug}/messages/{answer}/reactions/{quote(emoji)}", headers=api.auth)
        assert response.status_code == 200, response.text
    cyrus.say(slug, "> It should fix the KeyError\nit did, _mostly_. Thanks @Ada!")
    buffer = io.BytesIO()
    Image.new("RGB", (800, 500), "teal").save(buffer, "JPEG")
    response = cyrus.client.post(
        f"/api/v1/rooms/{slug}/images", files={"file": ("shot.jpg", buffer.getvalue())}, headers=cyrus.auth
    )
    assert response.status_code == 201, response.text
    bo.say(slug, "Looks great on my phone too.")
    return slug


def _post(api: Api, slug: str, body: dict[str, Any]) -> int:
    response = api.client.post(f"/api/v1/rooms/{slug}/messages", json=body, headers=api.auth)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def visitor(browser: Browser, chat: AppProcess, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    """A fresh visitor's browser at the test's size and colour scheme (the page follows the system's);
    at the phone's size, a phone's touch screen, where rows show their "⋯" button."""
    width, height = request.node.callspec.params["size"]
    phone = width < 600
    context = browser.new_context(
        viewport={"width": width, "height": height},
        base_url=chat.url,
        color_scheme=request.node.callspec.params["scheme"],
        has_touch=phone,
        is_mobile=phone,
    )
    yield context
    context.close()


def audit(page: Page, within: dict[str, list[list[str]]] | None = None) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as shown now (or within the part of
    it an axe context, {"include": [[selector]], "exclude": [...]}, picks)."""
    results = Axe().run(page, context=within, options={"resultTypes": ["violations"]})
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def explain(violations: list[dict[str, Any]], what: str) -> str:
    """Each violation's rule, impact and help, with the first nodes: where, what, and why."""
    lines = [f"{len(violations)} serious or critical axe-core violation(s) on {what}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"][:6]:
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {node['target']} {' '.join(node['html'].split())[:160]}")
            lines.append(f"        {summary[:300]}")
        if len(violation["nodes"]) > 6:
            lines.append(f"    … and {len(violation['nodes']) - 6} more")
    return "\n".join(lines)


def settle(page: Page, scheme: str) -> None:
    """Wait until the page shows its theme and stops animating."""
    expect(page.locator("body")).to_have_class(re.compile(rf"\bbody--{scheme}\b"))
    page.wait_for_timeout(400)  # Quasar's transitions (menus, drawers) end within 300 ms


def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"a11y-{name}.png"))


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_room_list_has_no_serious_accessibility_violations(
    visitor: BrowserContext, guests: dict[str, Api], busy_room: str, size: tuple[int, int], scheme: str
) -> None:
    page = visitor.new_page()
    page.goto("/")
    expect(page.get_by_test_id("room-item").first).to_be_visible()
    settle(page, scheme)
    shoot(page, f"rooms-{size[0]}x{size[1]}-{scheme}")
    violations = audit(page)
    assert not violations, explain(violations, f"/ at {size[0]}x{size[1]}, {scheme}")

    page.goto("/rooms/no-such-room")  # the page a stale link leads to
    expect(page.get_by_test_id("not-found")).to_be_visible()
    settle(page, scheme)
    violations = audit(page)
    assert not violations, explain(violations, f"a missing room at {size[0]}x{size[1]}, {scheme}")


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_busy_room_has_no_serious_accessibility_violations(
    visitor: BrowserContext, guests: dict[str, Api], busy_room: str, size: tuple[int, int], scheme: str
) -> None:
    page = visitor.new_page()
    page.goto(f"/rooms/{busy_room}")
    expect(page.get_by_test_id("message-input")).to_be_editable()
    name = page.get_by_test_id("current-user-name").inner_text()
    send(page, f"{name} here, reading along")  # joins, so that a mention of the reader can follow
    expect(page.get_by_test_id("message-text").last).to_have_text(f"{name} here, reading along", timeout=LIVE)
    guests["Bo"].say(busy_room, f"Welcome @{name}, have a look at the screenshot above")
    expect(page.locator('[data-testid=message][data-mentioned="true"]').last).to_be_visible(timeout=LIVE)
    image = page.get_by_test_id("message-image")
    image.scroll_into_view_if_needed()  # it loads lazily
    expect(image).to_have_js_property("complete", True)
    page.get_by_test_id("message").last.scroll_into_view_if_needed()
    settle(page, scheme)
    shoot(page, f"room-{size[0]}x{size[1]}-{scheme}")
    where = f"/rooms/{busy_room} at {size[0]}x{size[1]}, {scheme}"
    violations = audit(page)
    assert not violations, explain(violations, where)

    # Once more with a row's command buttons shown, as on hover (or always, on a touch screen).
    page.get_by_test_id("message").nth(2).hover()
    page.wait_for_timeout(300)
    violations = audit(page)
    assert not violations, explain(violations, where + " with a row's commands shown")

    # And scrolled back to the room's beginning (its first messages, the label above them): axe
    # leaves out what the list's overflow hides.
    page.get_by_test_id("message-list").evaluate(SCROLL_TO_TOP)
    expect(page.get_by_test_id("message").first).to_be_in_viewport()
    page.wait_for_timeout(300)
    shoot(page, f"room-top-{size[0]}x{size[1]}-{scheme}")
    violations = audit(page)
    assert not violations, explain(violations, where + ", scrolled to the top")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_dialogs_and_menus_have_no_serious_accessibility_violations(
    browser: Browser, chat: AppProcess, busy_room: str, scheme: str
) -> None:
    """What opens over the pages: the new-room form, the profile dialog, the reaction picker, and a
    message's menu on a phone (touch, where rows have a "⋯" button instead of the hover toolbar).
    Each is audited, and all their problems are reported together."""
    desktop = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=chat.url, color_scheme=scheme)
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=chat.url, color_scheme=scheme, has_touch=True, is_mobile=True
    )
    problems: list[str] = []
    try:
        page = desktop.new_page()
        page.goto("/")
        page.get_by_test_id("create-room-button").click()
        problems += _audit_overlay(page, page.get_by_test_id("room-name-input"), scheme, "the new-room form")
        page.goto(f"/rooms/{busy_room}")
        page.get_by_test_id("profile-button").click()
        problems += _audit_overlay(page, page.get_by_test_id("display-name-input"), scheme, "the profile dialog")
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("display-name-input")).to_be_hidden()
        row = page.get_by_test_id("message").nth(1)
        row.hover()
        row.get_by_test_id("react-button").click()
        problems += _audit_overlay(page, page.get_by_test_id("reaction-picker"), scheme, "the reaction picker")

        page = phone.new_page()
        page.goto(f"/rooms/{busy_room}")
        page.get_by_test_id("message").nth(1).get_by_test_id("message-menu-button").tap()
        problems += _audit_overlay(page, page.get_by_test_id("message-menu"), scheme, "a message's menu on a phone")
    finally:
        desktop.close()
        phone.close()
    assert not problems, "\n".join(problems)


def _audit_overlay(page: Page, shown: Locator, scheme: str, what: str) -> list[str]:
    """Audit the open dialog itself: the page behind its backdrop is dimmed (and inert), so axe's
    contrast figures for it would describe the backdrop, not the page. The text of Quasar's buttons
    in a dialog is left out too: axe misplaces their z-index 0 content under the dialog's backdrop
    and reports white on grey (dequelabs/axe-core#3464, #4542) where the browser paints it on the
    button; the same buttons are audited on the pages themselves."""
    expect(shown).to_be_visible()
    settle(page, scheme)
    shoot(page, f"overlay-{re.sub(r'[^a-z]+', '-', what.lower()).strip('-')}-{scheme}")
    violations = audit(page, within={"include": [[".q-dialog"]], "exclude": [[".q-dialog .q-btn__content"]]})
    return [explain(violations, f"{what}, {scheme}")] if violations else []


def test_every_button_of_a_room_has_a_name(browser: Browser, chat: AppProcess, busy_room: str) -> None:
    """Icon-only buttons (send, attach, theme, leave, a row's commands, the lightbox's close) are
    announced by a name, not as "button"; axe's button-name rule, run on its own, checks them."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=chat.url)
    try:
        page = context.new_page()
        page.goto(f"/rooms/{busy_room}")
        expect(page.get_by_test_id("message").first).to_be_visible()
        results = Axe().run(page, options={"runOnly": ["button-name", "link-name", "image-alt", "label"]})
        violations = results.response["violations"]
        assert not violations, explain(violations, "the room's buttons, links, images and fields")
        passes = Axe().run(page, options={"runOnly": ["button-name"], "resultTypes": ["passes"]}).response["passes"]
        assert passes and len(passes[0]["nodes"]) >= 5, "the audit saw the page's buttons"
    finally:
        context.close()


FOCUSED = """() => { const e = document.activeElement, s = getComputedStyle(e);
    const seen = window.chatTestSeen = window.chatTestSeen || new Map();
    if (!seen.has(e)) seen.set(e, seen.size);
    const name = (e.getAttribute('aria-label') || e.textContent).trim().slice(0, 40);
    return {what: `${e.tagName}.${[...e.classList].join('.')} ${name}`, body: e === document.body, id: seen.get(e),
            field: e.classList.contains('q-field__native'), visible: e.matches(':focus-visible'),
            ring: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`}; }"""


@pytest.mark.parametrize("scheme", SCHEMES)
def test_keyboard_focus_is_visible(browser: Browser, chat: AppProcess, busy_room: str, scheme: str) -> None:
    """Tabbing through a room, every button and link it reaches (the header's, the rows' commands,
    reaction chips, quotes, the composer's) shows a 2 px ring in the palette's focus colour; Quasar's
    text fields show their own focus instead."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=chat.url, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto(f"/rooms/{busy_room}")
        expect(page.get_by_test_id("reaction").first).to_be_visible()
        settle(page, scheme)
        focus = page.evaluate(
            "() => { const d = document.createElement('div'); d.style.color = 'var(--chat-focus)';"
            " document.body.append(d); const v = getComputedStyle(d).color; d.remove(); return v; }"
        )
        ring = f"solid 2px {focus}"
        reached, wrong, seen = [], [], set()
        for _ in range(300):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUSED)
            if focused["body"]:
                continue  # between the page's last stop and its first
            if focused["id"] in seen:
                break  # round the page once
            seen.add(focused["id"])
            reached.append(focused["what"])
            if not focused["field"] and (not focused["visible"] or focused["ring"] != ring):
                wrong.append(focused)
            if focused["what"].startswith("BUTTON.chat-reaction") and scheme == "dark":
                shoot(page, "focus-reaction-dark")
        assert not wrong, f"focus not shown as {ring} on: {wrong}"
        assert any(".chat-action" in what for what in reached), f"a row's commands are reachable: {reached}"
        assert any(".chat-reaction" in what for what in reached), f"reaction chips are reachable: {reached}"
        assert any("q-field__native" in what for what in reached), f"the composer is reachable: {reached}"
    finally:
        context.close()
