"""Project settings: `config.yml`, then environment variables, then CLI flags, into one
frozen Settings object. Bad values are errors that name the file and line or the variable."""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from motia.errors import SettingsError

CONFIG_FILE = "config.yml"
Mode = Literal["dev", "start"]
LOG_LEVELS = ("debug", "info", "warn", "error")


@dataclass(frozen=True)
class CorsSettings:
    origins: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("*",)
    headers: tuple[str, ...] = ("*",)
    credentials: bool = False
    max_age: int = 600


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    mode: Mode = "dev"
    host: str = "127.0.0.1"
    port: int = 3000
    log_level: str = "info"
    log_format: Literal["pretty", "json"] = "pretty"
    state_adapter: Literal["sqlite", "memory", "redis"] = "sqlite"
    queue_adapter: Literal["sqlite", "memory", "redis"] = "sqlite"
    # Stream items live with state unless chosen on their own.
    streams_adapter: Literal["sqlite", "memory", "redis"] | None = None
    # redis://[user:password@]host:port/db; setting it moves every adapter not chosen
    # explicitly to Redis, so many processes share one deployment.
    redis_url: str | None = None
    redis_prefix: str = "motia"
    # A lease is renewed every third of this while its handler runs; the messages of a
    # worker that died become visible again within it.
    queue_lease_seconds: float = 10.0
    # How often an idle worker looks for messages other processes made visible.
    queue_poll_interval: float = 1.0
    data_dir: Path = Path(".motia")
    sqlite_synchronous: str = "normal"
    max_body_size: int = 10 * 1024 * 1024
    # A request's line and headers: larger or more get 431; a client that has not sent them
    # all this many seconds after it started is disconnected (slowloris).
    max_header_size: int = 64 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    # Bytes of stream frames waiting for one slow client, and for all of them together;
    # a client that would pass either is dropped (WebSocket close code 4008).
    streams_client_buffer: int = 4 * 1024 * 1024
    streams_total_buffer: int = 256 * 1024 * 1024
    cors: CorsSettings = field(default_factory=CorsSettings)
    cron_timezone: str = "UTC"
    shutdown_timeout: float = 10.0
    sync_handler_threads: int = 32
    # The most threads of that pool one step may hold at once; None: half of the pool.
    sync_handler_threads_per_step: int | None = None
    # Cancel an async API handler whose client disconnected before the answer.
    cancel_on_disconnect: bool = True
    event_concurrency: int = 20
    # The internal API under /__motia/api (workbench, dead letters): on in dev, off in
    # start unless enabled; a token, when set, is required on every call.
    # Logs and traces kept for the workbench are forgotten after this many seconds.
    retention_seconds: float = 3 * 24 * 3600.0
    workbench_enabled: bool | None = None  # None: on in dev, on in start when a token is set
    workbench_token: str | None = None
    # Host names (besides localhost, 127.0.0.1 and ::1) under which the workbench, the
    # internal API and /emit answer; checked in dev always, in start only when set.
    workbench_allowed_hosts: tuple[str, ...] = ()
    # A JavaScript/Ruby runner that does not answer a ping for this long is restarted (a
    # handler blocks it); 0 turns the check off, for steps that compute synchronously.
    runner_ping_timeout: float = 30.0

    @property
    def internal_api_enabled(self) -> bool:
        if self.workbench_enabled is not None:
            return self.workbench_enabled
        return self.mode == "dev" or bool(self.workbench_token)

    @property
    def streams_store(self) -> str:
        return self.streams_adapter or self.state_adapter

    @property
    def uses_redis(self) -> bool:
        return "redis" in (self.state_adapter, self.queue_adapter, self.streams_store)

    @property
    def database_path(self) -> Path:
        base = self.data_dir if self.data_dir.is_absolute() else self.project_dir / self.data_dir
        return base / "motia.db"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class _CorsFile(_FileModel):
    origins: list[str] | None = None
    methods: list[str] | None = None
    headers: list[str] | None = None
    credentials: bool | None = None
    max_age: int | None = Field(default=None, ge=0)


class _HttpFile(_FileModel):
    max_body_size: int | str | None = None
    max_header_size: int | str | None = None
    max_headers: int | None = Field(default=None, ge=1, le=10_000)
    header_timeout: float | None = Field(default=None, gt=0, le=3600)
    cancel_on_disconnect: bool | None = None
    cors: _CorsFile | None = None


