"""The running app's parts (settings, database, bus, media), and the checks made before serving."""

import contextlib
import errno
import os
import secrets
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import anyio.to_thread
import redis
from redis.exceptions import RedisError

from services.backoff import FailureBackoff, MemoryBackoff, make_backoff
from services.bus import EventBus, make_bus
from services.config import Settings, parse_rate
from services.database import Database, DatabaseUnavailable
from services.image_pool import ImageProcessor, ProcessImagePool, ThreadImageProcessor
from services.media import LocalMediaStore, MediaStore
from services.presence import Presence, make_presence
from services.rate_limit import GuestAndAddressLimiter, NoLimit, RateLimiter, make_limiter
from services.search_index import SearchIndexMerger
from services.unread import ReadMarks


class StartupError(Exception):
    """A configuration problem, said in one line for stderr."""


@dataclass
class AppContext:
    settings: Settings
    db: Database
    bus: EventBus
    media: MediaStore
    storage_secret: str
    presence: Presence  # who has each room open, on every instance (memory, or Redis with CHAT_REDIS_URL)
    read_marks: ReadMarks  # the pages' read positions, written in batches
    search_index: SearchIndexMerger  # SQLite: merges the search index off the send path (idle on PostgreSQL)
    # Decodes uploads: prepare() gives the app a pool of worker processes (CHAT_IMAGE_WORKERS).
    images: ImageProcessor = field(default_factory=ThreadImageProcessor)
    limiter: RateLimiter = field(default_factory=NoLimit)  # per guest: use send_limiter(address)
    address_limiter: RateLimiter = field(default_factory=NoLimit)  # sends per client address
    guest_creation_limiter: RateLimiter = field(default_factory=NoLimit)  # new guests per client address
    browser_guest_limiter: RateLimiter = field(default_factory=NoLimit)  # the same, by browsers' first visits
    admin_backoff: FailureBackoff = field(default_factory=MemoryBackoff)  # wrong admin tokens per address
    # Names this process in the X-Chat-Instance header: which instance a load balancer chose.
    instance_id: str = field(default_factory=lambda: default_instance_id())

    def send_limiter(self, address: str) -> RateLimiter:
        """The budgets a message or upload from `address` spends: its guest's and its address's."""
        return GuestAndAddressLimiter(self.limiter, self.address_limiter, address)

    async def start(self) -> None:
        await self.bus.start()
        await self.presence.start()
        await self.read_marks.start()
        await self.search_index.start()
        await anyio.to_thread.run_sync(self.images.start)  # starts the fork server: not on the loop

    async def stop(self) -> None:
        self.images.stop()
        await self.search_index.stop()
        await self.read_marks.stop()  # the last marks are written, their events published
        await self.presence.stop()  # this instance's viewers leave every list at once
        await self.bus.close()
        self.db.dispose()


def default_instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def prepare(settings: Settings, *, port: int) -> AppContext:
    """Everything that can fail because of configuration, checked before the server starts."""
    _check_port_free(settings.host, port)
    _ensure_writable(settings.data_dir, "data dir (CHAT_DATA_DIR)")
    _ensure_writable(settings.effective_media_dir, "media dir (CHAT_MEDIA_DIR)")
    bus = make_bus(settings.redis_url, prefix=settings.redis_prefix)
    db = Database(settings.effective_database_url, bus=bus, pool_size=settings.db_pool_size)
    try:
        db.check()
        db.migrate()
    except DatabaseUnavailable as error:
        raise StartupError(f"cannot reach the database at {_redact(db.url)}: {error}") from None
    if settings.redis_url:
        _check_redis(settings.redis_url)
    instance_id = default_instance_id()
    return AppContext(
        settings=settings,
        db=db,
        bus=bus,
        media=LocalMediaStore(settings.effective_media_dir),
        storage_secret=_storage_secret(settings),
        presence=make_presence(
            db=db, instance_id=instance_id, redis_url=settings.redis_url, prefix=settings.redis_prefix
        ),
        read_marks=ReadMarks(db),
        search_index=SearchIndexMerger(db),
        instance_id=instance_id,
        images=ProcessImagePool(settings.image_workers),
        limiter=make_limiter(
            settings.rate_limit_per_seconds, redis_url=settings.redis_url, prefix=settings.redis_prefix
        ),
        address_limiter=make_limiter(settings.address_rate, redis_url=settings.redis_url, prefix=settings.redis_prefix),
        guest_creation_limiter=make_limiter(
            parse_rate(settings.guest_rate_limit), redis_url=settings.redis_url, prefix=settings.redis_prefix
        ),
        browser_guest_limiter=make_limiter(
            settings.browser_guest_rate, redis_url=settings.redis_url, prefix=settings.redis_prefix
        ),
        admin_backoff=make_backoff(redis_url=settings.redis_url, prefix=settings.redis_prefix),
    )


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartupError(f"port {port} on {host} is in use; choose another with --port") from None
            raise StartupError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _ensure_writable(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise StartupError(f"the {what} {path} is not writable: {error.strerror or error}") from None


def _check_redis(url: str) -> None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except (RedisError, OSError) as error:
        raise StartupError(f"cannot reach Redis at {_redact(url)}: {error}") from None


def _storage_secret(settings: Settings) -> str:
    if settings.storage_secret:
        return settings.storage_secret.get_secret_value()
    path = settings.data_dir / "storage_secret"
    if path.exists():
        return path.read_text().strip()
    # Written whole under a temporary name, then linked into place: an instance starting at the
    # same moment either wins the link or reads the winner's complete file, never a half-written one.
    fd, temporary = tempfile.mkstemp(dir=settings.data_dir, prefix=".storage_secret-")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text().strip()


def _redact(url: str) -> str:
    """The URL without its password, fit for a log line."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"
