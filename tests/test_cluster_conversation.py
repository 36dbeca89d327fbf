"""Conversation features crossing instances (#14, CONTRACT §6): two app processes on one
PostgreSQL database and a Redis of the module's own (tests/cluster_support.py), a real Chromium
page on each. An edit, a reaction, typing and presence made on one instance reach the views on
the other within a second, as a new message does; a closed page leaves presence within 10 s.
"""

import re
from urllib.parse import quote

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.cluster_support import Cluster
from tests.pages import Api, PageOpener, open_room, send
from tests.support import AppProcess, wait_until

WITHIN_A_SECOND = 1_000  # ms: CONTRACT §6, every change reaches every open view within one second
PRESENCE_GONE = 10  # s: CONTRACT §6, a closed page leaves the presence list within 10 s
TYPING_GONE = 8_000  # ms: the indicator drops a typist about 5 s after their last signal

pytest_plugins = ("tests.cluster_support",)  # the cluster, on_one/on_two and api_one/api_two fixtures


def by_id(page: Page, message_id: int) -> Locator:
    return page.locator(f'[data-testid=message][data-message-id="{message_id}"]')


def by_text(page: Page, text: str) -> Locator:
    return page.get_by_test_id("message").filter(has=page.get_by_test_id("message-text").filter(has_text=text))


def row_button(message: Locator, testid: str) -> Locator:
    message.hover()  # a row's buttons show on hover
    return message.get_by_test_id(testid)


def chip(message: Locator, emoji: str) -> Locator:
    return message.locator(f'[data-testid=reaction][data-emoji="{emoji}"]')


def visitor_name(page: Page) -> str:
    return page.get_by_test_id("current-user-name").inner_text()


def present(instance: AppProcess, slug: str) -> set[str]:
    response = httpx.get(f"{instance.url}/api/v1/rooms/{slug}/presence", timeout=5)
    assert response.status_code == 200, response.text
    return {guest["display_name"] for guest in response.json()["online"]}


def test_an_api_edit_on_one_instance_shows_edited_on_the_other(on_two: PageOpener, api_one: Api) -> None:
    slug = api_one.room()
    message_id = api_one.say(slug, "the meeting is at 3")
    page = open_room(on_two, slug)
    expect(by_id(page, message_id).get_by_test_id("message-text")).to_have_text("the meeting is at 3")
    expect(by_id(page, message_id).get_by_test_id("message-edited")).to_have_count(0)

    response = api_one.client.patch(
        f"/api/v1/rooms/{slug}/messages/{message_id}", json={"text": "the meeting is at **4**"}, headers=api_one.auth
    )
    assert response.status_code == 200 and response.json()["edited_at"] is not None, response.text

    row = by_id(page, message_id)
    expect(row.get_by_test_id("message-edited")).to_have_text("(edited)", timeout=WITHIN_A_SECOND)
    expect(row.get_by_test_id("message-text")).to_have_text("the meeting is at 4")
    expect(row.locator("strong")).to_have_text("4")  # the edit is Markdown like any text
    expect(page.get_by_test_id("message")).to_have_count(1)  # changed in place, not added


