"""Invitations (CONTRACT §7): the services on SQLite and PostgreSQL, then the routes over HTTP against
the real app (SQLite with the in-process bus, PostgreSQL with Redis). Making, accepting (valid,
twice, by many, expired, revoked, unknown, banned, removed), listing and revoking links.
(In Chromium: test_browser_invites.py.)"""

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from chat_ui.room.invite_dialog import expiry_words
from models.base import utcnow
from models.guest import Guest
from models.invite import INVITE_LIFETIME, Invite, InvitePublic
from models.room import Membership
from services import access, guests, invites, moderation, rooms
from services.audit import audit_log
from services.bus import EventBus
from services.database import Database
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.events import decode, room_channel
from tests.support import AppProcess, unique

SITE = "http://chat.test"


def make_guest(session: Session, name: str) -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def make_room(session: Session, owner_id: int, *, private: bool = True) -> str:
    slug = rooms.create_room(session=session, owner_id=owner_id, name=unique("Room"), is_private=private).slug
    session.commit()
    return slug


def invite(session: Session, slug: str, by: int) -> InvitePublic:
    made = invites.create_invite(session=session, slug=slug, by=by, site=SITE)
    session.commit()
    return made


def accept(session: Session, code: str, guest_id: int) -> Any:
    accepted = invites.accept_invite(session=session, code=code, guest_id=guest_id)
    session.commit()
    return accepted


def revoke(session: Session, slug: str, code: str, by: int) -> None:
    invites.revoke_invite(session=session, slug=slug, code=code, by=by)
    session.commit()


def is_member(session: Session, slug: str, guest_id: int) -> bool:
    room = rooms.room_by_slug(session, slug)
    return session.get(Membership, (room.id, guest_id)) is not None


