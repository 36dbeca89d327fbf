"""Settings, read once from CHAT_* environment variables and command-line flags (a flag wins)."""

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RATE_LIMIT_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|seconds|m|min|minute|minutes)\s*$")
SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgresql+psycopg")
ADDRESS_RATE_GUESTS = 3  # the default per-address message budget, in guests' budgets
BROWSER_GUEST_FACTOR = 10  # browsers' first visits may mint this many times CHAT_GUEST_RATE_LIMIT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: Annotated[int | None, Field(ge=1, le=65535)] = None  # None: 8080, or a free port in native mode
    data_dir: Path = Path("data")
    media_dir: Path | None = None
    database_url: str | None = None
    redis_url: str | None = None
    redis_prefix: str = "chat"
    storage_secret: SecretStr | None = None
    admin_token: SecretStr | None = None
    max_upload_mb: Annotated[float, Field(gt=0, le=1024)] = 10
    rate_limit: str = "20/10s"
    # Messages and uploads from one client address, whatever guests it uses (fresh guests must not
    # multiply the per-guest budget). Unset: three guests' worth of CHAT_RATE_LIMIT, and off with it,
    # so that turning the message limit off turns every message limit off.
    address_rate_limit: str | None = None
    guest_rate_limit: str = "30/10min"  # guests one client address may create (CONTRACT §8)
    db_pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    # Proxies (addresses or CIDR networks, comma-separated) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; from anyone else those headers are ignored.
    trusted_proxies: str = ""
    public_url: str | None = None  # e.g. https://chat.example.org: cookies are Secure when https
    log_format: Literal["text", "json"] = "text"
    image_workers: Annotated[int, Field(ge=1, le=32)] = 2  # images decoded at once, each in its own process

    @field_validator("database_url")
    @classmethod
    def _known_database_scheme(cls, url: str | None) -> str | None:
        if not url:
            return None
        scheme = url.split("://", 1)[0] if "://" in url else ""
        # postgres:// and postgresql:// are what most providers print; we always talk psycopg 3.
        if scheme in ("postgres", "postgresql"):
            return "postgresql+psycopg://" + url.split("://", 1)[1]
        if scheme == "sqlite" and url.split("://", 1)[1].lstrip("/") in ("", ":memory:"):
            raise ValueError("an in-memory SQLite database would be lost on exit: give a file path")
        if scheme not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(
                f"unsupported database URL scheme {scheme or url!r}: "
                "use sqlite:///path/to/chat.db or postgresql+psycopg://user:pw@host:5432/chat"
            )
        return url

    @field_validator("redis_url")
    @classmethod
    def _known_bus_scheme(cls, url: str | None) -> str | None:
        if not url:
            return None
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("redis", "rediss", "memory"):
            raise ValueError(f"unsupported Redis URL scheme {scheme or url!r}: use redis://host:6379/0")
        return None if scheme == "memory" else url

    @field_validator("rate_limit", "address_rate_limit", "guest_rate_limit")
    @classmethod
    def _rate_limit_format(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.strip().lower() == "off":
            return "off"
        match = RATE_LIMIT_PATTERN.match(value.lower())
        if not match or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < 1):
            raise ValueError(f"{value!r} is not a rate like '20/10s', '30/10min' or 'off'")
        return value.strip()

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (item.strip() for item in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not an IP address or network like 10.0.0.0/8") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("storage_secret", "admin_token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty line in an env file (CHAT_STORAGE_SECRET=) is a mistake, not a wish for a default:
        # each instance would quietly generate its own secret and log every other one's visitors out.
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is set but empty; give it a value or remove it")
        return value

    @field_validator("redis_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,40}", value):
            raise ValueError("use 1-40 letters, digits, '.', '_' or '-'")
        return value

    @property
    def effective_media_dir(self) -> Path:
        return self.media_dir or self.data_dir / "media"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'chat.db').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def rate_limit_per_seconds(self) -> tuple[int, float] | None:
        """(burst, seconds) of the per-guest message rate limit, or None when it is off."""
        return parse_rate(self.rate_limit)

    @property
    def address_rate(self) -> tuple[int, float] | None:
        """(burst, seconds) of messages and uploads per client address, or None when it is off."""
        if self.address_rate_limit is not None:
            return parse_rate(self.address_rate_limit)
        per_guest = parse_rate(self.rate_limit)
        return None if per_guest is None else (per_guest[0] * ADDRESS_RATE_GUESTS, per_guest[1])

    @property
    def browser_guest_rate(self) -> tuple[int, float] | None:
        """(burst, seconds) of guests minted by browsers' first visits per client address. A first
        visit is a person opening the page, and a school or an office sends many from one address,
        so browsers get ten times the API's budget (scripts mint through the API); off with it."""
        rate = parse_rate(self.guest_rate_limit)
        return None if rate is None else (rate[0] * BROWSER_GUEST_FACTOR, rate[1])

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = filter(None, (item.strip() for item in self.trusted_proxies.split(",")))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)


def parse_rate(value: str) -> tuple[int, float] | None:
    """(burst, seconds) of a validated rate like '20/10s' or '30/10min', or None for 'off'."""
    if value == "off":
        return None
    match = RATE_LIMIT_PATTERN.match(value.lower())
    assert match is not None
    amount, number, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    return amount, float(number * (60 if unit.startswith("m") else 1))


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with non-None overrides (the command line) winning."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def describe_validation_error(error: ValidationError, *, flags_given: set[str] | None = None) -> str:
    """One line naming the variable (or the flag, when one was given) and what is wrong with it."""
    parts = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        name = "CHAT_" + field.upper() if field else "settings"
        if flags_given and field in flags_given:
            name = "--" + field.replace("_", "-")
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{name}: {message}")
    return "; ".join(parts)
