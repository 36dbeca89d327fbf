"""Search (CONTRACT §7) on SQLite (FTS5) and PostgreSQL (tsvector + GIN): what is found, in which
order, page by page, in which rooms, for whom; and what is never found (deleted messages, old
words of edited ones, private rooms to others). Then migration 0007 on its own, and the route
over HTTP against the real app on both backends. (Timing: benchmarks/search.py.)"""

import io
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from PIL import Image
from sqlalchemy import event, inspect, text
from sqlmodel import Session

from api.params import ID_MAX
from models.message import MessagePublic
from models.search import SEARCH_INDEX_TABLE, SEARCH_LIMIT_MAX, SEARCH_QUERY_MAX, SEARCH_VECTOR_COLUMN, SearchPage
from services import guests, invites, messages, moderation, reactions, rooms
from services.audit import ADMIN
from services.bus import make_bus
from services.database import Database, alembic_config
from services.errors import InvalidInput, NotFound
from services.media import LocalMediaStore
from services.search import query_words, search_messages
from tests.support import create_postgres_database, drop_postgres_database, unique

API = "/api/v1"


def make_guest(session: Session, name: str) -> int:
    guest = guests.create_guest(session=session, display_name=name)
    session.commit()
    return guest.id


def make_room(session: Session, owner_id: int, name: str = "Lobby", *, private: bool = False) -> str:
    slug = rooms.create_room(session=session, owner_id=owner_id, name=name, is_private=private).slug
    session.commit()
    return slug


def send(session: Session, slug: str, author_id: int, text: str, reply_to: int | None = None) -> MessagePublic:
    sent = messages.send_message(session=session, room_slug=slug, author_id=author_id, text=text, reply_to=reply_to)
    session.commit()
    return sent


def invite_in(session: Session, slug: str, owner_id: int, guest_id: int) -> None:
    code = invites.create_invite(session=session, slug=slug, by=owner_id, site="http://chat.test").code
    invites.accept_invite(session=session, code=code, guest_id=guest_id)
    session.commit()


def find(session: Session, query: str, reader_id: int | None = None, **options: Any) -> list[str]:
    """The texts found, in the order given."""
    page = search_messages(session=session, query=query, reader_id=reader_id, **options)
    return [message.text for message in page.results]


@pytest.fixture
def ada(session: Session) -> int:
    return make_guest(session, "Ada")


@pytest.fixture
def lobby(session: Session, ada: int) -> str:
    return make_room(session, ada)


# What is found


def test_every_word_must_match_in_any_order(session: Session, ada: int, lobby: str) -> None:
    for words in ("apple banana", "apple cherry", "banana cherry", "apple banana cherry"):
        send(session, lobby, ada, words)
    assert find(session, "apple banana") == ["apple banana cherry", "apple banana"]
    assert find(session, "banana apple") == ["apple banana cherry", "apple banana"]
    assert find(session, "cherry apple banana") == ["apple banana cherry"]
    assert find(session, "apple durian") == []


def test_case_is_ignored_both_ways(session: Session, ada: int, lobby: str) -> None:
    send(session, lobby, ada, "Deploy the RELEASE on Friday")
    assert find(session, "deploy release friday") == ["Deploy the RELEASE on Friday"]
    assert find(session, "DEPLOY Release FRIDAY") == ["Deploy the RELEASE on Friday"]
    send(session, lobby, ada, "Ωμέγα ΣΟΦΙΑ")  # not only ASCII
    assert find(session, "σοφια ΩΜΈΓΑ") == ["Ωμέγα ΣΟΦΙΑ"]


def test_diacritics_are_ignored_where_the_engine_folds_them(
    db: Database, session: Session, ada: int, lobby: str
) -> None:
    send(session, lobby, ada, "Un café crème à Orléans")
    assert find(session, "CAFÉ crème") == ["Un café crème à Orléans"], "the word as written is always found"
    folded = find(session, "cafe creme orleans")
    if db.dialect == "sqlite":
        assert folded == ["Un café crème à Orléans"], "FTS5's unicode61 removes diacritics"
    else:
        assert folded == [], "PostgreSQL's 'simple' configuration keeps them (unaccent is an extension)"
    decomposed = unicodedata.normalize("NFD", "café")
    assert find(session, decomposed) == ["Un café crème à Orléans"], "a decomposed é typed is the same letter"


