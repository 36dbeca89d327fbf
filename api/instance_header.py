"""X-Chat-Instance on every response: which instance answered, for operators and sticky-session checks."""

from typing import Any


class InstanceHeader:
    def __init__(self, app: Any, *, instance: str) -> None:
        self.app = app
        self.header = (b"x-chat-instance", instance.encode())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], self.header]
            await send(message)

        await self.app(scope, receive, send_with_header)
