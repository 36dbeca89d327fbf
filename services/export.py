"""A room's history as a zip, made while it is sent: `messages.json` or `messages.md`, then the
room's images under `images/` (CONTRACT §7).

Memory does not grow with the room: the zip is written into a buffer that is emptied after every
step, and each step is small: one page of messages (read by keyset, `id > last`, turned into text
and deflated, all in one worker thread), or one piece of one image file. What the zip keeps until
its end is its central directory, some 100 bytes per file: the text entry and one per image.

The zip is the standard library's zipfile writing to a stream it cannot seek (it then puts each
entry's sizes and checksum in a data descriptor after the data, as streaming zip writers do): no
dependency for what the standard library does, and it is the zip writer every Python tool reads
back. Images are stored as they are (they are compressed already), the text deflated.

The export is the history at the moment it starts (`RoomSnapshot.last_id`): messages sent while it
runs are not in it. One that is deleted while it runs may still be in the text, and its image then
missing from `images/`. A client that goes away stops the work: the response stops pulling from
`stream_export`, which is closed where it waits, between two steps.

An export of a large room keeps a worker thread busy for seconds (100,000 messages: 9-17 s). So
that exports cannot crowd out the pages: at most EXPORTS_AT_ONCE run at once in this process (a
further one is refused at once with `Busy`, 503 and Retry-After: claim a `SLOTS` slot before the
response starts), and each runs its steps on a CapacityLimiter of its own, never on anyio's
default limiter that every `Database.run`/`run_read` of every page draws from.
"""

import contextlib
import io
import logging
import zipfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO, TypeVar

import anyio.to_thread
from sqlalchemy import func
from sqlmodel import Session, col, select

from models.base import utcnow
from models.image import Image
from models.message import Message
from models.room import Room
from services.access import readable_room
from services.database import Database
from services.errors import ServiceError
from services.media import MediaStore
from services.messages import PAGE_LIMIT_MAX, page_messages
from services.transcript import FILE_NAMES, ExportFormat, RoomSnapshot, Transcript, image_file, transcript_for

log = logging.getLogger(__name__)
T = TypeVar("T")

MESSAGE_PAGE = PAGE_LIMIT_MAX  # messages per read: page_messages' largest page
IMAGE_PAGE = 200  # image messages per read, for the images' pass
FILE_CHUNK = 256 * 1024  # bytes of an image file written per step
FILE_MODE = 0o644 << 16  # rw-r--r--, so that unzip makes readable files
EXPORTS_AT_ONCE = 2  # per app process: each keeps one worker thread busy while it runs
BUSY_RETRY_AFTER = 60  # seconds: a large export takes a few dozen at most


class Busy(ServiceError):
    """EXPORTS_AT_ONCE exports are being made by this process already."""

    status_code = 503

    def __init__(self) -> None:
        self.retry_after = BUSY_RETRY_AFTER
        super().__init__("the server is making other exports at the moment; try again in a minute")


class ExportSlots:
    """How many exports run at once in this process. Claimed and released on the event loop only,
    so a plain count is enough."""

    def __init__(self, total: int) -> None:
        self.total, self.taken = total, 0

    def claim(self) -> "Slot":
        if self.taken >= self.total:
            raise Busy()
        self.taken += 1
        return Slot(self)


class Slot:
    def __init__(self, slots: ExportSlots) -> None:
        self._slots: ExportSlots | None = slots

    def release(self) -> None:
        """Once, however often it is called."""
        if self._slots is not None:
            self._slots.taken -= 1
            self._slots = None


SLOTS = ExportSlots(EXPORTS_AT_ONCE)


def snapshot_room(*, session: Session, slug: str, reader_id: int | None) -> RoomSnapshot:
    """The room to export, if `reader_id` may read it (else NotFound, as for a missing room), as
    it is now, with its newest message id: run before the response starts, so a refusal is an
    answer of its own and not a broken download."""
    room = readable_room(session, slug, reader_id)
    last_id = session.exec(select(func.max(Message.id)).where(Message.room_id == room.id)).one()
    return RoomSnapshot(
        slug=room.slug,
        name=room.name,
        description=room.description,
        is_private=room.is_private,
        exported_at=utcnow(),
        last_id=last_id or 0,
    )