def expire(session: Session, code: str) -> None:
    row = session.exec(select(Invite).where(Invite.code == code)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()


def missing_room_words(session: Session) -> str:
    with pytest.raises(NotFound) as missing:
        access.readable_room(session, "no-such-room", None)
    return missing.value.detail.replace("no-such-room", "{slug}")


# Making a link


def test_a_member_makes_a_link_valid_for_seven_days(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    before = utcnow()
    made = invite(session, slug, ada)
    assert made.url == f"{SITE}/invite/{made.code}"
    assert len(made.code) >= 20 and made.code.replace("-", "").replace("_", "").isalnum()
    assert before + INVITE_LIFETIME <= made.expires_at <= utcnow() + INVITE_LIFETIME
    assert made.expires_at.tzinfo is not None
    assert invite(session, slug, ada).code != made.code  # each call a fresh, unguessable code


def test_any_member_may_invite_to_a_private_or_a_public_room(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    private, public = make_room(session, ada), make_room(session, ada, private=False)
    accept(session, invite(session, private, ada).code, bo)
    rooms.join_room(session=session, slug=public, guest_id=bo)
    session.commit()
    assert invite(session, private, bo).code
    assert invite(session, public, bo).code


def test_a_private_room_is_missing_to_a_stranger_who_would_invite(session: Session) -> None:
    ada, eve = make_guest(session, "Ada"), make_guest(session, "Eve")
    slug = make_room(session, ada)
    with pytest.raises(NotFound) as refused:
        invite(session, slug, eve)
    assert refused.value.detail == missing_room_words(session).format(slug=slug)


def test_a_public_room_asks_a_stranger_to_join_before_inviting(session: Session) -> None:
    ada, eve = make_guest(session, "Ada"), make_guest(session, "Eve")
    slug = make_room(session, ada, private=False)
    with pytest.raises(Forbidden, match="join the room to invite people"):
        invite(session, slug, eve)


def test_a_banned_member_cannot_make_links(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    ban(session, ada)
    with pytest.raises(Forbidden, match="banned"):
        invite(session, slug, ada)


def test_one_guest_holds_a_bounded_number_of_live_links(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invites, "LIVE_INVITES_PER_CREATOR", 2)
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    first, _ = invite(session, slug, ada), invite(session, slug, ada)
    with pytest.raises(Conflict, match="revoke one"):
        invite(session, slug, ada)
    session.rollback()
    revoke(session, slug, first.code, ada)  # a revoked link no longer counts
    assert invite(session, slug, ada).code


def current(session: Session, slug: str, by: int) -> InvitePublic:
    shown = invites.current_invite(session=session, slug=slug, by=by, site=SITE)
    session.commit()
    return shown


def live_codes(session: Session, slug: str, owner: int) -> list[str]:
    return [item.code for item in invites.list_invites(session=session, slug=slug, by=owner, site=SITE)]


def test_the_dialog_shows_the_same_link_again_instead_of_making_one_per_page_view(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    first = current(session, slug, ada)
    assert first.url == f"{SITE}/invite/{first.code}"
    for _ in range(5):  # five page loads, five openings of the dialog
        assert current(session, slug, ada) == first
    assert live_codes(session, slug, ada) == [first.code]
    accept(session, first.code, bo)
    assert current(session, slug, bo).code != first.code  # each member's own link
    made = invite(session, slug, ada)  # New link
    assert current(session, slug, ada).code == made.code  # the newest is shown from then on


def test_the_dialog_makes_a_new_link_when_the_last_is_revoked_or_has_less_than_a_day_left(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    first = current(session, slug, ada)
    revoke(session, slug, first.code, ada)
    second = current(session, slug, ada)
    assert second.code != first.code
    row = session.exec(select(Invite).where(Invite.code == second.code)).one()
    row.expires_at = utcnow() + invites.REUSED_FOR - timedelta(minutes=1)  # still live, but not for a day
    session.add(row)
    session.commit()
    third = current(session, slug, ada)
    assert third.code not in (first.code, second.code)
    assert third.expires_at > utcnow() + INVITE_LIFETIME - timedelta(minutes=1)
    assert live_codes(session, slug, ada) == [third.code, second.code]


def test_the_dialog_link_is_refused_to_whoever_may_not_invite(session: Session) -> None:
    ada, eve = make_guest(session, "Ada"), make_guest(session, "Eve")
    private, public = make_room(session, ada), make_room(session, ada, private=False)
    with pytest.raises(NotFound):
        current(session, private, eve)
    session.rollback()
    with pytest.raises(Forbidden, match="join the room to invite people"):
        current(session, public, eve)


# Accepting


def test_accepting_joins_the_room(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    accepted = accept(session, invite(session, slug, ada).code, bo)
    assert accepted.joined and accepted.room.slug == slug and accepted.room.member_count == 2
    assert is_member(session, slug, bo)
    assert access.readable_room(session, slug, bo).slug == slug  # the private room is theirs to read now


def test_accepting_twice_is_fine(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    code = invite(session, slug, ada).code
    accept(session, code, bo)
    again = accept(session, code, bo)
    assert not again.joined and again.room.member_count == 2


def test_one_link_serves_many_guests(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    code = invite(session, slug, ada).code
    others = [make_guest(session, f"Guest {n}") for n in range(5)]
    for guest_id in others:
        accept(session, code, guest_id)
    assert all(is_member(session, slug, guest_id) for guest_id in others)
    assert rooms.get_room(session=session, slug=slug).member_count == 6


def test_expired_revoked_and_unknown_codes_look_alike(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    expired, revoked = invite(session, slug, ada).code, invite(session, slug, ada).code
    expire(session, expired)
    revoke(session, slug, revoked, ada)
    for code in (expired, revoked, "x" * 22, "not a code!", "nul\x00", "y" * 500):
        with pytest.raises(NotFound) as refused:
            accept(session, code, bo)
        assert refused.value.detail == invites.UNUSABLE
        session.rollback()
    assert not is_member(session, slug, bo)


def test_a_banned_guest_cannot_accept(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    code = invite(session, slug, ada).code
    ban(session, bo)
    with pytest.raises(Forbidden, match="banned"):
        accept(session, code, bo)
    assert not is_member(session, slug, bo)


def test_a_guest_removed_by_a_moderator_cannot_come_back_by_a_link(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    code = invite(session, slug, ada).code
    accept(session, code, bo)
    moderation.remove_guest_from_room(session=session, slug=slug, guest_id=bo, by=ada)
    session.commit()
    with pytest.raises(Forbidden, match="removed"):
        accept(session, code, bo)
    assert not is_member(session, slug, bo)


def test_the_read_only_visitor_cannot_accept(session: Session) -> None:
    ada = make_guest(session, "Ada")
    code = invite(session, make_room(session, ada), ada).code
    with pytest.raises(Forbidden, match="no guest identity"):
        accept(session, code, 0)  # chat_ui.identity.READ_ONLY_VISITOR


async def test_joining_announces_the_new_member_count(db: Database, bus: EventBus) -> None:
    ada = (await db.run(guests.create_guest, display_name="Ada")).id
    bo = (await db.run(guests.create_guest, display_name="Bo")).id
    slug = (await db.run(rooms.create_room, owner_id=ada, name="Lobby")).slug
    code = (await db.run(invites.create_invite, slug=slug, by=ada, site=SITE)).code
    async with bus.subscribe(room_channel(slug)) as subscription:
        await db.run(invites.accept_invite, code=code, guest_id=bo)
        event = decode(await subscription.get(timeout=2))
        await db.run(invites.accept_invite, code=code, guest_id=bo)  # a member already: nothing changed
        with pytest.raises(TimeoutError):
            await subscription.get(timeout=0.3)
    assert event.type == "room.updated" and event.room.member_count == 2  # type: ignore[union-attr]


# Listing and revoking


def test_the_owner_lists_the_live_links_newest_first_with_their_makers(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    oldest = invite(session, slug, ada)
    accept(session, oldest.code, bo)
    by_bo, expired, revoked, newest = (invite(session, slug, who) for who in (bo, ada, ada, ada))
    expire(session, expired.code)
    revoke(session, slug, revoked.code, ada)
    listed = invites.list_invites(session=session, slug=slug, by=ada, site=SITE)
    assert [item.code for item in listed] == [newest.code, by_bo.code, oldest.code]
    assert [item.created_by.display_name if item.created_by else None for item in listed] == ["Ada", "Bo", "Ada"]
    assert listed[0].url == newest.url and listed[0].expires_at == newest.expires_at


def test_the_owners_list_pages_by_code(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    made = [invite(session, slug, ada).code for _ in range(5)][::-1]
    first = invites.list_invites(session=session, slug=slug, by=ada, site=SITE, limit=2)
    second = invites.list_invites(session=session, slug=slug, by=ada, site=SITE, limit=2, before=first[-1].code)
    rest = invites.list_invites(session=session, slug=slug, by=ada, site=SITE, limit=2, before=second[-1].code)
    assert [item.code for item in first + second + rest] == made
    with pytest.raises(InvalidInput):
        invites.list_invites(session=session, slug=slug, by=ada, site=SITE, limit=0)
    with pytest.raises(InvalidInput):
        invites.list_invites(session=session, slug=slug, by=ada, site=SITE, before="unknown")


def test_only_the_owner_lists_links(session: Session) -> None:
    ada, bo, eve = make_guest(session, "Ada"), make_guest(session, "Bo"), make_guest(session, "Eve")
    slug = make_room(session, ada)
    accept(session, invite(session, slug, ada).code, bo)
    with pytest.raises(Forbidden):
        invites.list_invites(session=session, slug=slug, by=bo, site=SITE)
    with pytest.raises(NotFound):  # a private room is missing to a stranger
        invites.list_invites(session=session, slug=slug, by=eve, site=SITE)


def test_the_owner_and_the_maker_revoke_and_others_may_not(session: Session) -> None:
    ada, bo, cy = make_guest(session, "Ada"), make_guest(session, "Bo"), make_guest(session, "Cy")
    slug = make_room(session, ada)
    code = invite(session, slug, ada).code
    accept(session, code, bo)
    accept(session, code, cy)
    bos, bos_other = invite(session, slug, bo).code, invite(session, slug, bo).code
    with pytest.raises(Forbidden):
        revoke(session, slug, bos, cy)  # a member, but neither owner nor maker
    session.rollback()
    with pytest.raises(Forbidden):
        revoke(session, slug, code, bo)  # the owner's link
    session.rollback()
    revoke(session, slug, bos, bo)  # the maker
    revoke(session, slug, bos_other, ada)  # the owner
    revoke(session, slug, bos_other, ada)  # twice is fine
    listed = [item.code for item in invites.list_invites(session=session, slug=slug, by=ada, site=SITE)]
    assert listed == [code]
    assert [entry.action for entry in audit_log(session=session)].count("invite.revoke") == 2
    with pytest.raises(NotFound):
        revoke(session, slug, "x" * 22, ada)


def test_a_link_is_revoked_only_in_its_own_room(session: Session) -> None:
    ada = make_guest(session, "Ada")
    first, second = make_room(session, ada), make_room(session, ada)
    code = invite(session, first, ada).code
    with pytest.raises(NotFound):
        revoke(session, second, code, ada)


# Where links point


def test_links_start_with_the_public_url_or_the_address_the_request_came_to() -> None:
    proxy = [ipaddress.ip_network("10.0.0.0/8")]
    over_tls = {"x-forwarded-proto": "https"}
    plain = {"base_url": "http://chat.example.org/", "headers": over_tls, "trusted": proxy}
    assert invites.site_address(**plain, peer="10.0.0.5", public_url=None) == "https://chat.example.org"
    assert invites.site_address(**plain, peer="192.0.2.9", public_url=None) == "http://chat.example.org"
    assert (
        invites.site_address(**plain, peer="192.0.2.9", public_url="https://chat.example.com/")
        == "https://chat.example.com"
    )


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (INVITE_LIFETIME - timedelta(seconds=2), "Expires in 7 days, on 10 Dec"),
        (timedelta(days=1, hours=3), "Expires in 1 day, on 4 Dec"),
        (timedelta(hours=5, minutes=20), "Expires in 5 hours, on 3 Dec"),
        (timedelta(minutes=1, seconds=10), "Expires in 1 minute, on 3 Dec"),
        (timedelta(seconds=5), "Expires in 1 minute, on 3 Dec"),
        (timedelta(seconds=-1), "Expired"),
    ],
)
def test_the_dialog_says_when_a_link_expires_in_words(left: timedelta, words: str) -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert expiry_words(now + left, now=now, zone=ZoneInfo("Europe/Berlin")) == words


def test_the_day_a_link_expires_is_the_readers_own() -> None:
    now = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)  # 7 days on is 10 Dec in London, 11 Dec in Tokyo
    assert expiry_words(now + INVITE_LIFETIME, now=now, zone=ZoneInfo("Asia/Tokyo")).endswith("on 11 Dec")
    assert expiry_words(now + INVITE_LIFETIME, now=now, zone=ZoneInfo("Europe/London")).endswith("on 10 Dec")


# Over HTTP, against the real app


def new_guest(api: httpx.Client, name: str = "Ada") -> tuple[dict[str, str], int]:
    response = api.post("/api/v1/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}, response.json()["id"]


@pytest.fixture
def app_sql(app_server: AppProcess) -> Iterator[Any]:
    """Runs SQL on the app's own database: for what no route may do (a link in the past, a ban
    without the admin token this app has not got)."""
    url = (
        app_server.settings.get("CHAT_DATABASE_URL")
        or f"sqlite:///{Path(app_server.settings['CHAT_DATA_DIR'])}/chat.db"
    )
    engine = create_engine(url)

    def run(statement: str, **params: Any) -> None:
        with engine.begin() as connection:
            connection.execute(text(statement), params)

    yield run
    engine.dispose()


def private_room(api: httpx.Client, auth: dict[str, str]) -> str:
    response = api.post("/api/v1/rooms", json={"name": unique("Room"), "is_private": True}, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["is_private"] is True
    return response.json()["slug"]  # type: ignore[no-any-return]


def public_room(api: httpx.Client, auth: dict[str, str]) -> str:
    response = api.post("/api/v1/rooms", json={"name": unique("Room")}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["slug"]  # type: ignore[no-any-return]


def create(api: httpx.Client, slug: str, auth: dict[str, str]) -> dict[str, Any]:
    response = api.post(f"/api/v1/rooms/{slug}/invites", headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_error(response: httpx.Response, status: int, *words: str) -> str:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str), body
    for word in words:
        assert word in body["detail"], body["detail"]
    return body["detail"]  # type: ignore[no-any-return]


def accept_url(code: str) -> str:
    return f"/api/v1/invites/{code}/accept"


def test_http_a_member_makes_a_link_to_the_page_that_joins(api: httpx.Client) -> None:
    ada, _ = new_guest(api)
    slug = private_room(api, ada)
    made = create(api, slug, ada)
    assert set(made) == {"code", "url", "expires_at"}
    assert made["url"] == f"{api.base_url}/invite/{made['code']}"
    expires = datetime.fromisoformat(made["expires_at"])
    assert abs(expires - (datetime.now(UTC) + INVITE_LIFETIME)) < timedelta(minutes=1)
    page = api.get(made["url"])
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_http_who_may_make_a_link(api: httpx.Client) -> None:
    ada, _ = new_guest(api)
    eve, _ = new_guest(api, "Eve")
    private, public = private_room(api, ada), public_room(api, ada)
    missing = assert_error(api.post("/api/v1/rooms/no-such-room-here/invites", headers=eve), 404)
    hidden = assert_error(api.post(f"/api/v1/rooms/{private}/invites", headers=eve), 404)
    assert hidden == missing.replace("no-such-room-here", private)  # the same answer as no room at all
    assert_error(api.post(f"/api/v1/rooms/{public}/invites", headers=eve), 403, "join the room to invite people")
    assert_error(api.post(f"/api/v1/rooms/{public}/invites"), 401)
    assert_error(api.post(f"/api/v1/rooms/{public}/invites", headers={"Authorization": "Bearer nobody"}), 401)
    assert_error(api.post(f"/api/v1/rooms/{private}/invites"), 404)  # anonymous: the private room is missing
    assert api.post(f"/api/v1/rooms/{public}/join", headers=eve).status_code == 200
    create(api, public, eve)  # a member of a public room now


def test_http_accepting_joins_and_may_be_repeated_by_many(api: httpx.Client) -> None:
    ada, _ = new_guest(api)
    slug = private_room(api, ada)
    code = create(api, slug, ada)["code"]
    bo, _ = new_guest(api, "Bo")
    assert_error(api.get(f"/api/v1/rooms/{slug}/messages", headers=bo), 404)  # hidden until Bo joins
    joined = api.post(accept_url(code), headers=bo)
    assert joined.status_code == 200, joined.text
    room = joined.json()
    assert room["slug"] == slug and room["is_private"] is True and room["member_count"] == 2
    assert "owner_id" not in room  # the contract's room shape, nothing more
    again = api.post(accept_url(code), headers=bo)
    assert again.status_code == 200 and again.json()["member_count"] == 2
    for name in ("Cy", "Di", "Ed"):
        auth, _ = new_guest(api, name)
        assert api.post(accept_url(code), headers=auth).status_code == 200
    assert api.get(f"/api/v1/rooms/{slug}", headers=ada).json()["member_count"] == 5
    assert api.get(f"/api/v1/rooms/{slug}/messages", headers=bo).status_code == 200  # Bo reads it now
    assert_error(api.post(accept_url(code)), 401)


def test_http_expired_revoked_and_unknown_codes_answer_the_same_404(api: httpx.Client, app_sql: Any) -> None:
    ada, _ = new_guest(api)
    bo, _ = new_guest(api, "Bo")
    slug = private_room(api, ada)
    expired, revoked = create(api, slug, ada)["code"], create(api, slug, ada)["code"]
    app_sql("UPDATE invite SET expires_at = :past WHERE code = :code", past=utcnow() - timedelta(days=1), code=expired)
    assert api.delete(f"/api/v1/rooms/{slug}/invites/{revoked}", headers=ada).status_code == 204
    details = {assert_error(api.post(accept_url(code), headers=bo), 404) for code in (expired, revoked, "x" * 22)}
    assert details == {invites.UNUSABLE}
    for malformed in ("not%20a%20code", "x" * 65, "%00"):
        assert_error(api.post(accept_url(malformed), headers=bo), 404)
    assert api.get(f"/api/v1/rooms/{slug}", headers=ada).json()["member_count"] == 1


def test_http_banned_and_removed_guests_cannot_join_by_a_link(api: httpx.Client, app_sql: Any) -> None:
    ada, _ = new_guest(api)
    slug = private_room(api, ada)
    code = create(api, slug, ada)["code"]
    banned, banned_id = new_guest(api, "Mallory")
    app_sql("UPDATE guest SET banned_at = :now WHERE id = :id", now=utcnow(), id=banned_id)
    assert_error(api.post(accept_url(code), headers=banned), 403, "banned")
    removed, removed_id = new_guest(api, "Bo")
    assert api.post(accept_url(code), headers=removed).status_code == 200
    assert api.delete(f"/api/v1/rooms/{slug}/members/{removed_id}", headers=ada).status_code == 200
    assert_error(api.post(accept_url(code), headers=removed), 403, "removed")
    assert api.get(f"/api/v1/rooms/{slug}", headers=ada).json()["member_count"] == 1


def test_http_the_owner_lists_and_revokes_and_the_maker_revokes(api: httpx.Client) -> None:
    ada, _ = new_guest(api)
    bo, _ = new_guest(api, "Bo")
    cy, _ = new_guest(api, "Cy")
    slug = private_room(api, ada)
    owners = create(api, slug, ada)
    for auth in (bo, cy):
        assert api.post(accept_url(owners["code"]), headers=auth).status_code == 200
    bos = create(api, slug, bo)
    listed = api.get(f"/api/v1/rooms/{slug}/invites", headers=ada)
    assert listed.status_code == 200, listed.text
    assert [item["code"] for item in listed.json()] == [bos["code"], owners["code"]]
    assert listed.json()[0]["created_by"]["display_name"] == "Bo" and listed.json()[0]["url"] == bos["url"]
    assert_error(api.get(f"/api/v1/rooms/{slug}/invites", headers=bo), 403)
    assert_error(api.delete(f"/api/v1/rooms/{slug}/invites/{owners['code']}", headers=bo), 403)
    assert_error(api.delete(f"/api/v1/rooms/{slug}/invites/{bos['code']}", headers=cy), 403)
    assert api.delete(f"/api/v1/rooms/{slug}/invites/{bos['code']}", headers=bo).status_code == 204
    assert api.delete(f"/api/v1/rooms/{slug}/invites/{owners['code']}", headers=ada).status_code == 204
    assert api.delete(f"/api/v1/rooms/{slug}/invites/{owners['code']}", headers=ada).status_code == 204
    assert api.get(f"/api/v1/rooms/{slug}/invites", headers=ada).json() == []
    assert_error(api.delete(f"/api/v1/rooms/{slug}/invites/{'x' * 22}", headers=ada), 404)
    assert_error(api.get(f"/api/v1/rooms/{slug}/invites?limit=0", headers=ada), 422)
    assert_error(api.get(f"/api/v1/rooms/{slug}/invites"), 404)  # anonymous: missing, as to anyone else
    eve, _ = new_guest(api, "Eve")
    assert_error(api.get(f"/api/v1/rooms/{slug}/invites", headers=eve), 404)  # private: missing to a stranger


def ban(session: Session, guest_id: int) -> None:
    guest = session.get(Guest, guest_id)
    assert guest is not None
    guest.banned_at = utcnow()
    session.add(guest)
    session.commit()
