"""A search result's text (chat_ui/search_marks.py): the words marked as the search matches them,
the text escaped, an excerpt around the first match; and the rooms of a page of results named in one
query (services/room_names.py, services/search.search_named), on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlmodel import Session

from chat_ui.search_marks import EXCERPT_CHARS, excerpt_html, marked_words, match_spans, when
from services import guests, messages, rooms
from services.room_names import RoomLabel, room_labels
from services.search import search_named


def test_every_word_is_marked_ignoring_case_and_the_last_as_a_prefix() -> None:
    html = excerpt_html("Adas ENGINE weaves; the engineers watch the engine", "engine adas")
    assert html == "<mark>Adas</mark> <mark>ENGINE</mark> weaves; the engineers watch the <mark>engine</mark>"
    assert excerpt_html("the engineers watch", "the eng") == "<mark>the</mark> <mark>eng</mark>ineers watch"


def test_words_are_the_searchs_own_and_accents_do_not_matter() -> None:
    assert marked_words("café, CAFE!  snake_case") == ["cafe", "snake", "case"]
    assert excerpt_html("Un Café au lait", "cafe") == "Un <mark>Café</mark> au lait"
    assert excerpt_html("my_var here", "var") == "my_<mark>var</mark> here"  # "_" separates words


def test_a_word_found_only_inside_a_longer_one_is_marked_there() -> None:
    assert match_spans("the seahorse", ["horse"]) == [(7, 12)]


def test_the_text_is_escaped_and_its_markdown_read_as_words() -> None:
    html = excerpt_html("**Bold** <script>alert('x')</script> & `code`", "bold")
    assert html == "<mark>Bold</mark> &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; code"
    assert excerpt_html("<b>x</b>", "b") == "&lt;<mark>b</mark>&gt;x&lt;/<mark>b</mark>&gt;"


def test_a_long_text_is_cut_around_its_first_match_between_words() -> None:
    text = " ".join(f"word{n}" for n in range(200)) + " needle " + " ".join(f"tail{n}" for n in range(200))
    html = excerpt_html(text, "needle")
    assert html.startswith("…word") and html.endswith("…")
    assert "<mark>needle</mark>" in html
    plain = html.replace("<mark>", "").replace("</mark>", "").strip("…")
    assert len(plain) <= EXCERPT_CHARS
    assert all(part.startswith(("word", "needle", "tail")) for part in plain.split())  # no word cut in two
    assert excerpt_html("short", "nothing") == "short"


def test_times_are_short_and_in_the_readers_zone() -> None:
    zone = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    assert when(datetime(2026, 6, 10, 9, 5, tzinfo=UTC), zone, now) == "11:05"
    assert when(datetime(2026, 3, 4, 9, 5, tzinfo=UTC), zone, now) == "Mar 4, 10:05"
    assert when(datetime(2025, 12, 31, 23, 30, tzinfo=UTC), zone, now) == "Jan 1, 00:30"  # Berlin's new year
    assert when(datetime(2025, 5, 1, 9, 0, tzinfo=UTC), zone, now) == "May 1, 2025"


# Room names, on both databases


def _guest(session: Session, name: str) -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def test_the_rooms_of_a_page_of_results_are_named_in_one_query(session: Session) -> None:
    ada = _guest(session, "Ada")
    lobby = rooms.create_room(session=session, owner_id=ada, name="Lobby").slug
    hideout = rooms.create_room(session=session, owner_id=ada, name="Hideout", is_private=True)
    session.commit()
    for slug, text in ((lobby, "kestrel one"), (hideout.slug, "kestrel two"), (lobby, "kestrel three")):
        messages.send_message(session=session, room_slug=slug, author_id=ada, text=text)
    session.commit()
    statements: list[str] = []
    engine = session.get_bind()
    listen = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        labels = room_labels(session=session, slugs=[lobby, hideout.slug, lobby, "gone"])
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 1
    assert labels == {
        lobby: RoomLabel(slug=lobby, name="Lobby", is_private=False),
        hideout.slug: RoomLabel(slug=hideout.slug, name="Hideout", is_private=True),
    }
    assert room_labels(session=session, slugs=[]) == {}
    named = search_named(session=session, query="kestrel", reader_id=ada)
    assert [m.text for m in named.page.results] == ["kestrel three", "kestrel two", "kestrel one"]
    assert set(named.rooms) == {lobby, hideout.slug}
    stranger = _guest(session, "Bo")
    assert set(search_named(session=session, query="kestrel", reader_id=stranger).rooms) == {lobby}