def archive_name(room: RoomSnapshot) -> str:
    return f"{room.slug}-{room.exported_at:%Y-%m-%d}.zip"


async def stream_export(
    *,
    db: Database,
    media: MediaStore,
    room: RoomSnapshot,
    fmt: ExportFormat,
    page_size: int = MESSAGE_PAGE,
) -> AsyncIterator[bytes]:
    """The zip's bytes, piece by piece. Nothing here runs on the event loop but the loop itself:
    reading, rendering, deflating and file reads each run in a worker thread, on this export's own
    limiter (one step at a time, so one thread)."""
    archive, work = ZipStream(), _Work()
    sent, finished = 0, False
    try:
        for part in (
            _text_entry(db, work, archive, room, fmt, page_size),
            _image_entries(db, media, work, archive, room),
        ):
            async with aclosing(part) as chunks:
                async for chunk in chunks:
                    if chunk:
                        sent += len(chunk)
                        yield chunk
        yield await work.run(archive.finish)
        finished = True
    finally:
        if not finished:  # the client went away, or a read failed (the server logs that too)
            log.info(
                "the export of %r stopped after %d bytes and %d pages read, unfinished", room.slug, sent, work.pages
            )
            archive.abandon()


class _Work:
    """Runs one export's steps in a worker thread on a limiter of the export's own (see the module's
    docstring), and counts the pages it read (messages or images), which the log tells."""

    def __init__(self) -> None:
        self.limiter = anyio.CapacityLimiter(1)
        self.pages = 0

    async def run(self, step: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(step, *args, limiter=self.limiter)

    async def read(self, step: Callable[..., T]) -> T:
        self.pages += 1
        return await self.run(step)


async def _text_entry(
    db: Database, work: _Work, archive: "ZipStream", room: RoomSnapshot, fmt: ExportFormat, page_size: int
) -> AsyncIterator[bytes]:
    """messages.json or messages.md, a page of messages at a time, oldest first."""
    transcript = transcript_for(fmt, room)
    entry = await work.run(archive.open_text, FILE_NAMES[fmt], room.exported_at)
    yield await work.run(entry.write, transcript.opening)
    after = 0
    while after < room.last_id:
        chunk, after = await work.read(
            partial(_write_page, db, room, transcript, entry, after=after, page_size=page_size)
        )
        yield chunk
    yield await work.run(entry.close, transcript.closing)


def _write_page(
    db: Database, room: RoomSnapshot, transcript: Transcript, entry: "TextEntry", *, after: int, page_size: int
) -> tuple[bytes, int]:
    """One step, in one worker thread: read the page after `after` (Database.read, as run_read
    does in its thread), write it, deflated; the zip's new bytes and where the next page starts
    (`room.last_id` once there is none). One thread hop a page, not two: on a busy machine each
    hop waits for the event loop and the thread to be scheduled again."""
    page = db.read(page_messages, room_slug=room.slug, after=after, limit=page_size)
    messages = [message for message in page.messages if message.id <= room.last_id]
    chunk = entry.write(partial(transcript.page, messages)) if messages else b""
    if not page.has_more or len(messages) < len(page.messages):
        return chunk, room.last_id
    return chunk, messages[-1].id


async def _image_entries(
    db: Database, media: MediaStore, work: _Work, archive: "ZipStream", room: RoomSnapshot
) -> AsyncIterator[bytes]:
    """Each image once, in the order of its message, a piece of a file per step."""
    after = 0
    while after < room.last_id:
        images = await work.read(partial(db.read, image_page, room_slug=room.slug, after=after, last_id=room.last_id))
        for message_id, key, sent_at in images:
            steps = archive.add_file(image_file(message_id, key), sent_at, partial(media.local_path, key))
            try:
                while (chunk := await work.run(next, steps, None)) is not None:
                    yield chunk
            finally:
                steps.close()  # the file, if the export stops half-way through it
        if len(images) < IMAGE_PAGE:
            return
        after = images[-1][0]


def image_page(*, session: Session, room_slug: str, after: int, last_id: int) -> list[tuple[int, str, datetime]]:
    """(message id, original's key, sent at) of the room's live image messages after `after`, up to
    `last_id`, oldest first: a keyset walk of the (room_id, id) index."""
    room_id = select(Room.id).where(Room.slug == room_slug).scalar_subquery()
    rows = session.exec(
        select(Message.id, Image.key, Message.created_at)
        .join(Image, col(Image.id) == Message.image_id)
        .where(Message.room_id == room_id, col(Message.id) > after, col(Message.id) <= last_id)
        .where(col(Message.deleted_at).is_(None))
        .order_by(col(Message.id))
        .limit(IMAGE_PAGE)
    ).all()
    return [(int(message_id), key, created_at) for message_id, key, created_at in rows]


class _Sink(io.RawIOBase):
    """Where zipfile writes: a buffer that `take` empties. It cannot seek, so zipfile streams."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._discarding = False

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if not self._discarding:
            self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data

    def discard(self) -> None:
        self._discarding = True
        self._chunks.clear()


class TextEntry:
    """One deflated file of the zip being written, fed text; each call returns the zip's new bytes."""

    def __init__(self, sink: _Sink, writer: IO[bytes]) -> None:
        self._sink, self._writer = sink, writer

    def write(self, render: Callable[[], str]) -> bytes:
        self._writer.write(render().encode())
        return self._sink.take()

    def close(self, render: Callable[[], str]) -> bytes:
        self._writer.write(render().encode())
        self._writer.close()
        return self._sink.take()

    def abandon(self) -> None:
        self._writer.close()


class ZipStream:
    """zipfile writing into a _Sink. Used by one export, one step at a time (from any thread)."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=zipfile.ZIP_DEFLATED)
        self._text: TextEntry | None = None

    def open_text(self, name: str, when: datetime) -> TextEntry:
        info = _info(name, when, zipfile.ZIP_DEFLATED)  # at zlib's default level
        # ZIP64 sizes: a transcript's size is not known before it is written, and one past 2 GiB
        # (millions of messages) would otherwise fail at its very end.
        self._text = TextEntry(self._sink, self._zip.open(info, mode="w", force_zip64=True))
        return self._text

    def add_file(self, name: str, when: datetime, locate: Callable[[], Path | None]) -> Iterator[bytes]:
        """Store one media file, FILE_CHUNK bytes a step. A file gone meanwhile (its message or
        room deleted during the export) is left out."""
        path = locate()
        if path is None:
            log.info("export: %s is gone (deleted meanwhile), left out of the archive", name)
            return
        info = _info(name, when, zipfile.ZIP_STORED)
        with path.open("rb") as file:
            info.file_size = path.stat().st_size  # tells zipfile whether the entry needs ZIP64
            with self._zip.open(info, mode="w") as entry:
                yield self._sink.take()
                while chunk := file.read(FILE_CHUNK):
                    entry.write(chunk)
                    yield self._sink.take()
        yield self._sink.take()

    def finish(self) -> bytes:
        """The central directory: the zip's end."""
        self._zip.close()
        return self._sink.take()

    def abandon(self) -> None:
        """An unfinished export: close what is open (else zipfile complains when it is collected),
        writing nowhere."""
        self._sink.discard()
        with contextlib.suppress(Exception):
            if self._text is not None:
                self._text.abandon()
            self._zip.close()


def _info(name: str, when: datetime, compression: int) -> zipfile.ZipInfo:
    # Zip times have no zone and start in 1980; these are UTC, as the transcript's times.
    info = zipfile.ZipInfo(name, date_time=(max(when.year, 1980), *when.timetuple()[1:6]))
    info.compress_type = compression
    info.external_attr = FILE_MODE
    return info