def test_the_last_word_is_a_prefix_and_only_the_last(session: Session, ada: int, lobby: str) -> None:
    send(session, lobby, ada, "searching the archive")
    assert find(session, "sear") == ["searching the archive"]
    assert find(session, "the arch") == ["searching the archive"]
    assert find(session, "sear archive") == [], "a word before the last must be whole"
    assert find(session, "searching archiv") == ["searching the archive"]
    assert find(session, "archives") == [], "a prefix is shorter than the word, not longer"


def test_text_without_spaces_is_one_word_per_run_as_the_readme_says(session: Session, ada: int, lobby: str) -> None:
    """A limit, documented under "Search" in the README: no engine here segments CJK text."""
    send(session, lobby, ada, "明日は東京都に行く")
    assert find(session, "明日") == ["明日は東京都に行く"], "the start of the run, as the last word"
    assert find(session, "東京") == [], "a word inside the run is not found"
    assert find(session, "明日 行く") == [], "nor is a word before the last that is only part of a run"


def test_punctuation_inside_text_separates_words(session: Session, ada: int, lobby: str) -> None:
    send(session, lobby, ada, "mail ada@example.org or see example.com/docs, node.js and snake_case; x<y then z>w")
    expected = [find(session, "mail")[0]]
    for query in ("example", "org", "docs", "node js", "snake case", "y then z", "ada example org"):
        assert find(session, query) == expected, query


def test_results_are_newest_first_and_whole_messages_as_history_shows_them(
    session: Session, ada: int, lobby: str
) -> None:
    bo = make_guest(session, "Bo")
    first = send(session, lobby, ada, "the plan is ready")
    reply = send(session, lobby, bo, "the plan looks good @Ada", reply_to=first.id)
    reactions.add_reaction(session=session, room_slug=lobby, message_id=reply.id, guest_id=ada, emoji="👍")
    session.commit()
    other = make_room(session, bo, "Elsewhere")
    last = send(session, other, bo, "another plan")

    page = search_messages(session=session, query="plan", reader_id=None)
    assert [message.id for message in page.results] == [last.id, reply.id, first.id]
    assert page.has_more is False
    history = {message.id: message for message in messages.page_messages(session=session, room_slug=lobby).messages}
    assert page.results[1] == history[reply.id]
    found = page.results[1]
    assert found.room == lobby and page.results[0].room == other
    assert found.reply_to is not None and found.reply_to.text == "the plan is ready"
    assert [(r.emoji, r.guest_ids) for r in found.reactions] == [("👍", (ada,))]
    assert found.mentions == (ada,) and found.author.display_name == "Bo"


def test_pages_walk_every_match_once_with_before_and_has_more(session: Session, ada: int, lobby: str) -> None:
    matching = []
    for index in range(23):
        matching.append(send(session, lobby, ada, f"report number {index}").id)
        send(session, lobby, ada, f"noise {index}")
    walked: list[int] = []
    pages: list[SearchPage] = []
    before = None
    while True:
        page = search_messages(session=session, query="report", reader_id=None, limit=10, before=before)
        pages.append(page)
        walked += [message.id for message in page.results]
        if not page.has_more:
            break
        before = page.results[-1].id
    assert [len(page.results) for page in pages] == [10, 10, 3]
    assert walked == sorted(matching, reverse=True), "every match once, newest first, no gap"
    assert search_messages(session=session, query="report", reader_id=None, limit=23).has_more is False
    assert search_messages(session=session, query="report", reader_id=None, limit=22).has_more is True
    assert find(session, "report", before=matching[0]) == []


def test_room_narrows_the_search(session: Session, ada: int, lobby: str) -> None:
    other = make_room(session, ada, "Other")
    send(session, lobby, ada, "lunch at noon")
    send(session, other, ada, "lunch at one")
    assert find(session, "lunch") == ["lunch at one", "lunch at noon"]
    assert find(session, "lunch", room_slug=lobby) == ["lunch at noon"]
    assert find(session, "lunch", room_slug=other) == ["lunch at one"]
    with pytest.raises(NotFound):
        find(session, "lunch", room_slug="no-such-room")