def test_an_edit_in_a_page_on_one_instance_shows_in_a_page_on_the_other(
    on_one: PageOpener, on_two: PageOpener, api_one: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    alice, bob = open_room(on_one, slug), open_room(on_two, slug)
    send(alice, "Lunch at the usual plcae?")
    expect(by_text(bob, "Lunch at the usual plcae?")).to_be_visible(timeout=WITHIN_A_SECOND)

    row_button(by_text(alice, "plcae"), "edit-message-button").click()
    editing = alice.get_by_test_id("edit-input")
    expect(editing).to_have_value("Lunch at the usual plcae?")
    editing.fill("Lunch at the usual place?")
    editing.press("Enter")

    row = by_text(bob, "Lunch at the usual place?")
    expect(row.get_by_test_id("message-edited")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(by_text(bob, "plcae")).to_have_count(0)
    # And the API of the other instance agrees.
    latest = httpx.get(f"{cluster.two.url}/api/v1/rooms/{slug}/messages", timeout=5).json()["messages"][-1]
    assert latest["text"] == "Lunch at the usual place?" and latest["edited_at"] is not None


def test_a_reaction_toggled_on_one_instance_shows_on_the_other_and_back(
    on_one: PageOpener, on_two: PageOpener, api_one: Api
) -> None:
    slug = api_one.room()
    message_id = api_one.say(slug, "Ship it on Friday?")
    alice, bob = open_room(on_one, slug), open_room(on_two, slug)

    row_button(by_id(alice, message_id), "react-button").click()
    alice.get_by_test_id("reaction-picker").locator('[data-emoji="👍"]').click()
    expect(chip(by_id(bob, message_id), "👍")).to_have_text(re.compile(r"\b1\b"), timeout=WITHIN_A_SECOND)

    chip(by_id(bob, message_id), "👍").click()  # Bob agrees: two
    expect(chip(by_id(alice, message_id), "👍")).to_have_text(re.compile(r"\b2\b"), timeout=WITHIN_A_SECOND)

    chip(by_id(alice, message_id), "👍").click()  # Alice takes hers back
    expect(chip(by_id(bob, message_id), "👍")).to_have_text(re.compile(r"\b1\b"), timeout=WITHIN_A_SECOND)
    chip(by_id(bob, message_id), "👍").click()  # and Bob his: the chip goes everywhere
    expect(by_id(alice, message_id).get_by_test_id("reaction")).to_have_count(0, timeout=WITHIN_A_SECOND)
    expect(by_id(bob, message_id).get_by_test_id("reaction")).to_have_count(0, timeout=WITHIN_A_SECOND)


def test_a_reaction_made_through_one_instances_api_shows_on_the_other(on_two: PageOpener, api_one: Api) -> None:
    slug = api_one.room()
    message_id = api_one.say(slug, "Cake in the kitchen")
    page = open_room(on_two, slug)
    url = f"/api/v1/rooms/{slug}/messages/{message_id}/reactions/{quote('🎉')}"
    assert api_one.client.put(url, headers=api_one.auth).status_code == 200
    expect(chip(by_id(page, message_id), "🎉")).to_have_text(re.compile(r"\b1\b"), timeout=WITHIN_A_SECOND)
    assert api_one.client.delete(url, headers=api_one.auth).status_code == 200
    expect(by_id(page, message_id).get_by_test_id("reaction")).to_have_count(0, timeout=WITHIN_A_SECOND)


def test_typing_on_one_instance_shows_on_the_other_and_goes(
    on_one: PageOpener, on_two: PageOpener, api_one: Api
) -> None:
    slug = api_one.room()
    alice, bob = open_room(on_one, slug), open_room(on_two, slug)
    name = visitor_name(alice)
    indicator = bob.get_by_test_id("typing-indicator")
    expect(indicator).not_to_contain_text("typing")

    field = alice.get_by_test_id("message-input")
    field.type("I think we sh")
    expect(indicator).to_have_text(f"{name} is typing…", timeout=WITHIN_A_SECOND)
    # She stops: it goes by itself, about 5 s after her last signal.
    expect(indicator).not_to_contain_text("typing", timeout=TYPING_GONE)

    field.type("ould go")  # typing again, well past the throttle
    expect(indicator).to_have_text(f"{name} is typing…", timeout=WITHIN_A_SECOND)
    field.press("Enter")
    expect(by_text(bob, "I think we should go")).to_be_visible(timeout=WITHIN_A_SECOND)
    expect(indicator).not_to_contain_text("typing", timeout=WITHIN_A_SECOND)  # gone with her message


def test_typing_through_one_instances_api_shows_in_a_page_on_the_other(on_two: PageOpener, api_one: Api) -> None:
    slug = api_one.room()
    page = open_room(on_two, slug)
    assert api_one.client.post(f"/api/v1/rooms/{slug}/typing", headers=api_one.auth).status_code == 204
    expect(page.get_by_test_id("typing-indicator")).to_have_text("Script on one is typing…", timeout=WITHIN_A_SECOND)


def test_a_page_on_one_instance_is_present_on_both_until_it_closes(
    on_one: PageOpener, on_two: PageOpener, api_one: Api, cluster: Cluster
) -> None:
    slug = api_one.room()
    alice = open_room(on_one, slug)
    alice_name = visitor_name(alice)
    count = alice.get_by_test_id("presence-count")
    expect(count).to_have_text("1 online")

    bob = open_room(on_two, slug)
    bob_name = visitor_name(bob)
    expect(count).to_have_text("2 online", timeout=WITHIN_A_SECOND)
    count.click()
    listed = alice.get_by_test_id("presence-list")
    expect(listed.get_by_test_id("presence-item").filter(has_text=bob_name)).to_be_visible()
    expect(listed.get_by_test_id("presence-item").filter(has_text=alice_name)).to_be_visible()
    expect(bob.get_by_test_id("presence-count")).to_have_text("2 online")
    assert present(cluster.one, slug) == present(cluster.two, slug) == {alice_name, bob_name}

    bob.close()
    expect(listed.get_by_test_id("presence-item").filter(has_text=bob_name)).to_have_count(
        0, timeout=PRESENCE_GONE * 1000
    )
    expect(count).to_have_text("1 online")
    for instance in (cluster.one, cluster.two):
        wait_until(
            lambda instance=instance: present(instance, slug) == {alice_name},
            timeout=PRESENCE_GONE,
            message=f"a page closed on instance two leaves GET /presence on {instance.url} within 10 s",
        )
