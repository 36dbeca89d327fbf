"""Column types and helpers shared by every table."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# The largest id: every id is an INTEGER column, 32-bit on PostgreSQL (SQLite's hold 64 bits). A
# larger one names nothing, and PostgreSQL refuses it in a query ("integer out of range": a 500),
# so the API, the services and the pages bound ids with this one limit before any lookup.
ID_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


class TrimmedInput(BaseModel):
    """A request body whose strings are trimmed before their lengths are checked, as the services'
    text rule (services.text) does: the lengths in the schema are then the lengths that hold."""

    model_config = ConfigDict(str_strip_whitespace=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as an aware UTC datetime.

    SQLite has no time zones and hands back naive datetimes; re-attaching UTC here
    means no service or API answer can ever leak a time without an offset.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite stores the text as given; dropping the offset keeps its values sortable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
