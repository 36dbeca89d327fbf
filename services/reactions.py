"""Reactions: one emoji on a message, once per guest and emoji (CONTRACT §6).

Reacting is writing: refused like posting (a ban, a locked room, a removal), and a deleted or
unknown message is NotFound. Each change is one transaction; run it with `Database.run`, which
publishes the message's `message.updated` once it has committed. Reacting twice, or taking back a
reaction that is not there, changes nothing and announces nothing.

Emoji are listed in the order of their first use, and stay in place while anyone still uses them:
a reaction joining an emoji that is there takes the `created_at` of that emoji's first use, and
lists sort by it (then by id, which orders the guests). The first guest taking theirs back then
does not move the emoji behind the ones used after it.
"""

from datetime import datetime

import emoji as emoji_data
from sqlalchemy import delete, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.base import utcnow
from models.message import EMOJI_MAX, MessagePublic, Reaction
from services.errors import Conflict, InvalidInput
from services.messages import NO_LIMIT, announce_update, check_may_post, get_message, live_message
from services.rate_limit import RateLimiter

# What the picker offers first; any other single emoji is welcome too.
COMMON_REACTIONS: tuple[str, ...] = ("👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀")
# Different emoji on one message (Discord's limit too): enough for any conversation, and a bound
# on what one guest can pile under a message and every viewer then renders.
EMOJI_PER_MESSAGE_MAX = 20


def validate_emoji(raw: str) -> str:
    """The emoji in its fully qualified form (❤ becomes ❤️, so both count as one reaction), or
    InvalidInput unless `raw` is exactly one emoji: a ZWJ sequence (👨‍👩‍👧), a flag (🇫🇷, 🏴󠁧󠁢󠁳󠁣󠁴󠁿), a
    keycap (1️⃣) and a skin tone (👍🏽) each count as one."""
    text = raw.strip()
    if not text or len(text) > EMOJI_MAX or "\x00" in text:
        raise InvalidInput("the reaction must be one emoji")
    # Checked as given first: the round trip through names would turn ":thumbs_up:" into 👍.
    canonical = emoji_data.emojize(emoji_data.demojize(text)) if emoji_data.is_emoji(text) else ""
    if not emoji_data.is_emoji(canonical):
        raise InvalidInput(f"the reaction must be one emoji, not {text!r}")
    return canonical


def add_reaction(
    *, session: Session, room_slug: str, message_id: int, guest_id: int, emoji: str, limiter: RateLimiter = NO_LIMIT
) -> MessagePublic:
    """The guest reacts with `emoji`: the message with its reactions. Twice counts once."""
    emoji = validate_emoji(emoji)
    room, _ = check_may_post(session=session, room_slug=room_slug, author_id=guest_id)
    message = live_message(session, room=room, message_id=message_id)
    if _has_reaction(session, message_id=message_id, guest_id=guest_id, emoji=emoji):
        return get_message(session=session, room_slug=room_slug, message_id=message_id)
    limiter.hit(f"guest:{guest_id}")  # every change reaches every view of the room
    first_used = _first_use(session, message_id=message_id, emoji=emoji)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(Reaction)
        .values(message_id=message.id, guest_id=guest_id, emoji=emoji, created_at=first_used)
        .on_conflict_do_nothing()  # the same reaction from another tab a moment ago: it counts once
    )
    if not inserted.rowcount:  # type: ignore[attr-defined]
        return get_message(session=session, room_slug=room_slug, message_id=message_id)
    return announce_update(session, room_slug=room_slug, message_id=message_id)


def remove_reaction(
    *, session: Session, room_slug: str, message_id: int, guest_id: int, emoji: str, limiter: RateLimiter = NO_LIMIT
) -> MessagePublic:
    """The guest takes back their reaction with `emoji`: the message without it."""
    emoji = validate_emoji(emoji)
    room, _ = check_may_post(session=session, room_slug=room_slug, author_id=guest_id)
    live_message(session, room=room, message_id=message_id)
    if not _has_reaction(session, message_id=message_id, guest_id=guest_id, emoji=emoji):
        return get_message(session=session, room_slug=room_slug, message_id=message_id)
    limiter.hit(f"guest:{guest_id}")
    deleted = session.execute(
        delete(Reaction).where(
            col(Reaction.message_id) == message_id, col(Reaction.guest_id) == guest_id, col(Reaction.emoji) == emoji
        )
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        return get_message(session=session, room_slug=room_slug, message_id=message_id)
    return announce_update(session, room_slug=room_slug, message_id=message_id)


def _has_reaction(session: Session, *, message_id: int, guest_id: int, emoji: str) -> bool:
    found = session.exec(
        select(Reaction.id).where(
            Reaction.message_id == message_id, Reaction.guest_id == guest_id, Reaction.emoji == emoji
        )
    ).first()
    return found is not None


def _first_use(session: Session, *, message_id: int, emoji: str) -> datetime:
    """When `emoji` was first used on the message (now, if it is new there); Conflict when it
    would be one emoji too many under it."""
    used = dict(
        session.exec(
            select(Reaction.emoji, func.min(Reaction.created_at))
            .where(Reaction.message_id == message_id)
            .group_by(Reaction.emoji)
        ).all()
    )
    if emoji in used:
        return used[emoji]  # type: ignore[no-any-return]
    if len(used) >= EMOJI_PER_MESSAGE_MAX:
        raise Conflict(f"a message holds at most {EMOJI_PER_MESSAGE_MAX} different reactions: add to one of them")
    return utcnow()
