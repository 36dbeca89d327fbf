"""House rules that a reviewer would otherwise have to remember (../shared/ARCHITECTURE.md).

- The browser side is Python: no JavaScript of the project's own. Layout and scrolling come from
  NiceGUI, Quasar, HTML and CSS (chat_ui/room/message_list.py says how). The only scripts allowed
  are one-expression reads of a browser fact that no Python API gives and a one-line event guard,
  listed in ALLOWED_SCRIPTS: a new one must be argued for there.
- No function in chat_ui/ is longer than about 50 lines: a page is small parts, wired.
- Layers point one way: services and models never import NiceGUI, FastAPI or the UI; chat_ui and
  api never import each other.
"""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

from tests.support import ROOT

LAYERS = ("chat_ui", "api", "services", "models")
PRODUCT = [path for layer in LAYERS for path in sorted((ROOT / layer).rglob("*.py"))] + [ROOT / "main.py"]

# Every script the product sends to the browser, with why no Python API does it.
ALLOWED_SCRIPTS = {
    "chat_ui/timezone.py": [
        # The reader's time zone, for message times: the server cannot know it.
        '"return Intl.DateTimeFormat().resolvedOptions().timeZone"',
    ],
    "chat_ui/room/composer.py": [
        # Enter that confirms an input method's candidate (Japanese, Chinese, ...) must not send.
        'js_handler="(e) => { if (!e.isComposing) emit(); }"',
    ],
}
MAX_SCRIPTS = 3
# What marks JavaScript: the APIs that send it, and what it looks like inside a string.
SCRIPT_NAMES = {"run_javascript", "js_handler", "add_body_html", "add_head_html", "getHtmlElement"}
SCRIPT_IN_STRING = re.compile(
    r"=>|<script|\bfunction\s*\(|\bdocument\.|\bwindow\.|addEventListener|querySelector|getHtmlElement"
    r"|\bon(click|load|error|input|change|scroll|key\w*|mouse\w*|focus|blur|submit)\s*=|javascript:"
    r"|^:[\w-]+="  # a NiceGUI prop whose value is a JavaScript expression
)
FUNCTION_LINES_MAX = 50


def script_findings(source: str) -> list[tuple[int, str]]:
    """(line, text) of every place in `source` that sends or contains JavaScript."""
    findings = []
    lines, docstrings = source.splitlines(), _docstring_lines(source)
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string in SCRIPT_NAMES:
            findings.append(token.start[0])
        elif token.type == tokenize.STRING and token.start[0] not in docstrings:
            text = _text_of(token.string)
            if any(SCRIPT_IN_STRING.search(part) for part in [text, *text.split()]):
                findings.append(token.start[0])
    return [(number, lines[number - 1].strip()) for number in sorted(set(findings))]


def _text_of(literal: str) -> str:
    """A string literal's text (an f-string's as written)."""
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        return literal.lstrip("rbfuRBFU").strip("'\"")
    return value if isinstance(value, str) else ""


def _docstring_lines(source: str) -> set[int]:
    """Where docstrings start: they (and comments) may talk about JavaScript; they send none."""
    starts = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                starts.add(first.lineno)
    return starts


def test_the_detector_finds_the_javascript_it_is_meant_to_find() -> None:
    source = '''
ui.run_javascript("return 1")
box.on("scroll", handler, js_handler="(e) => emit(e.target.scrollTop)")
html = '<img src=x onerror="alert(1)">'
SCRIPT = """
const el = document.querySelector('#x');
"""
button.props(':loading="props.busy"')
fine = "<button popovertarget='x' commandfor='y' command='--go'>go</button>"
'''
    found = [text for _, text in script_findings(source)]
    assert found == [
        'ui.run_javascript("return 1")',
        'box.on("scroll", handler, js_handler="(e) => emit(e.target.scrollTop)")',
        "html = '<img src=x onerror=\"alert(1)\">'",
        'SCRIPT = """',
        "button.props(':loading=\"props.busy\"')",
    ]


def test_the_product_sends_no_javascript_beyond_the_listed_one_liners() -> None:
    unexpected, used = [], []
    for path in PRODUCT:
        relative = path.relative_to(ROOT).as_posix()
        allowed = ALLOWED_SCRIPTS.get(relative, [])
        for number, text in script_findings(path.read_text()):
            match = next((snippet for snippet in allowed if snippet in text), None)
            if match is None:
                unexpected.append(f"{relative}:{number}: {text}")
            else:
                used.append(match)
    assert unexpected == [], "JavaScript in the product; use NiceGUI, Quasar, HTML or CSS instead:\n" + "\n".join(
        unexpected
    )
    listed = [snippet for snippets in ALLOWED_SCRIPTS.values() for snippet in snippets]
    assert sorted(used) == sorted(listed), "every allowed script is used, once (else drop it from the list)"
    assert len(listed) <= MAX_SCRIPTS


@pytest.mark.parametrize("path", sorted((ROOT / "chat_ui").rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_function_in_the_ui_is_longer_than_50_lines(path: Path) -> None:
    too_long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > FUNCTION_LINES_MAX
    ]
    assert too_long == [], "split these into parts with one job each"


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("services", {"nicegui", "fastapi", "starlette", "chat_ui", "api"}),
        ("models", {"nicegui", "fastapi", "starlette", "chat_ui", "api", "services"}),
        ("chat_ui", {"api"}),
        ("api", {"chat_ui", "nicegui"}),
    ],
)
def test_layers_point_one_way(layer: str, forbidden: set[str]) -> None:
    crossing = {
        path.relative_to(ROOT).as_posix(): sorted(imported_modules(path) & forbidden)
        for path in sorted((ROOT / layer).rglob("*.py"))
        if imported_modules(path) & forbidden
    }
    assert crossing == {}