class _StateFile(_FileModel):
    adapter: Literal["sqlite", "memory", "redis"] | None = None
    sqlite_synchronous: Literal["off", "normal", "full", "extra"] | None = None


class _QueueFile(_FileModel):
    adapter: Literal["sqlite", "memory", "redis"] | None = None
    lease_seconds: float | None = Field(default=None, ge=0.3, le=3600)
    poll_interval: float | None = Field(default=None, gt=0, le=60)


class _StreamsFile(_FileModel):
    adapter: Literal["sqlite", "memory", "redis"] | None = None
    client_buffer: int | str | None = None
    total_buffer: int | str | None = None


class _RedisFile(_FileModel):
    url: str | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    db: int | None = Field(default=None, ge=0)
    username: str | None = None
    password: str | None = None
    prefix: str | None = Field(default=None, min_length=1)

    def to_url(self) -> str | None:
        if self.url:
            return self.url
        if self.host is None and self.port is None:
            return None
        auth = ""
        if self.password is not None:
            auth = f"{quote(self.username or '')}:{quote(self.password)}@"
        return f"redis://{auth}{self.host or '127.0.0.1'}:{self.port or 6379}/{self.db or 0}"


class _RunnersFile(_FileModel):
    ping_timeout: float | None = Field(default=None, ge=0, le=86400)


class _WorkbenchFile(_FileModel):
    enabled: bool | None = None
    token: str | None = None
    retention: float | None = Field(default=None, gt=0)  # seconds of logs and traces
    allowed_hosts: list[str] | None = None


class _CronFile(_FileModel):
    timezone: str | None = None


class _EventsFile(_FileModel):
    concurrency: int | None = Field(default=None, ge=1, le=10_000)


class _ConfigFile(_FileModel):
    host: str | None = None
    port: int | None = Field(default=None, ge=0, le=65535)
    log_level: str | None = None
    log_format: Literal["pretty", "json"] | None = None
    data_dir: str | None = None
    shutdown_timeout: float | None = Field(default=None, ge=0)
    sync_handler_threads: int | None = Field(default=None, ge=1, le=1024)
    sync_handler_threads_per_step: int | None = Field(default=None, ge=1, le=1024)
    http: _HttpFile | None = None
    state: _StateFile | None = None
    queue: _QueueFile | None = None
    cron: _CronFile | None = None
    events: _EventsFile | None = None
    workbench: _WorkbenchFile | None = None
    redis: _RedisFile | None = None
    streams: _StreamsFile | None = None
    runners: _RunnersFile | None = None


def load_settings(
    project_dir: Path,
    mode: Mode,
    environ: Mapping[str, str] | None = None,
    **flags: Any,
) -> Settings:
    """Build the settings for one run: defaults < config.yml < environment < flags."""
    environ = os.environ if environ is None else environ
    project_dir = project_dir.resolve()
    if not project_dir.is_dir():
        raise SettingsError(f"project folder {project_dir} does not exist")
    settings = Settings(
        project_dir=project_dir,
        mode=mode,
        host="127.0.0.1" if mode == "dev" else "0.0.0.0",
        log_format="pretty" if mode == "dev" else "json",
        cors=CorsSettings(origins=("*",)) if mode == "dev" else CorsSettings(),
    )
    chosen: set[str] = set()  # adapter settings the user chose, so Redis leaves them alone
    settings = _apply_file(settings, project_dir / CONFIG_FILE, chosen)
    settings = _apply_environment(settings, environ, chosen)
    chosen |= {name for name, value in flags.items() if value is not None}
    settings = settings.with_overrides(**flags)
    settings = _redis_by_default(settings, chosen)
    _check(settings)
    return settings


ADAPTER_SETTINGS = ("state_adapter", "queue_adapter", "streams_adapter")


def _redis_by_default(settings: Settings, chosen: set[str]) -> Settings:
    """With a Redis URL, every adapter that was not chosen explicitly uses Redis."""
    if not settings.redis_url:
        return settings
    return settings.with_overrides(
        **{name: "redis" for name in ADAPTER_SETTINGS if name not in chosen}
    )


