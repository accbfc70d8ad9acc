"""Configuration: packaged defaults, then the user's TOML files, then the environment.

A configuration directory holds ``newsradar.toml`` (settings), ``feeds.toml`` (``[[feed]]``
tables) and ``watchlist.toml`` (``[[watch]]`` tables). :func:`load_config` validates all three
once into a frozen :class:`Config` that is passed explicitly; nothing is read at import time.

    >>> cfg = load_config(Path("config"))            # doctest: +SKIP
    >>> cfg.storage.database
    PosixPath('/.../data/newsradar.duckdb')

Secrets never live in TOML: the SMTP password comes from ``NEWSRADAR_SMTP_PASSWORD``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from newsradar.errors import ConfigError

__all__ = [
    "Settings",
    "AlertsSettings",
    "Config",
    "ExtractSettings",
    "FeedConfig",
    "FetchSettings",
    "ScheduleSettings",
    "SmtpSettings",
    "StorageSettings",
    "TrendsSettings",
    "WatchConfig",
    "load_config",
    "load_feeds",
    "load_settings",
    "load_storage",
    "load_watchlist",
]

SETTINGS_FILE = "newsradar.toml"
FEEDS_FILE = "feeds.toml"
WATCHLIST_FILE = "watchlist.toml"
PASSWORD_ENV = "NEWSRADAR_SMTP_PASSWORD"

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _address(value: str) -> str:
    # Imported late: the alerts package imports this module.
    from newsradar.alerts.message import check_address

    return check_address(value)


def _recipient(value: str) -> str:
    # A mail address, or "channel:NAME" for an Apprise channel in [alerts] channels.
    if value.startswith("channel:"):
        if not _ID.match(value.removeprefix("channel:")):
            raise ValueError(f"{value!r}: channel names use lowercase letters, digits, '-', '_'")
        return value
    return _address(value)


class _KeyedError(ValueError):
    """Raised by a model validator about one key: reported as ``section.key``, not ``section``."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


def _undefined_channel(recipients: Iterable[str], channels: Mapping[str, str]) -> str | None:
    """The first ``channel:NAME`` recipient whose NAME is not in ``[alerts] channels``."""
    for recipient in recipients:
        if recipient.startswith("channel:") and recipient.removeprefix("channel:") not in channels:
            return recipient
    return None


def _no_channel(recipient: str) -> str:
    # Otherwise accepted, and every digest to it waited at delivery for a channel nobody defined.
    name = recipient.removeprefix("channel:")
    return (
        f"{recipient!r} names no channel in [alerts] channels of {SETTINGS_FILE}; add"
        f' {name} = "NEWSRADAR_CHANNEL_{name.upper().replace("-", "_")}" there'
        " (the environment variable holding its Apprise URL), or correct the name"
    )


def _not_above(model: BaseModel, low: str, high: str) -> None:
    """Refuse a floor above its cap: the code would silently obey one and ignore the other."""
    floor, cap = getattr(model, low), getattr(model, high)
    if floor > cap:
        raise ValueError(
            f"{low} ({_number(floor)}) is above {high} ({_number(cap)});"
            f" lower {low} or raise {high} (they may be equal)"
        )


def _number(value: float) -> str:
    # As the user wrote it: 600 rather than 600.0, every digit (":g" rounds 1234567 to 1.23e+06).
    return str(int(value)) if float(value).is_integer() else str(value)


def _given_path(value: object, example: str) -> object:
    """Refuse an empty path: Path("") is Path("."), the configuration directory itself."""
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"empty path; name {example}")
    return value


def _delivery_mode(value: str) -> str:
    from newsradar.alerts.schedule import parse_delivery

    parse_delivery(value)
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StorageSettings(_Frozen):
    database: Path = Path("data/newsradar.duckdb")
    # Prune article bodies (never matches or counts) older than this; 0 keeps everything.
    # At most a century: maintenance computes now - keep_days, which a million days overflows.
    keep_days: int = Field(default=0, ge=0, le=36_600)
    # How long a writer or reader waits for another process to release the file.
    # At most a day: inf waited forever for a process that may never let go.
    lock_timeout: float = Field(default=60.0, ge=0, le=86_400)
    # Articles written per transaction.
    batch_size: int = Field(default=200, ge=1, le=100_000)

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        # The configuration directory would be the file, which DuckDB then fails to open.
        return _given_path(value, 'the DuckDB file, e.g. "data/newsradar.duckdb"')


