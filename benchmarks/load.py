"""Light viewers and a steady sender: delivery latency, loss, throughput and memory per viewer.

A viewer is what a browser tab costs the server, without the browser: the page request
(which makes NiceGUI build the page and its elements), then the page's socket.io connection
(engine.io v4 over a WebSocket, with the client id the page carries). Frames are scanned as
raw text for message markers, so 1,000 viewers fit in one client process.
"""

import asyncio
import json
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import websockets

CLIENT_ID = re.compile(r"'client_id': '([0-9a-f-]+)'")
MARKER = re.compile(r"bench#(\d+)#")
TYPING = re.compile(r"(is|are) typing")  # the room's typing indicator changing its text (#14)


@dataclass
class Viewer:
    """One open page: records when each marked message first reached it."""

    arrivals: dict[int, float] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None
    typing_frames: int = 0  # frames naming someone typing: benchmarks/conversation.py

    async def run(self, base_url: str, path: str) -> None:
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                page = await http.get(path)
                page.raise_for_status()
                match = CLIENT_ID.search(page.text)
                if match is None:
                    raise RuntimeError("no client id in the page")
                cookies = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
            query = {
                "client_id": match.group(1),
                "next_message_id": "0",
                "implicit_handshake": "true",
                "document_id": str(uuid.uuid4()),
                "tab_id": str(uuid.uuid4()),
                "EIO": "4",
                "transport": "websocket",
            }
            url = base_url.replace("http", "ws", 1) + "/_nicegui_ws/socket.io/?" + urlencode(query)
            headers = {"Cookie": cookies} if cookies else {}
            async with websockets.connect(url, additional_headers=headers, max_size=None, open_timeout=30) as socket:
                await socket.recv()  # engine.io open packet
                await socket.send("40")  # socket.io connect to the default namespace
                async for frame in socket:
                    if frame == "2":  # engine.io ping
                        await socket.send("3")
                        continue
                    if isinstance(frame, bytes):
                        continue
                    if frame.startswith("40"):
                        self.connected.set()
                        continue
                    now = time.perf_counter()
                    for marker in MARKER.finditer(frame):
                        self.arrivals.setdefault(int(marker.group(1)), now)
                    if TYPING.search(frame):
                        self.typing_frames += 1
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a viewer that fails is counted, not fatal to the run
            self.error = f"{type(error).__name__}: {error}"
            self.connected.set()


async def open_viewers(base_url: str, paths: list[str], *, concurrency: int = 16) -> list[Viewer]:
    """Open one viewer per path, a few at a time (as visitors arrive), and wait until all are connected."""
    viewers = [Viewer() for _ in paths]
    gate = asyncio.Semaphore(concurrency)

    async def start(viewer: Viewer, path: str) -> None:
        async with gate:
            viewer.task = asyncio.create_task(viewer.run(base_url, path))
            await asyncio.wait_for(viewer.connected.wait(), 60)

    await asyncio.gather(*(start(viewer, path) for viewer, path in zip(viewers, paths, strict=True)))
    return viewers


async def close_viewers(viewers: list[Viewer]) -> None:
    for viewer in viewers:
        if viewer.task:
            viewer.task.cancel()
    await asyncio.gather(*(v.task for v in viewers if v.task), return_exceptions=True)


Poster = Callable[[httpx.AsyncClient, str], Awaitable[None]]


async def send_steadily(post: Poster, http: httpx.AsyncClient, *, rate: float, duration: float) -> dict[int, float]:
    """Send `rate` marked messages per second for `duration` seconds; returns seq -> time sent.
    Each send is its own task, so a slow answer does not hold up the next message."""
    sent: dict[int, float] = {}
    tasks = []
    start = time.perf_counter()
    count = int(rate * duration)
    for seq in range(count):
        due = start + seq / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        sent[seq] = time.perf_counter()
        tasks.append(asyncio.create_task(post(http, f"bench#{seq}# sent at {time.time():.3f}")))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        print(f"  {len(failures)} sends failed, e.g. {failures[0]!r}")
    return sent


def latency_report(viewers: list[Viewer], sent: dict[int, float], elapsed: float) -> dict[str, float | None]:
    latencies = [
        (viewer.arrivals[seq] - at) * 1000 for viewer in viewers for seq, at in sent.items() if seq in viewer.arrivals
    ]
    expected = len(sent) * len(viewers)
    latencies.sort()

    def pct(p: float) -> float | None:  # None when nothing arrived at all
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else None

    return {
        "viewers": len(viewers),
        "failed_viewers": sum(1 for v in viewers if v.error),
        "messages": len(sent),
        "deliveries": len(latencies),
        "lost": expected - len(latencies),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
        "sent_per_second": round(len(sent) / elapsed, 2),
    }


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def chat_poster(token: str, slug: str) -> Poster:
    async def post(http: httpx.AsyncClient, text: str) -> None:
        response = await http.post(
            f"/api/v1/rooms/{slug}/messages", json={"text": text}, headers={"Authorization": f"Bearer {token}"}
        )
        response.raise_for_status()

    return post


async def reference_post(http: httpx.AsyncClient, text: str) -> None:
    (await http.post("/post", content=json.dumps({"text": text}))).raise_for_status()
