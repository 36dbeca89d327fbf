"""Conversation services (CONTRACT §6) on SQLite and on PostgreSQL: replies, edits, reactions,
mentions, and the fields every message carries in history. (Over HTTP: test_conversation_api.py.)"""

from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from models.guest import GuestPublic
from models.message import REPLY_QUOTE_MAX, MessagePublic
from models.room import Membership
from services import guests, mentions, messages, moderation, reactions, rooms
from services.audit import ADMIN
from services.bus import EventBus
from services.database import Database
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.events import decode, room_channel


def make_guest(session: Session, name: str) -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def make_room(session: Session, owner_id: int, name: str = "Lobby") -> str:
    slug = rooms.create_room(session=session, owner_id=owner_id, name=name).slug
    session.commit()
    return slug


def send(session: Session, slug: str, author_id: int, text: str, reply_to: int | None = None) -> MessagePublic:
    sent = messages.send_message(session=session, room_slug=slug, author_id=author_id, text=text, reply_to=reply_to)
    session.commit()
    return sent


def join(session: Session, slug: str, guest_id: int) -> None:
    rooms.join_room(session=session, slug=slug, guest_id=guest_id)
    session.commit()


def history(session: Session, slug: str) -> list[MessagePublic]:
    return messages.page_messages(session=session, room_slug=slug).messages


def react(session: Session, slug: str, message_id: int, guest_id: int, emoji: str) -> MessagePublic:
    result = reactions.add_reaction(
        session=session, room_slug=slug, message_id=message_id, guest_id=guest_id, emoji=emoji
    )
    session.commit()
    return result


def unreact(session: Session, slug: str, message_id: int, guest_id: int, emoji: str) -> MessagePublic:
    result = reactions.remove_reaction(
        session=session, room_slug=slug, message_id=message_id, guest_id=guest_id, emoji=emoji
    )
    session.commit()
    return result


def edit(session: Session, slug: str, message_id: int, editor_id: int, text: str) -> MessagePublic:
    result = messages.edit_message(
        session=session, room_slug=slug, message_id=message_id, editor_id=editor_id, text=text
    )
    session.commit()
    return result


# Mentions: the pure rule


def people(*names: str) -> list[GuestPublic]:
    return [GuestPublic(id=index, display_name=name) for index, name in enumerate(names, start=1)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi @Ada", [1]),
        ("hi @ada and @ADA LOVELACE", [1, 2]),  # ignoring case
        ("@Ada Lovelace, look", [2]),  # the longest name that fits wins
        ("@Ada Lovelaces", [1]),  # "Ada Lovelace" runs on into a letter: only Ada fits
        ("@Adams", []),  # a name that runs on into a letter does not fit
        ("@Ada's point, @Bo!", [1, 3]),
        ("ada, Bo, no at sign", []),
        ("mail ada@example.org", []),
        ("@Guest 4821 and @Guest 48210", [4]),
        ("@", []),
        ("@@Bo", [3]),
    ],
)
def test_find_mentions_follows_the_longest_name_ignoring_case(text: str, expected: list[int]) -> None:
    members = people("Ada", "Ada Lovelace", "Bo", "Guest 4821")
    assert mentions.find_mentions(text, members) == expected


def test_members_with_the_same_name_are_all_mentioned() -> None:
    members = [GuestPublic(id=7, display_name="Sam"), GuestPublic(id=9, display_name="sam")]
    assert mentions.find_mentions("thanks @Sam", members) == [7, 9]


# Mentions: stored, members only, recomputed on edit


def test_a_message_mentions_only_members_of_its_room(session: Session) -> None:
    ada, bo, cy = make_guest(session, "Ada"), make_guest(session, "Bo"), make_guest(session, "Cy")
    slug = make_room(session, ada)
    join(session, slug, bo)  # Cy never joins
    sent = send(session, slug, ada, "@bo and @Cy, see this")
    assert sent.mentions == (bo,)
    assert history(session, slug)[0].mentions == (bo,)
    assert [m.display_name for m in mentions.room_members(session=session, room_slug=slug)] == ["Ada", "Bo"]
    assert cy not in [m.id for m in mentions.room_members(session=session, room_slug=slug)]


def test_room_members_are_sorted_by_name_ignoring_case(session: Session) -> None:
    owner = make_guest(session, "zed")
    slug = make_room(session, owner)
    for name in ("bo", "Ada", "Cy"):
        join(session, slug, make_guest(session, name))
    assert [m.display_name for m in mentions.room_members(session=session, room_slug=slug)] == [
        "Ada",
        "bo",
        "Cy",
        "zed",
    ]
    with pytest.raises(NotFound):
        mentions.room_members(session=session, room_slug="nowhere")