def test_a_private_room_is_searched_by_its_members_only(session: Session, ada: int, lobby: str) -> None:
    bo, cy = make_guest(session, "Bo"), make_guest(session, "Cy")
    secret = make_room(session, ada, "Secret", private=True)
    send(session, secret, ada, "the vault code is blue")
    send(session, lobby, ada, "the vault is closed")

    assert find(session, "vault") == ["the vault is closed"], "anonymous readers see public rooms only"
    assert find(session, "vault", bo) == ["the vault is closed"], "nor does a guest who is not a member"
    assert find(session, "vault", ada) == ["the vault is closed", "the vault code is blue"]
    with pytest.raises(NotFound) as missing:
        find(session, "vault", bo, room_slug="no-such-room")
    for reader in (bo, None):
        with pytest.raises(NotFound) as refused:
            find(session, "vault", reader, room_slug=secret)
        assert refused.value.detail == missing.value.detail.replace("no-such-room", secret), "the same words"

    invite_in(session, secret, ada, bo)
    assert find(session, "vault code", bo) == ["the vault code is blue"], "a member finds it"
    assert find(session, "vault", bo, room_slug=secret) == ["the vault code is blue"]
    rooms.leave_room(session=session, slug=secret, guest_id=bo)
    session.commit()
    assert find(session, "vault code", bo) == [], "no longer after leaving"
    assert find(session, "vault code", cy) == []


def test_deleted_messages_are_never_found_nor_counted(session: Session, ada: int, lobby: str) -> None:
    kept = send(session, lobby, ada, "minutes of monday")
    gone = [send(session, lobby, ada, f"minutes draft {index}").id for index in range(3)]
    for message_id in gone:
        moderation.delete_message(session=session, message_id=message_id, by=ADMIN)
    session.commit()
    page = search_messages(session=session, query="minutes", reader_id=None, limit=1)
    assert [message.id for message in page.results] == [kept.id] and page.has_more is False
    assert find(session, "draft") == []


def test_deleting_a_room_takes_its_messages_out_of_the_index(
    db: Database, session: Session, ada: int, tmp_path: Path
) -> None:
    doomed = make_room(session, ada, "Doomed")
    send(session, doomed, ada, "ephemeral words")
    moderation.delete_room(session=session, media=LocalMediaStore(tmp_path), slug=doomed, by=ADMIN)
    session.commit()
    assert find(session, "ephemeral") == []
    assert_index_consistent(db)


def test_an_edit_changes_what_finds_the_message(db: Database, session: Session, ada: int, lobby: str) -> None:
    sent = send(session, lobby, ada, "meet at the station")
    messages.edit_message(
        session=session, room_slug=lobby, message_id=sent.id, editor_id=ada, text="meet at the harbour"
    )
    session.commit()
    assert find(session, "station") == [], "the old words no longer"
    assert find(session, "harbour") == ["meet at the harbour"], "the new words do"
    assert find(session, "meet") == ["meet at the harbour"], "words kept by the edit still do, once"
    assert_index_consistent(db)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"quoted', True),
        ("quoted*", True),
        ("-minus", True),
        ("col:on", True),
        ("amp&ersand", True),
        ("pi|pe", True),
        ("bang!", True),
        ("(paren)", True),
        ("NEAR(quoted minus)", True),
        ("quoted AND minus", True),
        ("quoted OR nothing", False),  # OR is a word the message lacks, not an operator
        ("NOT quoted", True),
        ("quoted NOT", True),
        ("it's \\back^slash {brace} [bracket] ~tilde", False),
        ("'single' <-> 'quotes':*", False),
        ("quoted:* & !minus", True),
    ],
)
def test_engine_syntax_in_a_query_is_plain_words(
    session: Session, ada: int, lobby: str, query: str, expected: bool
) -> None:
    text_ = 'a "quoted" -minus col:on amp&ersand pi|pe bang! (paren) NEAR AND NOT'
    send(session, lobby, ada, text_)
    assert find(session, query) == ([text_] if expected else [])


@pytest.mark.parametrize("query", ["", "   ", "!!!", '"*"', "- : & | ( )", "\x00", "_", "👍🏽"])
def test_a_query_without_a_word_is_refused(session: Session, query: str) -> None:
    with pytest.raises(InvalidInput, match="word"):
        find(session, query)


def test_limits_and_query_length_are_bounded(session: Session, ada: int, lobby: str) -> None:
    send(session, lobby, ada, "bounded")
    for limit in (0, -1, SEARCH_LIMIT_MAX + 1):
        with pytest.raises(InvalidInput, match="limit"):
            find(session, "bounded", limit=limit)
    assert find(session, "bounded", limit=1) == find(session, "bounded", limit=SEARCH_LIMIT_MAX) == ["bounded"]
    with pytest.raises(InvalidInput, match=str(SEARCH_QUERY_MAX)):
        find(session, "b" * (SEARCH_QUERY_MAX + 1))
    assert find(session, ("bounded " * 40)[:SEARCH_QUERY_MAX]) == ["bounded"], "many words are fine"


