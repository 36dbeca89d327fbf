"""Message text as safe Markdown (CONTRACT §6): what it makes, and what it never makes.

The HTML is parsed back (html.parser) so that the assertions are about elements and attributes,
as the browser would see them, not about how the string happens to be spelled."""

from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chat_ui.room.markdown import is_allowed_link, plain_text, render_markdown
from chat_ui.room.message_rows import RowView, continues, day_label, emoji_code, emoji_from_code, render_row
from models.guest import GuestPublic
from models.message import MessagePublic, ReactionPublic, ReplyQuote


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of a piece of HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data

    def names(self) -> list[str]:
        return [tag for tag, _ in self.tags]

    def links(self) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == "a"]


def parsed(text: str, mentioned: tuple[str, ...] = ()) -> Elements:
    return Elements(render_markdown(text, mentioned))


SAFE_TAGS = {"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"}


def test_the_everyday_markup_is_rendered() -> None:
    page = parsed("**bold** *italic* _also italic_ `code` ~~gone~~")
    assert page.names() == ["p", "strong", "em", "em", "code", "s"]
    assert page.text == "bold italic also italic code gone"


def test_line_breaks_are_kept() -> None:
    page = parsed("first line\nsecond line")
    assert page.names() == ["p", "br"]
    assert page.text.split("\n") == ["first line", "second line"]


def test_a_fenced_code_block_keeps_its_markup_literal() -> None:
    page = parsed("```\n<b>not bold</b>\n**not strong** [no](https://example.com)\n```")
    assert page.names() == ["pre", "code"]
    assert page.text == "<b>not bold</b>\n**not strong** [no](https://example.com)\n"


def test_inline_code_keeps_its_markup_literal() -> None:
    page = parsed("`<i>x</i> **y**`")
    assert page.names() == ["p", "code"]
    assert page.text == "<i>x</i> **y**"


def test_a_quote_is_a_blockquote() -> None:
    page = parsed("> what they said\nand more")
    assert page.names()[:2] == ["blockquote", "p"]
    assert "what they said" in page.text


@pytest.mark.parametrize(
    "text",
    [
        "# not a heading",
        "## nor this",
        "---",
        "a line\n===",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "    indented text, pasted",
    ],
)
def test_headings_rules_tables_and_indented_code_stay_text(text: str) -> None:
    page = parsed(text)
    assert set(page.names()) <= {"p", "br"}
    assert "".join(page.text.split()) == "".join(text.split())


def test_an_image_is_never_loaded() -> None:
    page = parsed("![tracker](https://example.com/pixel.png)")
    assert "img" not in page.names()
    assert page.text.startswith("!")


def test_a_link_reference_definition_does_not_swallow_the_line() -> None:
    assert parsed("[1]: https://example.com").text == "[1]: https://example.com"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="/home">html link</a>',
        "<b>bold?</b> & <i>italic?</i>",
        "<iframe src=/home></iframe>",
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
        "```\n</code></pre><script>alert(1)</script>\n```",
        "`</code><script>alert(1)</script>`",
    ],
)
def test_html_is_shown_literally_never_interpreted(text: str) -> None:
    page = parsed(text)
    assert set(page.names()) <= SAFE_TAGS - {"a"}
    assert "<" in page.text and ">" in page.text  # the markup is there, as text


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](&#x6A;avascript:alert(1))",
        "[x](java&#115;cript:alert(1))",
        "[x](javascript&colon;alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "javascript:alert(1)",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "data:text/html,<script>alert(1)</script>",
        "[x](file:///etc/passwd)",
        "[x](ftp://example.com/file)",
        "ftp://example.com/file",
        "[x](/admin)",
        "[x](//evil.example.com)",
        "[x](#top)",
        "[x]: javascript:alert(1)\n\n[x]",
    ],
)
def test_only_http_https_and_mailto_links_are_made(text: str) -> None:
    page = parsed(text)
    assert page.links() == []
    assert page.text  # the text is still shown


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("see https://example.com/a?b=1&c=2 now", "https://example.com/a?b=1&c=2"),
        ("http://example.com", "http://example.com"),
        ("[the docs](https://example.com/docs)", "https://example.com/docs"),
        ("[HTTPS](HTTPS://EXAMPLE.COM)", "HTTPS://EXAMPLE.COM"),
        ("[write](mailto:ada@example.com)", "mailto:ada@example.com"),
        ("<https://example.com/auto>", "https://example.com/auto"),
    ],
)
def test_links_open_in_a_new_tab_without_the_opener_or_referrer(text: str, href: str) -> None:
    (link,) = parsed(text).links()
    assert link["href"] == href
    assert link["target"] == "_blank"
    assert set((link["rel"] or "").split()) == {"noopener", "noreferrer", "nofollow"}