def _apply_file(settings: Settings, path: Path, chosen: set[str]) -> Settings:
    if not path.is_file():
        return settings
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SettingsError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        return settings
    if not isinstance(data, dict):
        raise SettingsError(f"{path}:1: config.yml must be a mapping of settings")
    try:
        parsed = _ConfigFile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            line = _line_of(node, loc)
            what = "unknown setting" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"{path}:{line}: '{'.'.join(loc)}': {what}")
        raise SettingsError("\n".join(lines)) from None

    changes: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "log_level": parsed.log_level,
        "log_format": parsed.log_format,
        "data_dir": Path(parsed.data_dir) if parsed.data_dir else None,
        "shutdown_timeout": parsed.shutdown_timeout,
        "sync_handler_threads": parsed.sync_handler_threads,
        "sync_handler_threads_per_step": parsed.sync_handler_threads_per_step,
    }
    if parsed.state:
        changes["state_adapter"] = parsed.state.adapter
        changes["sqlite_synchronous"] = parsed.state.sqlite_synchronous
    if parsed.queue:
        changes["queue_adapter"] = parsed.queue.adapter
        changes["queue_lease_seconds"] = parsed.queue.lease_seconds
        changes["queue_poll_interval"] = parsed.queue.poll_interval
    if parsed.redis:
        changes["redis_url"] = parsed.redis.to_url()
        changes["redis_prefix"] = parsed.redis.prefix
    if parsed.streams:
        changes["streams_adapter"] = parsed.streams.adapter
        for key, name in (("client_buffer", "clientBuffer"), ("total_buffer", "totalBuffer")):
            value = getattr(parsed.streams, key)
            if value is not None:
                changes[f"streams_{key}"] = parse_size(value, f"{path}: streams.{name}")
    if parsed.workbench:
        changes["workbench_enabled"] = parsed.workbench.enabled
        changes["workbench_token"] = parsed.workbench.token
        changes["retention_seconds"] = parsed.workbench.retention
        if parsed.workbench.allowed_hosts is not None:
            changes["workbench_allowed_hosts"] = _host_names(parsed.workbench.allowed_hosts)
    if parsed.runners:
        changes["runner_ping_timeout"] = parsed.runners.ping_timeout
    if parsed.cron:
        changes["cron_timezone"] = parsed.cron.timezone
    if parsed.events:
        changes["event_concurrency"] = parsed.events.concurrency
    if parsed.http:
        changes["cancel_on_disconnect"] = parsed.http.cancel_on_disconnect
        if parsed.http.max_body_size is not None:
            changes["max_body_size"] = parse_size(
                parsed.http.max_body_size, f"{path}: http.maxBodySize"
            )
        if parsed.http.max_header_size is not None:
            changes["max_header_size"] = parse_size(
                parsed.http.max_header_size, f"{path}: http.maxHeaderSize"
            )
        changes["max_headers"] = parsed.http.max_headers
        changes["header_timeout"] = parsed.http.header_timeout
        if parsed.http.cors:
            cors = parsed.http.cors
            changes["cors"] = CorsSettings(
                origins=tuple(cors.origins) if cors.origins is not None else settings.cors.origins,
                methods=tuple(cors.methods) if cors.methods is not None else settings.cors.methods,
                headers=tuple(cors.headers) if cors.headers is not None else settings.cors.headers,
                credentials=cors.credentials if cors.credentials is not None else False,
                max_age=cors.max_age if cors.max_age is not None else settings.cors.max_age,
            )
    chosen |= {name for name, value in changes.items() if value is not None}
    return settings.with_overrides(**changes)


def _line_of(node: Any, loc: list[str]) -> int:
    """The 1-based line of the deepest key of `loc` that exists in the YAML document."""
    line = 1
    current = node
    for part in loc:
        if not isinstance(current, yaml.MappingNode):
            break
        for key_node, value_node in current.value:
            if key_node.value == part:
                line = key_node.start_mark.line + 1
                current = value_node
                break
        else:
            break
    return line