def test_an_edit_finds_the_mentions_again(session: Session) -> None:
    ada, bo, cy = make_guest(session, "Ada"), make_guest(session, "Bo"), make_guest(session, "Cy")
    slug = make_room(session, ada)
    join(session, slug, bo)
    join(session, slug, cy)
    sent = send(session, slug, ada, "hi @Bo")
    edited = edit(session, slug, sent.id, ada, "hi @Cy and @cy")
    assert edited.mentions == (cy,)
    assert history(session, slug)[0].mentions == (cy,)


# Replies


def test_a_reply_quotes_the_first_200_characters_of_its_original(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    original = send(session, slug, ada, "x" * 150 + "y" * 150)
    reply = send(session, slug, bo, "agreed", reply_to=original.id)
    assert reply.reply_to is not None
    assert reply.reply_to.id == original.id and reply.reply_to.author.display_name == "Ada"
    assert reply.reply_to.text == ("x" * 150 + "y" * 150)[:REPLY_QUOTE_MAX] and not reply.reply_to.deleted
    assert reply.reply_to.kind == "text"
    assert history(session, slug)[-1] == reply  # the page shows what the sender got


def test_a_reply_must_answer_a_live_message_of_the_same_room(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug, other = make_room(session, ada), make_room(session, ada, "Elsewhere")
    elsewhere = send(session, other, ada, "over there")
    gone = send(session, slug, ada, "soon deleted")
    moderation.delete_message(session=session, message_id=gone.id, by=ada)
    session.commit()
    for reply_to in (elsewhere.id, gone.id, 999_999):
        with pytest.raises(InvalidInput, match="reply_to"):
            messages.send_message(session=session, room_slug=slug, author_id=ada, text="hm", reply_to=reply_to)
        session.rollback()
    assert [m.text for m in history(session, slug)] == []


def test_a_deleted_original_shows_as_deleted_in_its_replies(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    original = send(session, slug, bo, "a secret")
    reply = send(session, slug, ada, "why?", reply_to=original.id)
    moderation.delete_message(session=session, message_id=original.id, by=ADMIN)
    session.commit()
    quote = messages.get_message(session=session, room_slug=slug, message_id=reply.id).reply_to
    assert quote is not None and quote.deleted and quote.text == "" and quote.id == original.id


# Edits


def test_the_author_edits_a_message_and_it_says_when(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    sent = send(session, slug, ada, "helo")
    assert sent.edited_at is None
    edited = edit(session, slug, sent.id, ada, "  hello  ")
    assert edited.text == "hello" and edited.edited_at is not None and edited.edited_at >= sent.created_at
    assert history(session, slug) == [edited]


def test_only_the_author_edits_and_only_live_messages(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)  # Ada owns the room, and still cannot edit Bo's words
    sent = send(session, slug, bo, "mine")
    with pytest.raises(Forbidden):
        messages.edit_message(session=session, room_slug=slug, message_id=sent.id, editor_id=ada, text="yours")
    session.rollback()
    moderation.delete_message(session=session, message_id=sent.id, by=bo)
    session.commit()
    for message_id in (sent.id, 999_999):
        with pytest.raises(NotFound):
            messages.edit_message(session=session, room_slug=slug, message_id=message_id, editor_id=bo, text="x")
        session.rollback()


@pytest.mark.parametrize("text", ["", "   ", "x" * 4001, "nul\x00"])
def test_an_edit_follows_the_text_rules_of_posting(session: Session, text: str) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    sent = send(session, slug, ada, "fine")
    with pytest.raises(InvalidInput):
        messages.edit_message(session=session, room_slug=slug, message_id=sent.id, editor_id=ada, text=text)
    session.rollback()
    assert history(session, slug)[0].text == "fine"


def test_edits_are_refused_like_posts_to_banned_removed_and_locked(session: Session) -> None:
    owner, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, owner)
    sent = send(session, slug, bo, "hi")
    moderation.remove_guest_from_room(session=session, slug=slug, guest_id=bo, by=owner)
    session.commit()
    with pytest.raises(Forbidden, match="removed"):
        messages.edit_message(session=session, room_slug=slug, message_id=sent.id, editor_id=bo, text="x")
    session.rollback()
    own = send(session, slug, owner, "mine")
    moderation.lock_room(session=session, slug=slug, by=owner)
    session.commit()
    with pytest.raises(Forbidden, match="locked"):
        messages.edit_message(session=session, room_slug=slug, message_id=own.id, editor_id=owner, text="x")
    session.rollback()
    moderation.unlock_room(session=session, slug=slug, by=owner)
    moderation.ban_guest(session=session, guest_id=owner, by=ADMIN)
    session.commit()
    with pytest.raises(Forbidden, match="banned"):
        messages.edit_message(session=session, room_slug=slug, message_id=own.id, editor_id=owner, text="x")


# Reactions


def test_reactions_count_each_guest_once_in_order_of_first_use(session: Session) -> None:
    ada, bo, cy = make_guest(session, "Ada"), make_guest(session, "Bo"), make_guest(session, "Cy")
    slug = make_room(session, ada)
    sent = send(session, slug, ada, "party")
    react(session, slug, sent.id, bo, "🎉")
    react(session, slug, sent.id, ada, "👍")
    react(session, slug, sent.id, cy, "🎉")
    result = react(session, slug, sent.id, bo, "🎉")  # twice counts once
    summary = [(r.emoji, r.count, r.guest_ids) for r in result.reactions]
    assert summary == [("🎉", 2, (bo, cy)), ("👍", 1, (ada,))]
    assert history(session, slug)[0].reactions == result.reactions


def test_a_reaction_is_taken_back_and_an_emoji_nobody_uses_goes(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    sent = send(session, slug, ada, "hmm")
    react(session, slug, sent.id, ada, "👀")
    react(session, slug, sent.id, bo, "👀")
    react(session, slug, sent.id, bo, "❤️")
    after = unreact(session, slug, sent.id, bo, "👀")
    assert [(r.emoji, r.guest_ids) for r in after.reactions] == [("👀", (ada,)), ("❤️", (bo,))]
    after = unreact(session, slug, sent.id, bo, "❤")  # the unqualified heart is the same reaction
    assert [(r.emoji, r.guest_ids) for r in after.reactions] == [("👀", (ada,))]
    assert unreact(session, slug, sent.id, bo, "❤️").reactions == after.reactions  # nothing to take back: fine


def test_an_emoji_keeps_its_place_while_anyone_still_uses_it(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    sent = send(session, slug, ada, "news")
    react(session, slug, sent.id, bo, "🎉")
    react(session, slug, sent.id, ada, "👍")
    react(session, slug, sent.id, ada, "🎉")
    after = unreact(session, slug, sent.id, bo, "🎉")  # the first to use 🎉 takes theirs back
    assert [(r.emoji, r.guest_ids) for r in after.reactions] == [("🎉", (ada,)), ("👍", (ada,))]
    unreact(session, slug, sent.id, ada, "🎉")
    again = react(session, slug, sent.id, bo, "🎉")  # gone, then used again: it is new
    assert [r.emoji for r in again.reactions] == ["👍", "🎉"]
    assert history(session, slug)[0].reactions == again.reactions


@pytest.mark.parametrize("emoji", ["👍", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "1️⃣", "#️⃣", " 🎉 "])
def test_one_emoji_of_any_kind_is_a_reaction(emoji: str) -> None:
    assert reactions.validate_emoji(emoji) == emoji.strip()


@pytest.mark.parametrize("raw", ["", "a", "👍👍", "👍a", ":thumbs_up:", "\u200d", "🇫", "#", "x" * 100, "\x00"])
def test_anything_but_one_emoji_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        reactions.validate_emoji(raw)


def test_the_picker_offers_emoji_that_are_valid_reactions() -> None:
    assert len(reactions.COMMON_REACTIONS) >= 6
    assert all(reactions.validate_emoji(e) == e for e in reactions.COMMON_REACTIONS)


def test_reactions_need_a_live_message_and_a_guest_who_may_write(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    other = make_room(session, ada, "Other")
    sent = send(session, slug, ada, "hi")
    with pytest.raises(NotFound):  # a message of another room
        reactions.add_reaction(session=session, room_slug=other, message_id=sent.id, guest_id=bo, emoji="👍")
    session.rollback()
    moderation.ban_guest(session=session, guest_id=bo, by=ADMIN)
    session.commit()
    with pytest.raises(Forbidden, match="banned"):
        reactions.add_reaction(session=session, room_slug=slug, message_id=sent.id, guest_id=bo, emoji="👍")
    session.rollback()
    moderation.delete_message(session=session, message_id=sent.id, by=ada)
    session.commit()
    for action in (reactions.add_reaction, reactions.remove_reaction):
        with pytest.raises(NotFound):
            action(session=session, room_slug=slug, message_id=sent.id, guest_id=ada, emoji="👍")
        session.rollback()


def test_a_message_holds_at_most_twenty_different_emoji(session: Session) -> None:
    ada = make_guest(session, "Ada")
    slug = make_room(session, ada)
    sent = send(session, slug, ada, "pile on")
    emoji = [
        "😀",
        "😁",
        "😂",
        "🤣",
        "😃",
        "😄",
        "😅",
        "😆",
        "😉",
        "😊",
        "😋",
        "😎",
        "😍",
        "😘",
        "🥰",
        "😗",
        "😙",
        "🥲",
        "😚",
        "🙂",
    ]
    for each in emoji:
        react(session, slug, sent.id, ada, each)
    with pytest.raises(Conflict):
        reactions.add_reaction(session=session, room_slug=slug, message_id=sent.id, guest_id=ada, emoji="🤗")
    session.rollback()
    bo = make_guest(session, "Bo")
    assert react(session, slug, sent.id, bo, "😀").reactions[0].count == 2  # joining one that is there is fine


# Sending moves the author's read position


def test_the_authors_own_message_is_read_for_them(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    join(session, slug, bo)
    send(session, slug, ada, "one")
    mine = send(session, slug, bo, "two")
    positions = dict(session.exec(select(Membership.guest_id, Membership.last_read_id)).all())
    assert positions[bo] == mine.id
    assert positions[ada] < mine.id


# History: the fields, and a fixed number of queries per page


def test_a_page_carries_every_conversation_field(session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    join(session, slug, bo)
    first = send(session, slug, ada, "hello @bo")
    reply = send(session, slug, bo, "hi", reply_to=first.id)
    react(session, slug, first.id, bo, "👋")
    edit(session, slug, reply.id, bo, "hi there")
    page = history(session, slug)
    assert page[0].mentions == (bo,) and [r.emoji for r in page[0].reactions] == ["👋"]
    assert page[1].reply_to is not None and page[1].reply_to.text == "hello @bo"
    assert page[1].edited_at is not None and page[1].text == "hi there"
    assert page == [messages.get_message(session=session, room_slug=slug, message_id=m.id) for m in page]


def test_a_page_costs_the_same_few_queries_however_many_messages_it_holds(db: Database, session: Session) -> None:
    ada, bo = make_guest(session, "Ada"), make_guest(session, "Bo")
    slug = make_room(session, ada)
    join(session, slug, bo)

    def queries_for_page() -> int:
        statements: list[Any] = []

        def count(*_: Any) -> None:
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            db.read(messages.page_messages, room_slug=slug)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    previous = None
    for index in range(40):
        sent = send(session, slug, ada if index % 2 else bo, f"@Ada @Bo {index}", reply_to=previous)
        react(session, slug, sent.id, ada, "👍")
        previous = sent.id
    assert queries_for_page() <= 3  # the page with its quotes, its reactions, its mentions


# Events


async def test_edits_and_reactions_reach_subscribers_as_message_updated(db: Database, bus: EventBus) -> None:
    ada = (await db.run(guests.create_guest, display_name="Ada")).id
    slug = (await db.run(rooms.create_room, owner_id=ada, name="Lobby")).slug
    sent = await db.run(messages.send_message, room_slug=slug, author_id=ada, text="helo")
    async with bus.subscribe(room_channel(slug)) as subscription:
        edited = await db.run(messages.edit_message, room_slug=slug, message_id=sent.id, editor_id=ada, text="hello")
        reacted = await db.run(reactions.add_reaction, room_slug=slug, message_id=sent.id, guest_id=ada, emoji="👍")
        await db.run(reactions.add_reaction, room_slug=slug, message_id=sent.id, guest_id=ada, emoji="👍")  # no change
        taken_back = await db.run(
            reactions.remove_reaction, room_slug=slug, message_id=sent.id, guest_id=ada, emoji="👍"
        )
        received = [decode(await subscription.get(timeout=2)) for _ in range(3)]
        with pytest.raises(TimeoutError):  # reacting twice changed nothing, and said nothing
            await subscription.get(timeout=0.3)
    assert [event.type for event in received] == ["message.updated"] * 3
    assert [event.message for event in received] == [edited, reacted, taken_back]  # type: ignore[union-attr]