class FetchSettings(_Frozen):
    # At most an hour each, as [extract] timeout: inf let a silent server hold a worker forever.
    timeout: float = Field(default=10.0, gt=0, le=3600, description="connect/read/write timeout, s")
    deadline: float = Field(default=30.0, gt=0, le=3600, description="overall limit per request, s")
    max_feed_bytes: int = Field(default=10_000_000, gt=0)
    max_page_bytes: int = Field(default=5_000_000, gt=0)
    max_entries_per_feed: int = Field(default=500, gt=0)
    max_redirects: int = Field(default=5, ge=0, le=20)
    concurrency: int = Field(default=16, ge=1, le=512)
    per_host: int = Field(default=2, ge=1, le=64)
    # At most an hour: the pass sleeps this long between requests to a host; inf never wakes.
    min_host_delay: float = Field(default=0.5, ge=0, le=3600)
    retries: int = Field(default=2, ge=0, le=10, description="in-run retries of transient errors")
    # At most an hour, as min_host_delay: the pass sleeps up to this long before a retry, and a
    # 429 without a readable Retry-After blocks the host this long (inf overflowed the block's
    # timestamp; a huge finite cap slept the pass past any schedule).
    backoff_base: float = Field(default=1.0, ge=0, le=3600)
    backoff_cap: float = Field(default=60.0, ge=0, le=3600)
    # At most a year (as [schedule] stale_hours): next_poll_at = now + interval must not overflow.
    min_poll_interval: float = Field(
        default=300.0, ge=0, le=31_622_400, description="s between polls, floor"
    )
    max_poll_interval: float = Field(
        default=86_400.0, ge=0, le=31_622_400, description="s between polls, cap"
    )
    user_agent: str = "newsradar/0.1"
    contact_url: str = "https://github.com/newsradar/newsradar"
    respect_robots: bool = True
    allow_private_networks: bool = False
    # CIDRs exempt from the private-address block, e.g. ["127.0.0.1/32"].
    allow_networks: tuple[str, ...] = ()
    # At most an hour: waited on with Future.result(timeout=), which inf overflows.
    parse_timeout: float = Field(
        default=10.0, gt=0, le=3600, description="hard limit per feed parse, s"
    )

    @field_validator("user_agent", "contact_url")
    @classmethod
    def _header_text(cls, value: str) -> str:
        # Both go into the User-Agent header, which HTTP allows only in printable ASCII.
        if not all(" " <= c <= "~" for c in value):
            raise ValueError(f"{value!r}: use printable ASCII only (no accents or line breaks)")
        return value

    @field_validator("allow_networks")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not a CIDR like '127.0.0.1/32'") from exc
        return value

    @model_validator(mode="after")
    def _bounds(self) -> FetchSettings:
        # Equal is fine: min = max = 0 makes every feed due on every pass (see health.py).
        _not_above(self, "min_poll_interval", "max_poll_interval")
        _not_above(self, "backoff_base", "backoff_cap")
        return self


class ExtractSettings(_Frozen):
    # At most 64: each worker is a process with up to memory_mb of address space.
    workers: int = Field(default=0, ge=0, le=64, description="0 means one per core")
    # At most an hour: the worker's SIGALRM backstop is int(2 * timeout), which inf overflows.
    timeout: float = Field(default=20.0, gt=0, le=3600, description="hard limit per page, s")
    memory_mb: int = Field(default=1024, ge=64, description="address-space cap per worker")
    fallback_min_chars: int = Field(default=200, ge=0)


