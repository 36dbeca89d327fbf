"""Typing: "Ada is typing…" in the room's other views, announced at most once per ~2 s per guest.

Ephemeral (ARCHITECTURE, "As the product grows"): nothing is stored. A typing.started event tells
views to show the guest for TYPING_SHOWN_SECONDS; a page re-announces while its guest keeps
typing, and the view's timer (or their message arriving) ends it. Like Zulip, a burst of
keystrokes is not a burst of events: the throttle here drops repeats within THROTTLE_SECONDS, so
a fast typist costs one event (to every viewer) per interval whatever their client sends. The
checks come first, so a guest banned, removed or locked out a moment ago hears 403 at once.
"""

import threading
import time

from sqlmodel import Session

from models.guest import GuestPublic
from services.database import send_event_on_commit
from services.events import TYPING_SHOWN_SECONDS, TypingStarted
from services.messages import check_may_post

THROTTLE_SECONDS = 2.0  # well under TYPING_SHOWN_SECONDS: a steady typist never flickers off
assert THROTTLE_SECONDS < TYPING_SHOWN_SECONDS


class TypingThrottle:
    """When each (guest, room) last announced, per process. Announcements come from the worker
    threads that run transactions, hence the lock."""

    def __init__(self, seconds: float = THROTTLE_SECONDS) -> None:
        self.seconds = seconds
        self._last: dict[tuple[int, str], float] = {}
        self._lock = threading.Lock()

    def due(self, guest_id: int, room_slug: str) -> bool:
        """Whether this guest's typing here is to be announced (and then it is counted as such):
        not when they were announced within the interval. One lock: two requests at once, one event."""
        with self._lock:
            now = time.monotonic()
            key = (guest_id, room_slug)
            if now - self._last.get(key, -self.seconds) < self.seconds:
                return False
            if len(self._last) > 10_000:  # forget old entries rather than grow without end
                self._last = {k: at for k, at in self._last.items() if now - at < self.seconds}
            self._last[key] = now
            return True


_throttle = TypingThrottle()


def announce_typing(*, session: Session, room_slug: str, guest_id: int, throttle: TypingThrottle = _throttle) -> None:
    """The guest is typing in the room: its views hear typing.started once the (read-only)
    transaction commits. Refused like a message would be: unknown room 404; locked room, ban or
    removal 403. A repeat within the throttle's interval passes the checks and announces nothing."""
    room, author = check_may_post(session=session, room_slug=room_slug, author_id=guest_id)
    assert author is not None and author.id is not None
    if not throttle.due(guest_id, room_slug):
        return
    guest = GuestPublic(id=author.id, display_name=author.display_name)
    send_event_on_commit(session, TypingStarted(room=room.slug, guest=guest))
