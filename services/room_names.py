"""Rooms named for a list of messages: search results carry only their room's slug (CONTRACT §3),
and a page of results shows each room's name, and a lock for a private one.

One query per page of results, whatever its length: never one per result."""

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from models.room import Room
from models.search import SEARCH_LIMIT_DEFAULT, SearchPage
from services.search import search_messages


class RoomLabel(BaseModel):
    """What a result shows of its room."""

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    is_private: bool


class NamedSearchPage(BaseModel):
    page: SearchPage
    rooms: dict[str, RoomLabel]  # by slug: every room the page's results are in


def room_labels(*, session: Session, slugs: Iterable[str]) -> dict[str, RoomLabel]:
    """The rooms of these slugs, by slug; a slug of no room (deleted meanwhile) is left out."""
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    rows = session.exec(select(Room.slug, Room.name, Room.is_private).where(col(Room.slug).in_(wanted))).all()
    return {slug: RoomLabel(slug=slug, name=name, is_private=is_private) for slug, name, is_private in rows}


def search_named(
    *,
    session: Session,
    query: str,
    reader_id: int | None,
    room_slug: str | None = None,
    limit: int = SEARCH_LIMIT_DEFAULT,
    before: int | None = None,
) -> NamedSearchPage:
    """`services.search.search_messages` and the names of the rooms its results are in, in one
    session: one trip to a worker thread for the page that shows them."""
    page = search_messages(
        session=session, query=query, reader_id=reader_id, room_slug=room_slug, limit=limit, before=before
    )
    return NamedSearchPage(page=page, rooms=room_labels(session=session, slugs=(m.room for m in page.results)))