class SmtpSettings(_Frozen):
    host: str
    port: int = Field(default=587, gt=0, lt=65536)
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: str | None = None
    sender: str = "newsradar@localhost"
    # At most an hour: it becomes the socket timeout, which inf overflows (OverflowError).
    timeout: float = Field(default=30.0, gt=0, le=3600)

    @property
    def password(self) -> str | None:
        """The password, read from the environment at the moment it is needed."""
        return os.environ.get(PASSWORD_ENV) or None

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @model_validator(mode="after")
    def _auth_needs_tls(self) -> SmtpSettings:
        if self.username and self.tls == "none":
            raise ValueError(
                "username with tls = 'none' would send the password in clear text;"
                " use tls = 'starttls' or 'implicit', or remove username"
            )
        return self


class AlertsSettings(_Frozen):
    outbox_dir: Path = Path("data/outbox")
    # Recipients for watches that name none.
    recipients: tuple[str, ...] = ()
    # Who hears about a pass that failed as a whole.
    operator: str | None = None
    # immediate | hourly | daily at HH:MM | weekly (on Monday at HH:MM)
    delivery: str = "immediate"
    timezone: str = "UTC"
    snippet_chars: int = Field(default=160, ge=20, le=2000)
    # Per-recipient delivery mode overrides, address -> mode.
    delivery_by_recipient: dict[str, str] = Field(default_factory=dict)
    # Back-off of temporary delivery failures: base, 2*base, 4*base ... up to the cap (s).
    # At most a day: a failing digest is still tried daily, and now + base * 2**30 with an
    # unbounded cap overflowed the retry timestamp after ~30 failed attempts.
    retry_backoff: float = Field(default=300.0, ge=0, le=86_400)
    retry_backoff_cap: float = Field(default=3_600.0, ge=0, le=86_400)
    # Snippets shown per story, and stories per mail (the rest go in the next digest).
    max_snippets: int = Field(default=3, ge=1, le=50)
    max_stories: int = Field(default=100, ge=1, le=10_000)
    # Apprise channels: name -> environment variable holding the channel's URL (a secret).
    channels: dict[str, str] = Field(default_factory=dict)
    # Days of the stories-per-day chart in each digest (0: no chart).
    chart_days: int = Field(default=14, ge=0, le=366)

    @field_validator("outbox_dir", mode="before")
    @classmethod
    def _outbox_dir(cls, value: object) -> object:
        # Mail would be written among the TOML files of the configuration directory.
        return _given_path(value, 'the outbox directory, e.g. "data/outbox"')

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_recipient(v) for v in value)

    @field_validator("operator")
    @classmethod
    def _operator(cls, value: str | None) -> str | None:
        return None if value is None else _address(value)

    @field_validator("delivery")
    @classmethod
    def _delivery(cls, value: str) -> str:
        return _delivery_mode(value)

    @field_validator("delivery_by_recipient")
    @classmethod
    def _delivery_by(cls, value: dict[str, str]) -> dict[str, str]:
        return {_recipient(k): _delivery_mode(v) for k, v in value.items()}

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: dict[str, str]) -> dict[str, str]:
        for name, variable in value.items():
            if not _ID.match(name):
                raise ValueError(f"{name!r}: use lowercase letters, digits, '-' and '_'")
            if not re.match(r"^[A-Z_][A-Z0-9_]*$", variable):
                raise ValueError(
                    f"{name} = {variable!r}: give the NAME of an environment variable holding"
                    " the Apprise URL (e.g. NEWSRADAR_CHANNEL_DESK), never the URL itself"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from newsradar.alerts.schedule import parse_timezone

        parse_timezone(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AlertsSettings:
        _not_above(self, "retry_backoff", "retry_backoff_cap")
        # Watches name recipients too: load_config checks those against these channels.
        for key in ("recipients", "delivery_by_recipient"):
            undefined = _undefined_channel(getattr(self, key), self.channels)
            if undefined:
                raise _KeyedError(key, _no_channel(undefined))
        return self


class ScheduleSettings(_Frozen):
    ingest: str = "*/15 * * * *"
    alerts: str = "0 7 * * *"
    maintenance: str = "30 3 * * *"
    timezone: str = "UTC"
    # Port of the Prefect server `newsradar serve` starts on 127.0.0.1 (unless PREFECT_API_URL).
    server_port: int = Field(default=4200, gt=0, lt=65536)
    # Mail [alerts] operator when no pass has stored an article for this long; 0 disables.
    # At most a year: larger values (or inf) overflow timedelta in every pass's health check.
    stale_hours: float = Field(default=24.0, ge=0, le=8784)


class TrendsSettings(_Frozen):
    """Spike detection: a day is a spike when its story count exceeds mean + k * stdev of the
    ``baseline_days`` days before it and is at least ``min_count`` (so 1 -> 3 is not a spike)."""

    k: float = Field(default=3.0, ge=0)
    min_count: int = Field(default=5, ge=1)
    baseline_days: int = Field(default=14, ge=3, le=366)


class FeedConfig(_Frozen):
    name: str
    url: str
    title: str | None = None
    enabled: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lowercase letters, digits, '-' and '_' (e.g. 'dw-asia')")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value, re.I):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class WatchConfig(_Frozen):
    id: str
    name: str | None = None
    terms: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    query: str | None = None
    min_mentions: int = Field(default=1, ge=1)
    recipients: tuple[str, ...] = ()
    delivery: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lowercase letters, digits, '-' and '_' (e.g. 'north-korea')")
        return value

    @property
    def display_name(self) -> str:
        return self.name or self.id

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_recipient(v) for v in value)

    @field_validator("delivery")
    @classmethod
    def _delivery(cls, value: str | None) -> str | None:
        return None if value is None else _delivery_mode(value)


class Settings(_Frozen):
    storage: StorageSettings = StorageSettings()
    fetch: FetchSettings = FetchSettings()
    extract: ExtractSettings = ExtractSettings()
    alerts: AlertsSettings = AlertsSettings()
    smtp: SmtpSettings | None = None
    schedule: ScheduleSettings = ScheduleSettings()
    trends: TrendsSettings = TrendsSettings()


class Config(_Frozen):
    """Everything a pass needs, validated. Paths are absolute."""

    directory: Path
    storage: StorageSettings
    fetch: FetchSettings
    extract: ExtractSettings
    alerts: AlertsSettings
    smtp: SmtpSettings | None
    schedule: ScheduleSettings
    trends: TrendsSettings = TrendsSettings()
    feeds: tuple[FeedConfig, ...]
    watches: tuple[WatchConfig, ...]

    @property
    def watchlist_path(self) -> Path:
        return self.directory / WATCHLIST_FILE


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found; create it or pass --config DIR") from None
    except OSError as exc:  # a directory, no permission, an I/O error
        raise ConfigError(
            str(path), "", f"cannot read it ({exc.strerror}); make it a readable file"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            str(path), "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML ({exc})") from exc


def _raise_validation(path: Path, exc: ValidationError, prefix: str = "") -> None:
    err = exc.errors()[0]
    loc = err["loc"]
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, _KeyedError):
        loc = (*loc, cause.key)
    key = (prefix + ".".join(str(p) for p in loc)).rstrip(".")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key; check the spelling against docs/configuration.md"
    raise ConfigError(str(path), key, msg) from exc