def test_query_words_are_letters_and_digits_of_any_script() -> None:
    assert query_words("Hello, wörld! 42x snake_case") == ["Hello", "wörld", "42x", "snake", "case"]
    assert query_words("東京 καλημέρα") == ["東京", "καλημέρα"]
    assert query_words('"NEAR(a* OR -b):c"') == ["NEAR", "a", "OR", "b", "c"]


async def test_image_captions_are_found(db: Database, tmp_path: Path) -> None:
    ada = await db.run(guests.create_guest, display_name="Ada")
    room = await db.run(rooms.create_room, owner_id=ada.id, name="Photos")
    sent = await messages.send_image(
        db=db,
        media=LocalMediaStore(tmp_path),
        room_slug=room.slug,
        author_id=ada.id,
        data=png(),
        caption="sunset over the lighthouse",
        max_bytes=1 << 20,
    )
    page = await db.run_read(search_messages, query="lighthouse sun", reader_id=None)
    assert [message.id for message in page.results] == [sent.id]
    assert page.results[0].kind == "image" and page.results[0].image == sent.image


def test_a_page_costs_the_same_queries_whatever_its_size(db: Database, session: Session, ada: int, lobby: str) -> None:
    bo = make_guest(session, "Bo")
    for index in range(30):
        sent = send(session, lobby, bo if index % 2 else ada, f"tally {index} @Ada")
        reactions.add_reaction(session=session, room_slug=lobby, message_id=sent.id, guest_id=ada, emoji="🎉")
        session.commit()

    def statements(limit: int, room_slug: str | None = None) -> int:
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = db.read(search_messages, query="tally", reader_id=ada, limit=limit, room_slug=room_slug)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(page.results) == limit
        return len(seen)

    assert statements(1) == statements(30) == 4, "ids, rows, reactions, mentions"
    assert statements(2, lobby) == statements(25, lobby) == 5, "and the room's check"


def test_a_search_is_planned_for_its_own_words_on_postgresql(db: Database, ada: int, lobby: str) -> None:
    """psycopg prepares a statement run five times on a connection; PostgreSQL may then plan it once
    for every tsquery (a walk of every id for a rare word: 34 s at a million messages). The search
    statement is never prepared, and the connection's other statements still are."""
    with Session(db.engine) as session:
        send(session, lobby, ada, "prepared or not")
        for _ in range(8):
            assert find(session, "prepared") == ["prepared or not"]
        if db.dialect != "postgresql":
            return  # SQLite plans every statement
        driver = session.connection().connection.driver_connection
        assert driver.prepare_threshold == 5, "the connection's own setting is back"
        prepared = session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        assert prepared, "other statements run eight times were prepared"
        assert not [statement for statement in prepared if SEARCH_VECTOR_COLUMN in statement]


# The index itself


