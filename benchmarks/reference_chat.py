"""The reference peer: a chat written the way NiceGUI's own chat example writes it.

One module-level list of messages and one @ui.refreshable that re-renders every message
(ui.chat_message) for every viewer on every new message. The benchmark measures it beside
our app, in the same run, to show what appending instead of re-rendering buys.

    python benchmarks/reference_chat.py --port 8090
    POST /post {"text": "..."} adds a message; POST /seed?count=500 adds many at once.
"""

import argparse
from datetime import datetime
from uuid import uuid4

from fastapi import Request
from nicegui import app, ui

messages: list[tuple[str, str, str]] = []  # (user id, text, stamp)


@ui.refreshable
def chat_messages(own_id: str) -> None:
    if messages:
        for user_id, text, stamp in messages:
            ui.chat_message(text=text, stamp=stamp, name=user_id[:8], sent=own_id == user_id)
    else:
        ui.label("No messages yet").classes("mx-auto my-36")
    ui.run_javascript("window.scrollTo(0, document.body.scrollHeight)")


@ui.page("/")
async def main() -> None:
    user_id = str(uuid4())

    def send() -> None:
        messages.append((user_id, text.value, datetime.now().strftime("%X")))
        text.value = ""
        chat_messages.refresh()

    with ui.column().classes("w-full max-w-2xl mx-auto items-stretch"):
        chat_messages(user_id)
    with ui.footer(), ui.row().classes("w-full no-wrap items-center"):
        text = ui.input(placeholder="message").on("keydown.enter", send).classes("flex-grow")


@app.post("/post")
async def post(request: Request) -> dict[str, int]:
    body = await request.json()
    messages.append(("api", str(body["text"]), datetime.now().strftime("%X")))
    chat_messages.refresh()
    return {"id": len(messages)}


@app.post("/seed")
async def seed(count: int = 500) -> dict[str, int]:
    messages.extend(("seed", f"seeded message {n}", datetime.now().strftime("%X")) for n in range(count))
    chat_messages.refresh()
    return {"count": len(messages)}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ in {"__main__", "__mp_main__"}:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8090)
    ui.run(port=parser.parse_args().port, host="127.0.0.1", reload=False, show=False, show_welcome_message=False)