def _resolved_storage(path: Path, storage: StorageSettings) -> StorageSettings:
    """``storage`` with its database resolved against the directory of ``path``."""
    database = (path.parent.resolve() / storage.database).resolve()
    if database.is_dir():
        # Accepted, the pass failed later opening it (exit 1). A path that does not exist
        # yet is fine: the first pass creates it.
        raise ConfigError(
            str(path),
            "storage.database",
            f'{database} is a directory; name the DuckDB file, e.g. "data/newsradar.duckdb"',
        )
    return storage.model_copy(update={"database": database})


def load_storage(directory: Path) -> StorageSettings:
    """Only ``[storage]`` of ``newsradar.toml``: where the database is while another part of the
    configuration is broken (a served pass still records its failure there)."""
    path = directory / SETTINGS_FILE
    raw = _read_toml(path).get("storage", {})
    try:
        storage = StorageSettings.model_validate(raw)
    except ValidationError as exc:
        _raise_validation(path, exc, prefix="storage.")
    return _resolved_storage(path, storage)


def load_settings(directory: Path) -> Settings:
    """Validate ``newsradar.toml``; relative paths resolve against its directory."""
    path = directory / SETTINGS_FILE
    raw = _read_toml(path)
    # Only a table can hold a password; anything else is pydantic's to refuse below.
    if isinstance(raw.get("smtp"), dict) and "password" in raw["smtp"]:
        raise ConfigError(
            str(path), "smtp.password", f"never store secrets in TOML; set {PASSWORD_ENV}"
        )
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        _raise_validation(path, exc)
    # Late import: schedules reads Config from this module. Every command checks the
    # schedule, so a typo there exits 2 today, not when `newsradar serve` next starts.
    from newsradar.schedules import DEPLOYMENTS, parse_schedule

    for name in DEPLOYMENTS:
        schedule = settings.schedule
        parse_schedule(
            getattr(schedule, name), schedule.timezone, key=f"schedule.{name}", file=str(path)
        )
    base = path.parent.resolve()
    storage = _resolved_storage(path, settings.storage)
    alerts = settings.alerts.model_copy(
        update={"outbox_dir": (base / settings.alerts.outbox_dir).resolve()}
    )
    return settings.model_copy(update={"storage": storage, "alerts": alerts})