ENVIRONMENT = {
    "MOTIA_HOST": "host",
    "MOTIA_PORT": "port",
    "LOG_LEVEL": "log_level",
    "MOTIA_LOG_LEVEL": "log_level",
    "MOTIA_LOG_FORMAT": "log_format",
    "MOTIA_STATE_ADAPTER": "state_adapter",
    "MOTIA_QUEUE_ADAPTER": "queue_adapter",
    "MOTIA_DATA_DIR": "data_dir",
    "MOTIA_MAX_BODY_SIZE": "max_body_size",
    "MOTIA_CRON_TIMEZONE": "cron_timezone",
    "MOTIA_SHUTDOWN_TIMEOUT": "shutdown_timeout",
    "MOTIA_WORKBENCH_TOKEN": "workbench_token",
    "MOTIA_WORKBENCH_ALLOWED_HOSTS": "workbench_allowed_hosts",
    "MOTIA_STREAMS_ADAPTER": "streams_adapter",
    "REDIS_URL": "redis_url",
    "MOTIA_REDIS_URL": "redis_url",  # after REDIS_URL: the Motia-specific name wins
    "MOTIA_REDIS_PREFIX": "redis_prefix",
}


def _apply_environment(
    settings: Settings, environ: Mapping[str, str], chosen: set[str]
) -> Settings:
    changes: dict[str, Any] = {}
    for variable, name in ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            if name == "port":
                changes[name] = int(raw)
            elif name == "shutdown_timeout":
                changes[name] = float(raw)
            elif name == "max_body_size":
                changes[name] = parse_size(raw, variable)
            elif name == "data_dir":
                changes[name] = Path(raw)
            elif name == "workbench_allowed_hosts":
                changes[name] = _host_names(raw.split(","))
            elif name in ("cron_timezone", "workbench_token", "redis_url", "redis_prefix"):
                changes[name] = raw
            else:
                changes[name] = raw.lower()
        except ValueError:
            raise SettingsError(f"environment variable {variable}={raw!r} is not valid") from None
    chosen |= set(changes)
    return settings.with_overrides(**changes)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}


def _host_names(names: list[str]) -> tuple[str, ...]:
    """Host names (no port), lower case, IPv6 addresses without their brackets."""
    return tuple(name.strip().lower().strip("[]") for name in names if name.strip())


def redis_location(url: str) -> str:
    """host:port/db of a Redis URL, without credentials, for messages."""
    parsed = urlparse(url)
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}{parsed.path or '/0'}"


def parse_size(value: int | str, where: str) -> int:
    """`1048576`, `512kb` or `10mb` as bytes."""
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if match is None:
            raise SettingsError(f"{where}: {value!r} is not a size such as 1048576, 512kb or 10mb")
        size = int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])
    if size <= 0:
        raise SettingsError(f"{where}: the size must be positive")
    return size


def _check(settings: Settings) -> None:
    object.__setattr__(settings, "log_level", settings.log_level.lower())
    if settings.log_level == "warning":
        object.__setattr__(settings, "log_level", "warn")
    if settings.log_level not in LOG_LEVELS:
        raise SettingsError(
            f"log level {settings.log_level!r} is not one of {', '.join(LOG_LEVELS)}"
        )
    if not 0 <= settings.port <= 65535:
        raise SettingsError(f"port {settings.port} is not between 0 and 65535")
    for name in ADAPTER_SETTINGS:
        value = getattr(settings, name)
        if value is not None and value not in ("sqlite", "memory", "redis"):
            label = name.replace("_", " ")
            raise SettingsError(f"{label} {value!r} is not one of: sqlite, memory, redis")
    if settings.uses_redis and not settings.redis_url:
        raise SettingsError(
            "a Redis adapter is chosen but no Redis is configured: set MOTIA_REDIS_URL "
            "(or REDIS_URL, or redis.url in config.yml), e.g. redis://127.0.0.1:6379/0"
        )
    if settings.redis_url and not settings.redis_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise SettingsError(
            f"the Redis URL {settings.redis_url!r} must start with redis://, rediss:// or unix://"
        )
    if settings.log_format not in ("pretty", "json"):
        raise SettingsError(f"log format {settings.log_format!r} is not one of: pretty, json")
    if settings.workbench_token is not None and len(settings.workbench_token) < 16:
        raise SettingsError("the workbench token must be at least 16 characters long")
    if settings.mode == "start" and settings.internal_api_enabled and not settings.workbench_token:
        raise SettingsError(
            "the workbench and internal API need a token in `motia start`: set "
            "MOTIA_WORKBENCH_TOKEN (or workbench.token in config.yml), or disable it"
        )
    try:
        zoneinfo.ZoneInfo(settings.cron_timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"cron timezone {settings.cron_timezone!r} is not a known IANA time zone "
            "(for example 'UTC' or 'Europe/Berlin')"
        ) from None
