"""Message text as safe Markdown (CONTRACT §6), made by markdown-it-py configured for a chat.

What a message may hold: **bold**, *italic* or _italic_, `code`, fenced code blocks, > quotes,
lists, and links (bare http(s) URLs through linkify-it-py, and [text](url)). What it may not:
raw HTML (shown literally: markdown-it escapes it with `html` off), images (nothing loads from
another site because someone posted a link), headings, rules and tables (a `#` or `---` in a
chat line is just text), indented code and link reference definitions (pasted text that happens
to be indented, or a line like `[1]: http://…`, must not change shape or vanish).

Links go through an allow-list: only http, https and mailto destinations become <a>, each
opening in a new tab without handing over the page (`rel="noopener noreferrer nofollow"`). The
check runs on the destination as markdown-it decoded it (entities and all), so `&#106;avascript:`
is caught like the plain spelling; a refused link stays text.

Mentions: `@Name` of each mentioned member becomes a highlighted span; the names come from the
caller (the room's members), which knows who was mentioned (the service found them).

Rendering is pure and cached: every viewer in a process shares the HTML of one message.
"""

import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape, unescape

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_SCHEMES = ("http", "https", "mailto")
SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
LINK_REL = "noopener noreferrer nofollow"
TAG = re.compile(r"<[^>]*>")  # only ever applied to markdown-it's output, where text is escaped
# Block and inline rules a chat message does without (see the module's docstring for why).
DISABLED_RULES = ["image", "heading", "lheading", "hr", "table", "code", "reference", "html_block", "html_inline"]


def render_markdown(text: str, mentioned_names: Sequence[str] = ()) -> str:
    """`text` as HTML, with `@name` of each mentioned name highlighted (ignoring case; the
    longest name that fits wins). Cached: call with a tuple to share the result."""
    return _render(text, tuple(mentioned_names))


@lru_cache(maxsize=8192)
def _render(text: str, mentioned_names: tuple[str, ...]) -> str:
    return _PARSER.render(text, {"mentions": mentioned_names}).strip()


@lru_cache(maxsize=4096)
def plain_text(text: str) -> str:
    """What the Markdown of `text` reads as, without its markup (for a reply's one-line quote):
    our own escaped HTML with its tags dropped, then unescaped, so `**new**` reads `new`."""
    return unescape(TAG.sub("", _PARSER.render(text))).strip()


def is_allowed_link(url: str) -> bool:
    """Only absolute http, https and mailto destinations: never javascript:, data:, vbscript:,
    relative paths (which would point into this app) or protocol-relative //host links."""
    match = SCHEME.match(url.strip())
    return match is not None and match.group(1).lower() in ALLOWED_SCHEMES


def _build() -> MarkdownIt:
    options = {"html": False, "linkify": True, "breaks": True, "typographer": False, "xhtmlOut": False}
    md = MarkdownIt("commonmark", options)
    md.disable(DISABLED_RULES)
    md.enable(["linkify", "strikethrough"])  # the commonmark preset leaves both off; ~~struck~~ is chat habit
    # Links only where a scheme is written out: `main.py` or `ada@example.com` in a sentence stays
    # text (fuzzy matching takes any known top-level domain, and .py is one).
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})  # type: ignore[union-attr]
    md.validateLink = is_allowed_link  # type: ignore[method-assign]
    md.core.ruler.push("mentions", _mark_mentions)
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("mention", _mention)
    return md


def _link_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    token.attrSet("target", "_blank")
    token.attrSet("rel", LINK_REL)
    return self.renderToken(tokens, idx, options, env)


def _mention(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f'<span class="chat-mention">{escape(tokens[idx].content)}</span>'


def _mark_mentions(state: StateCore) -> None:
    """Split `@name` out of plain text (not code, not a link's address) into mention tokens."""
    names = state.env.get("mentions") if isinstance(state.env, dict) else None
    if not names:
        return
    pattern = _mention_pattern(tuple(names))
    for block in state.tokens:
        if block.type == "inline" and block.children:
            block.children = [piece for child in block.children for piece in _split(child, pattern)]


@lru_cache(maxsize=1024)
def _mention_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted({name for name in names if name}, key=len, reverse=True)
    return re.compile("@(?:" + "|".join(re.escape(name) for name in longest_first) + ")", re.IGNORECASE)


def _split(token: Token, pattern: re.Pattern[str]) -> list[Token]:
    if token.type != "text" or "@" not in token.content:
        return [token]
    pieces, start = [], 0
    for match in pattern.finditer(token.content):
        if match.start() > start:
            pieces.append(_text(token, token.content[start : match.start()]))
        mention = Token("mention", "", 0)
        mention.content = match.group(0)
        pieces.append(mention)
        start = match.end()
    if not pieces:
        return [token]
    if start < len(token.content):
        pieces.append(_text(token, token.content[start:]))
    return pieces


def _text(like: Token, content: str) -> Token:
    token = Token("text", "", 0, level=like.level)
    token.content = content
    return token


_PARSER = _build()