def _tables(path: Path, raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The ``[[name]]`` tables of a file; ``name = 3`` or a single ``[name]`` is refused."""
    tables = raw.get(name, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(
            str(path), name, f"write each {name} as a [[{name}]] table (double brackets)"
        )
    return tables


def load_feeds(path: Path) -> tuple[FeedConfig, ...]:
    """Validate ``feeds.toml``: ``[[feed]]`` tables with at least ``name`` and ``url``."""
    raw = _read_toml(path)
    unknown = set(raw) - {"feed"}
    if unknown:
        raise ConfigError(str(path), sorted(unknown)[0], "unknown table; use [[feed]]")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for i, table in enumerate(_tables(path, raw, "feed")):
        label = f"feed '{table.get('name', i)}'"
        try:
            feed = FeedConfig.model_validate(table)
        except ValidationError as exc:
            _raise_validation(path, exc, prefix=f"{label}.")
        if feed.name in seen:
            raise ConfigError(str(path), f"{label}.name", "duplicate name; names must be unique")
        seen.add(feed.name)
        feeds.append(feed)
    return tuple(feeds)


def load_watchlist(path: Path) -> tuple[WatchConfig, ...]:
    """Validate ``watchlist.toml``: ``[[watch]]`` tables with an ``id`` and terms or a query."""
    raw = _read_toml(path)
    unknown = set(raw) - {"watch"}
    if unknown:
        raise ConfigError(str(path), sorted(unknown)[0], "unknown table; use [[watch]]")
    watches: list[WatchConfig] = []
    seen: set[str] = set()
    for i, table in enumerate(_tables(path, raw, "watch")):
        label = f"watch '{table.get('id', i)}'"
        try:
            watch = WatchConfig.model_validate(table)
        except ValidationError as exc:
            _raise_validation(path, exc, prefix=f"{label}.")
        if watch.id in seen:
            raise ConfigError(str(path), f"{label}.id", "duplicate id; ids must be unique")
        if not watch.terms and not watch.query:
            raise ConfigError(str(path), label, "give it `terms` or a `query` (or both)")
        seen.add(watch.id)
        watches.append(watch)
    return tuple(watches)


def load_config(directory: Path | str = "config") -> Config:
    """Load and validate the three files of a configuration directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(str(directory), "", "not a directory; pass --config DIR")
    settings = load_settings(directory)
    feeds = load_feeds(directory / FEEDS_FILE)
    watchlist = directory / WATCHLIST_FILE
    watches = load_watchlist(watchlist)
    for watch in watches:
        undefined = _undefined_channel(watch.recipients, settings.alerts.channels)
        if undefined:
            raise ConfigError(
                str(watchlist), f"watch '{watch.id}'.recipients", _no_channel(undefined)
            )
    return Config(
        directory=directory.resolve(),
        storage=settings.storage,
        fetch=settings.fetch,
        extract=settings.extract,
        alerts=settings.alerts,
        smtp=settings.smtp,
        schedule=settings.schedule,
        trends=settings.trends,
        feeds=feeds,
        watches=watches,
    )