def test_a_quote_in_a_link_cannot_add_attributes() -> None:
    (link,) = parsed('[a](https://example.com/"onmouseover="alert(1))').links()
    assert set(link) == {"href", "target", "rel"}
    (bare,) = parsed('https://example.com/"onmouseover="alert(1)').links()
    assert set(bare) == {"href", "target", "rel"}


def test_file_names_and_addresses_in_a_sentence_stay_text() -> None:
    assert parsed("open main.py and write to ada@example.com or www.example.com").links() == []


def test_mentions_are_highlighted_ignoring_case_longest_name_first() -> None:
    html = render_markdown("hi @ada lovelace, @Ada and @bo!", ("Ada", "Ada Lovelace", "Bo"))
    page = Elements(html)
    spans = [attrs for tag, attrs in page.tags if tag == "span"]
    assert [attrs["class"] for attrs in spans] == ["chat-mention"] * 3
    assert '<span class="chat-mention">@ada lovelace</span>' in html
    assert '<span class="chat-mention">@bo</span>' in html


def test_a_mention_inside_code_is_not_highlighted_and_a_name_with_markup_stays_text() -> None:
    assert "chat-mention" not in render_markdown("`@Ada`", ("Ada",))
    html = render_markdown("hello @<b>x</b>", ("<b>x</b>",))
    assert '<span class="chat-mention">@&lt;b&gt;x&lt;/b&gt;</span>' in html


def test_without_mentioned_names_nothing_is_highlighted() -> None:
    assert "chat-mention" not in render_markdown("@Ada hello")


def test_rendering_is_cached_per_text_and_names() -> None:
    first = render_markdown("**cached** once", ("Ada",))
    assert render_markdown("**cached** once", ("Ada",)) is first


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.com", True),
        ("HTTP://example.com", True),
        ("mailto:a@b.c", True),
        ("javascript:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:image/png;base64,AAAA", False),
        ("/relative", False),
        ("//host", False),
        ("", False),
    ],
)
def test_the_link_policy(url: str, allowed: bool) -> None:
    assert is_allowed_link(url) is allowed


# The row around the text (chat_ui/room/message_rows.py): what depends on the day and the row before.

UTC = ZoneInfo("UTC")
NOON = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def a_message(message_id: int, author: int = 1, *, at: datetime = NOON, **fields: Any) -> MessagePublic:
    return MessagePublic(
        id=message_id,
        room="r",
        author=GuestPublic(id=author, display_name=f"Author {author}"),
        kind="text",
        text=fields.pop("text", f"text {message_id}"),
        image=None,
        created_at=at,
        **fields,
    )


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 6, 15), "Today"),
        (date(2026, 6, 14), "Yesterday"),
        (date(2026, 6, 8), "Monday, June 8"),
        (date(2025, 11, 30), "Sunday, November 30, 2025"),
    ],
)
def test_day_labels(day: date, label: str) -> None:
    assert day_label(day, today=date(2026, 6, 15)) == label