def assert_index_consistent(db: Database) -> None:
    """SQLite: FTS5 checks its index against the message table. (PostgreSQL's vector is a generated
    column: it cannot disagree with the text.)"""
    if db.dialect == "sqlite":
        with db.engine.begin() as connection:
            connection.execute(
                text(f"INSERT INTO {SEARCH_INDEX_TABLE}({SEARCH_INDEX_TABLE}, rank) VALUES ('integrity-check', 1)")
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database of its own, not migrated yet: this test walks the migrations itself."""
    url = f"sqlite:///{tmp_path / 'chat.db'}" if request.param == "sqlite" else create_postgres_database()
    database = Database(url, bus=make_bus(None))
    try:
        yield database
    finally:
        database.dispose()
        if request.param == "postgresql":
            drop_postgres_database(url)


def migrate_to(db: Database, revision: str, *, down: bool = False) -> None:
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def search_objects(db: Database) -> set[str]:
    inspector = inspect(db.engine)
    found = {name for name in inspector.get_table_names() if name.startswith(SEARCH_INDEX_TABLE)}
    found |= {column["name"] for column in inspector.get_columns("message") if column["name"] == SEARCH_VECTOR_COLUMN}
    return found


def test_migration_0007_indexes_existing_messages_and_goes_away_on_downgrade(fresh_database: Database) -> None:
    db = fresh_database
    migrate_to(db, "0006")
    with db.session() as session:
        ada = make_guest(session, "Ada")
        lobby = make_room(session, ada)
        send(session, lobby, ada, "written before the index existed")
    migrate_to(db, "0007")
    assert db.read(search_messages, query="before index", reader_id=None).results[0].text.startswith("written")
    assert_index_consistent(db)

    migrate_to(db, "0006", down=True)
    assert search_objects(db) == set(), "downgrade leaves nothing of the index behind"
    with db.session() as session:
        send(session, lobby, ada, "written while there was no index")
    db.migrate()
    assert [m.text for m in db.read(search_messages, query="written", reader_id=None).results] == [
        "written while there was no index",
        "written before the index existed",
    ]
    assert_index_consistent(db)


# Over HTTP, against the real app on SQLite and on PostgreSQL with Redis


def word() -> str:
    """A word no other test's message holds (the app is shared by every API test)."""
    return "w" + uuid.uuid4().hex[:12]


def new_guest(api: httpx.Client, name: str = "Ada") -> dict[str, str]:
    response = api.post(f"{API}/guests", json={"display_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def new_room(api: httpx.Client, auth: dict[str, str], *, private: bool = False) -> str:
    response = api.post(f"{API}/rooms", json={"name": unique("Room"), "is_private": private}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["slug"]  # type: ignore[no-any-return]


def post(api: httpx.Client, auth: dict[str, str], slug: str, text_: str) -> dict[str, Any]:
    response = api.post(f"{API}/rooms/{slug}/messages", json={"text": text_}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def search(api: httpx.Client, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    return api.get(f"{API}/search", params=params, headers=headers or {})


def test_search_over_http_pages_newest_first_as_history_shows_messages(api: httpx.Client) -> None:
    ada = new_guest(api)
    lobby, other = new_room(api, ada), new_room(api, ada)
    key = word()
    sent = [post(api, ada, lobby if index % 2 else other, f"{key} number {index}") for index in range(5)]

    response = search(api, q=key.upper(), limit=2)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"results", "has_more"} and body["has_more"] is True
    assert [message["id"] for message in body["results"]] == [sent[4]["id"], sent[3]["id"]]
    assert body["results"][0] == sent[4] | {"room": other}, "the message as the API shows it anywhere"
    rest = search(api, q=key[:8], before=sent[3]["id"]).json()
    assert [message["id"] for message in rest["results"]] == [m["id"] for m in reversed(sent[:3])]
    assert rest["has_more"] is False
    narrowed = search(api, q=f"{key} number", room=lobby).json()["results"]
    assert [message["text"] for message in narrowed] == [f"{key} number 3", f"{key} number 1"]


def test_search_over_http_keeps_private_rooms_to_their_members(api: httpx.Client) -> None:
    ada, bo = new_guest(api, "Ada"), new_guest(api, "Bo")
    secret = new_room(api, ada, private=True)
    key = word()
    post(api, ada, secret, f"{key} members only")
    assert search(api, q=key).json() == {"results": [], "has_more": False}
    assert search(api, bo, q=key).json()["results"] == []
    assert [m["text"] for m in search(api, ada, q=key).json()["results"]] == [f"{key} members only"]
    for headers in (None, bo):
        response = search(api, headers, q=key, room=secret)
        assert response.status_code == 404 and response.json()["detail"] == f"no room {secret!r}"
    assert search(api, {"Authorization": "Bearer nobody"}, q=key).status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"q": "   "}, 422, "word"),
        ({"q": "*&!"}, 422, "word"),
        ({"q": "\x00"}, 422, "word"),
        ({}, 422, "q"),
        ({"q": "x" * (SEARCH_QUERY_MAX + 1)}, 422, "q"),
        ({"q": "hello", "limit": 0}, 422, "limit"),
        ({"q": "hello", "limit": SEARCH_LIMIT_MAX + 1}, 422, "limit"),
        ({"q": "hello", "before": ID_MAX + 1}, 422, "before"),
        ({"q": "hello", "before": 2**63}, 422, "before"),
        ({"q": "hello", "room": "Not A Slug"}, 422, "room"),
        ({"q": "hello", "room": "no-such-room-anywhere"}, 404, "no room"),
    ],
)
def test_search_over_http_refuses_bad_input_with_a_reason(
    api: httpx.Client, params: dict[str, Any], status: int, words: str
) -> None:
    response = search(api, **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and words in body["detail"], body


def test_search_over_http_with_engine_syntax_is_plain_words(api: httpx.Client) -> None:
    ada = new_guest(api)
    lobby = new_room(api, ada)
    key = word()
    post(api, ada, lobby, f'{key} "NEAR" (AND) -OR- NOT*')
    for query in (f'"{key}" NEAR(x', f"{key} AND", f"{key}:* & !or", f"-{key} (not) ||", f"{key}' or '1'='1"):
        response = search(api, q=query)
        assert response.status_code == 200, f"{query}: {response.text}"
    assert len(search(api, q=f'"{key}" NEAR(and) -or NOT*').json()["results"]) == 1


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    return buffer.getvalue()
