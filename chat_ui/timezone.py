"""The reader's time zone, asked of the browser once per page: message times, search results and
invite expiries are shown in it."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nicegui import ui


async def browser_timezone() -> ZoneInfo:
    """Times are shown in the reader's own zone; UTC if the browser does not say."""
    try:
        # One of the few allowed scripts (tests/test_house_rules.py): the server cannot know the zone.
        name = await ui.run_javascript("return Intl.DateTimeFormat().resolvedOptions().timeZone", timeout=3)
        return ZoneInfo(str(name))
    except (TimeoutError, ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