def test_messages_group_by_author_within_five_minutes_on_one_day_unless_a_reply() -> None:
    first = a_message(1)
    assert continues(first, a_message(2, at=NOON + timedelta(minutes=5)), UTC)
    assert not continues(first, a_message(2, at=NOON + timedelta(minutes=5, seconds=1)), UTC)
    assert not continues(first, a_message(2, author=2), UTC)
    assert not continues(None, first, UTC)
    quote = ReplyQuote(id=1, author=first.author, kind="text", text="hi")
    assert not continues(first, a_message(2, reply_to=quote), UTC)
    late = a_message(1, at=datetime(2026, 6, 15, 23, 58, tzinfo=UTC))
    after_midnight = a_message(2, at=datetime(2026, 6, 16, 0, 1, tzinfo=UTC))
    assert not continues(late, after_midnight, UTC)
    # Midnight is where the reader lives: in New York both are still on the 15th.
    assert continues(late, after_midnight, ZoneInfo("America/New_York"))


def test_a_row_with_everything() -> None:
    quote = ReplyQuote(id=7, author=GuestPublic(id=2, display_name="Bo <b>"), kind="text", text="first\nsecond")
    message = a_message(
        9,
        text="**hi** @Ada",
        reply_to=quote,
        edited_at=NOON + timedelta(minutes=1),
        mentions=(3,),
        reactions=(ReactionPublic(emoji="👍", count=2, guest_ids=(3, 4)),),
    )
    view = RowView(UTC, date(2026, 6, 15), editable=True, mentioned=True, day="Today", names=((3, "Ada"), (4, "Cy")))
    page = Elements(render_row(message, view))
    attrs = {attrs.get("data-testid"): attrs for _, attrs in page.tags if attrs.get("data-testid")}
    assert attrs["message"]["data-mentioned"] == "true" and attrs["message"]["id"] == "message-9"
    assert attrs["message-reply-quote"]["command"] == "--jump-7"
    assert attrs["reaction"]["data-emoji"] == "👍" and attrs["reaction"]["data-guests"] == " g3 g4 "
    assert (
        attrs["reaction"]["command"] == "--toggle-9-1f44d"
        and attrs["reaction"]["title"] == "Ada and Cy reacted with 👍"
    )
    assert "Edited 2026-06-15 12:01" in (attrs["message-edited"]["title"] or "")
    assert {"edit-message-button", "reply-button", "react-button", "day-separator"} <= set(attrs)
    assert "Bo <b>" in page.text and "first" in page.text and "second" not in page.text  # the quote's first line
    assert '<span class="chat-mention">@Ada</span>' in render_row(message, view)


def test_a_grouped_row_keeps_its_author_hidden_and_a_deleted_quote_says_so() -> None:
    quote = ReplyQuote(id=7, author=GuestPublic(id=2, display_name="Bo"), kind="text", text="", deleted=True)
    html = render_row(a_message(9, reply_to=quote), RowView(UTC, date(2026, 6, 15), continued=True))
    assert 'class="chat-author chat-author-hidden"' in html
    assert "Original message deleted" in html and "edit-message-button" not in html


def test_emoji_codes_round_trip_and_reject_anything_else() -> None:
    for emoji in ["👍", "❤️", "👩🏽‍💻", "🇫🇷", "1️⃣"]:
        assert emoji_from_code(emoji_code(emoji)) == emoji
    for code in ["", "zz", "110000", "d800", "0a", "1f44d-", "1f44d_" * 17]:
        assert emoji_from_code(code) is None


def test_a_quote_reads_as_plain_text_with_markup_still_literal() -> None:
    assert plain_text("the **new** `build` at https://example.com/?a=1&b=2") == (
        "the new build at https://example.com/?a=1&b=2"
    )
    assert plain_text("<b>x</b> &amp; y") == "<b>x</b> & y"  # html stays text, escaped again by the row
    html = render_row(
        a_message(2, reply_to=ReplyQuote(id=1, author=GuestPublic(id=1, display_name="A"), kind="text", text="<b>x")),
        RowView(UTC, date(2026, 6, 15)),
    )
    assert "&lt;b&gt;x" in html and "<b>" not in html
