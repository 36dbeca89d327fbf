"""Rooms named for a list of messages: search results carry only their room's slug (CONTRACT §3),
and a page of results shows each room's name, and a lock for a private one (services.search's
search_named fetches both in one trip).

One query per page of results, whatever its length: never one per result."""

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from models.room import Room


class RoomLabel(BaseModel):
    """What a result shows of its room."""

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    is_private: bool


def room_labels(*, session: Session, slugs: Iterable[str]) -> dict[str, RoomLabel]:
    """The rooms of these slugs, by slug; a slug of no room (deleted meanwhile) is left out."""
    wanted = sorted(set(slugs))
    if not wanted:
        return {}
    rows = session.exec(select(Room.slug, Room.name, Room.is_private).where(col(Room.slug).in_(wanted))).all()
    return {slug: RoomLabel(slug=slug, name=name, is_private=is_private) for slug, name, is_private in rows}
