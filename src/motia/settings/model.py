"""The Settings of one run. Each field that is a setting carries its row (`setting(...)`):
its `config.yml` key, kind and bounds, defaults per mode and reference text. Its environment
variable is derived from the key. The file schema, the environment reader, validation and
the configuration reference in docs/configuration.md are all built from these rows."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from motia.redaction import DEFAULT_KEYS
from motia.settings.kinds import (
    Choice,
    Flag,
    Folder,
    HeaderValues,
    Integer,
    Names,
    PostgresUrl,
    Range,
    RedisUrl,
    Seconds,
    Size,
    Text,
    TimeZone,
)
from motia.settings.networks import Networks
from motia.settings.rate_limit import LimitKey, Period
from motia.settings.row import METADATA, Setting, setting
from motia.settings.sections import AuthSettings, CorsSettings

CONFIG_FILE = "config.yml"
Mode = Literal["dev", "start"]
LOG_LEVELS = ("debug", "info", "warn", "error")
Store = Literal["sqlite", "memory", "redis", "postgres"]
STORES = Choice(("sqlite", "memory", "redis", "postgres"))
WORKBENCH = "[the workbench and internal API](#the-workbench-and-internal-api)"


@dataclass(frozen=True)
class Settings:
    project_dir: Path
    mode: Mode = "dev"
    host: str = setting(
        "127.0.0.1",
        start="0.0.0.0",
        key="host",
        kind=Text(),
        doc="Interface the HTTP server binds to.",
    )
    port: int = setting(
        3000, key="port", kind=Integer(Range(0, 65535)), doc="Port of the HTTP server."
    )
    log_level: str = setting(
        "info",
        key="logLevel",
        kind=Choice(LOG_LEVELS, aliases=(("warning", "warn"),)),
        env_aliases=("LOG_LEVEL",),
        doc="Records below this level are dropped.",
    )
    log_format: Literal["pretty", "json"] = setting(
        "pretty",
        start="json",
        key="logFormat",
        kind=Choice(("pretty", "json")),
        doc="`pretty`: one readable line per record. `json`: one JSON object per line.",
    )
    log_redact: tuple[str, ...] = setting(
        DEFAULT_KEYS,
        key="logs.redact",
        kind=Names(),
        shown="`password`, `token`, `authorization`, `cookie`, `api_key` and "
        "[more](monitoring.md#logs)",
        doc="Keys whose values are logged, stored and reported as `[redacted]`, at any depth "
        "of a log record's fields. Case and `-`/`_` do not matter; `*` and `?` are "
        "wildcards (`*_token`). Replaces the default list; `[]`: nothing is masked.",
    )
    log_redact_also: tuple[str, ...] = setting(
        (),
        key="logs.redactAlso",
        kind=Names(),
        doc="Keys masked as well as those of `logs.redact`.",
    )
    data_dir: Path = setting(
        Path(".motia"),
        key="dataDir",
        kind=Folder(),
        doc="Folder of the SQLite file `motia.db`. A relative path is relative to the "
        "project folder.",
    )
    shutdown_timeout: float = setting(
        10.0,
        key="shutdownTimeout",
        kind=Seconds(Range(0)),
        doc="On stop, how long running handlers may take to finish, counted from the signal. "
        "Handlers still running then are cancelled and their events handed back; the process "
        "ends within about this time whatever the handlers do (see "
        "[steps](steps.md#handlers-that-exit-or-hang)). `0`: no wait.",
    )
    sync_handler_threads: int = setting(
        32,
        key="syncHandlerThreads",
        kind=Integer(Range(1, 1024)),
        doc="Threads that run plain `def` handlers.",
    )
    # None: half of the pool.
    sync_handler_threads_per_step: int | None = setting(
        None,
        key="syncHandlerThreadsPerStep",
        kind=Integer(Range(1, 1024)),
        shown="half of `syncHandlerThreads` (16)",
        doc="The most of those threads one step holds at once, so a step whose handlers hang "
        "cannot starve the others; see [steps](steps.md#handlers-that-exit-or-hang). Set it "
        "to `syncHandlerThreads` to let one step use the whole pool.",
    )
    # None: one per CPU core.
    executor_processes: int | None = setting(
        None,
        key="executors.processes",
        kind=Integer(Range(1, 1024)),
        shown="the number of CPU cores",
        doc='Worker processes that run the handlers of steps with `"executor": "process"`, '
        "started on first use; see [scaling](scaling.md#one-machine-workers-and-executors).",
    )
    loop_block_warning: float = setting(
        0.1,
        start=0.0,
        key="loopBlockWarning",
        kind=Seconds(Range(0)),
        doc="An `async def` handler that holds the event loop this long without awaiting "
        "gets a warning naming the step and the time. `0`: not measured (no cost).",
    )
    max_body_size: int = setting(
        10 * 1024 * 1024,
        key="http.maxBodySize",
        kind=Size(),
        doc="Larger request bodies get a 413 answer; a step's `maxBodySize` overrides it. "
        "`kb`/`mb`/`gb` are powers of 1000, `kib`/`mib`/`gib` powers of 1024.",
    )
    max_json_depth: int = setting(
        64,
        key="http.maxJsonDepth",
        kind=Integer(Range(1, 1024)),
        doc="JSON request bodies that nest objects and arrays deeper get a 400 answer. See "
        "[security](security.md#body-limits).",
    )
    # A request's line and headers: larger or more get 431; a client that has not sent them
    # all this many seconds after it started is disconnected (slowloris).
    max_header_size: int = setting(
        64 * 1024,
        key="http.maxHeaderSize",
        kind=Size(),
        doc="Largest request line plus headers. A larger request gets `431 Request Header "
        "Fields Too Large` and the connection is closed, before the request reaches any step.",
    )
    max_headers: int = setting(
        100,
        key="http.maxHeaders",
        kind=Integer(Range(1, 10_000)),
        doc="Most headers in one request; more get `431`.",
    )
    header_timeout: float = setting(
        10.0,
        key="http.headerTimeout",
        kind=Seconds(Range(0, 3600, above=True)),
        doc="Time a client has, from the first byte of a request (or from connecting), to send "
        "all of its headers. Past it, the connection is closed, with `408 Request Timeout` if "
        "part of a request had arrived. Protects against clients that hold connections open "
        'by sending headers slowly ("slowloris"). Bodies are not timed by it.',
    )
    # Cancel an async API handler whose client disconnected before the answer.
    cancel_on_disconnect: bool = setting(
        True,
        key="http.cancelOnDisconnect",
        kind=Flag(),
        doc="Cancel an `async def` API handler when its client disconnects before the answer; "
        "its emits are dropped. `false`: the handler runs to its end and its emits are "
        "committed.",
    )
    request_timeout: float = setting(
        0.0,
        key="http.requestTimeout",
        kind=Seconds(Range(0, 86400)),
        doc="How long an API handler may take to answer; past it the client gets `504` and the "
        "handler's emits are dropped. A step's `timeout` overrides it. `0`: no limit. See "
        "[security](security.md#request-timeouts).",
    )
    security_headers: bool = setting(
        False,
        start=True,
        key="http.securityHeaders.enabled",
        kind=Flag(),
        doc="Add security headers (`X-Content-Type-Options`, `Referrer-Policy`, "
        "`X-Frame-Options`, ...) to API answers; see "
        "[security](security.md#security-headers).",
    )
    security_header_values: tuple[tuple[str, str | None], ...] = setting(
        (),
        key="http.securityHeaders.headers",
        kind=HeaderValues(),
        doc="Security headers to set or replace, by name; `false` removes one of the "
        "defaults. From the environment, a JSON object.",
    )
    compression: bool = setting(
        True,
        key="http.compression.enabled",
        kind=Flag(),
        doc="Compress API answers for clients that accept it: gzip, and Brotli or Zstandard "
        "when the `brotli` or `zstandard` module is installed. See "
        "[security](security.md#compression).",
    )
    compression_min_size: int = setting(
        1024,
        key="http.compression.minSize",
        kind=Size(),
        doc="Smaller answers are sent uncompressed.",
    )
    # The rate limit of every API step that does not set its own `rateLimit`: off unless
    # `requests` is set. See docs/security.md.
    rate_limit_requests: int | None = setting(
        None,
        key="http.rateLimit.requests",
        kind=Integer(Range(1, 1_000_000_000)),
        shown="none (no default limit)",
        doc="Requests each client may make to each API step per `http.rateLimit.per`; more "
        "get `429 Too Many Requests`. A step's own `rateLimit` replaces it; "
        "`rateLimit: false` exempts a step. See [rate limits](security.md#rate-limits).",
    )
    rate_limit_per: float = setting(
        60.0,
        key="http.rateLimit.per",
        kind=Period(),
        doc="The period of `http.rateLimit.requests`.",
    )
    rate_limit_by: str = setting(
        "ip",
        key="http.rateLimit.by",
        kind=LimitKey(),
        doc="What requests are counted by: the client address (`ip`), a header "
        "(`header:x-api-key`) or the authenticated subject (`subject`).",
    )
    rate_limit_on_store_failure: str = setting(
        "open",
        key="http.rateLimit.onStoreFailure",
        kind=Choice(("open", "closed")),
        doc="When Redis, which keeps the counts, cannot be reached: `open` lets requests "
        "through, `closed` answers `503`. Rate limits resume by themselves once it is back.",
    )
    trusted_proxies: tuple[str, ...] = setting(
        (),
        key="http.trustedProxies",
        kind=Networks(),
        doc="Addresses or networks (`10.0.0.0/8`) of the reverse proxies in front of the "
        "server. Only from them are `X-Forwarded-For`, `Forwarded` and `X-Forwarded-Proto` "
        "believed. See [trusted proxies](security.md#trusted-proxies).",
    )
    # A caller's W3C traceparent names the trace its request joins.
    accept_traceparent: bool = setting(
        True,
        key="http.acceptTraceparent",
        kind=Flag(),
        doc="Continue the caller's trace when a request carries a valid W3C `traceparent` "
        "header: its trace id becomes the request's (`ctx.trace_id`, the logs, the state "
        "group of steps that key state by trace id). `false` where callers are not trusted "
        "to pick it: every request starts a trace of its own.",
    )
    cors: CorsSettings = field(default_factory=CorsSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    state_adapter: Store = setting(
        "sqlite",
        key="state.adapter",
        kind=STORES,
        doc="Where `ctx.state` keeps values. `memory` loses them when the server stops; "
        "`redis` needs `redis.url`, `postgres` needs `database.url`.",
    )
    sqlite_synchronous: str = setting(
        "normal",
        key="state.sqliteSynchronous",
        kind=Choice(("off", "normal", "full", "extra")),
        doc="SQLite's `synchronous` setting, for state and the queue; see "
        "[SQLite data](#sqlite-data).",
    )
    queue_adapter: Store = setting(
        "sqlite",
        key="queue.adapter",
        kind=STORES,
        doc="Where queued events and dead letters are kept. `memory` loses them when the "
        "server stops. See [the queue](#the-queue).",
    )
    # A lease is renewed every third of this while its handler runs; the messages of a
    # worker that died become visible again within it.
    queue_lease_seconds: float = setting(
        10.0,
        key="queue.leaseSeconds",
        kind=Seconds(Range(0.3, 3600)),
        doc="How long a lease on a message lasts; running handlers renew it every third of "
        "this. The messages of a server that died come back within this time.",
    )
    # How often an idle worker looks for messages other processes made visible.
    queue_poll_interval: float = setting(
        1.0,
        key="queue.pollInterval",
        kind=Seconds(Range(0, 60, above=True)),
        doc="How often an idle step looks for messages that another process made visible "
        "(for example `motia dlq redrive`).",
    )
    cron_timezone: str = setting(
        "UTC",
        key="cron.timezone",
        kind=TimeZone(),
        doc="Time zone in which cron expressions are read, e.g. `Europe/Berlin`.",
    )
    event_concurrency: int = setting(
        20,
        key="events.concurrency",
        kind=Integer(Range(1, 10_000)),
        doc="Events one event step may handle at once, unless the step sets "
        "`infrastructure.queue.concurrency`.",
    )
    events_atomic_state: bool = setting(
        True,
        key="events.atomicState",
        kind=Flag(),
        doc="On PostgreSQL, an event handler's state writes commit in the transaction that "
        "completes its message, with its emits: a failed attempt leaves no state behind. "
        "Off: they take effect at once, as on the other stores.",
    )
    sentry_dsn: str | None = setting(
        None,
        key="sentry.dsn",
        kind=Text(min_length=1, secret=True),
        env_aliases=("SENTRY_DSN",),
        doc="Report handler failures, dead letters and 500 answers to Sentry. Needs "
        "`pip install 'motia-python[sentry]'`; see [error tracking](monitoring.md"
        "#error-tracking-sentry).",
    )
    sentry_request_bodies: bool = setting(
        False,
        key="sentry.requestBodies",
        kind=Flag(),
        doc="Attach the request body, secret keys masked, to the report of a failed API request.",
    )
    metrics_enabled: bool = setting(
        False,
        dev=True,
        key="metrics.enabled",
        kind=Flag(),
        doc="Serve Prometheus metrics at `/__motia/metrics`. See [monitoring](monitoring.md).",
    )
    metrics_token: str | None = setting(
        None,
        key="metrics.token",
        kind=Text(min_length=16, secret=True),
        doc="When set, a scrape must send it as `Authorization: Bearer <token>`.",
    )
    # The internal API under /__motia/api (workbench, dead letters): on in dev, off in
    # start unless enabled; a token, when set, is required on every call.
    workbench_enabled: bool | None = setting(
        None,
        key="workbench.enabled",
        kind=Flag(),
        shown="on in `motia dev`; in `motia start`, on when a token is set",
        doc="Serve the workbench and the internal API under `/__motia/api` (queues, dead "
        f"letters). See {WORKBENCH}.",
    )
    workbench_token: str | None = setting(
        None,
        key="workbench.token",
        kind=Text(min_length=16, secret=True),
        doc="When set, every call to the internal API must carry it.",
    )
    # Host names (besides localhost, 127.0.0.1 and ::1) under which the workbench, the
    # internal API and /emit answer; checked in dev always, in start only when set.
    workbench_allowed_hosts: tuple[str, ...] = setting(
        (),
        key="workbench.allowedHosts",
        kind=Names(hosts=True),
        doc="Host names, besides `localhost`, `127.0.0.1` and `::1`, under which the "
        "workbench, the internal API and `POST /emit` answer (the `Host` header, without the "
        'port). Checked in `motia dev` always, in `motia start` only when set. `"*"` allows '
        f"any. See {WORKBENCH}.",
    )
    # Logs and traces kept for the workbench are forgotten after this many seconds.
    retention_seconds: float = setting(
        3 * 24 * 3600.0,
        key="workbench.retention",
        kind=Seconds(Range(0, above=True)),
        shown="`259200` (3 days)",
        doc="How long logs and traces are kept for the workbench.",
    )
    # redis://[user:password@]host:port/db; setting it moves every adapter not chosen
    # explicitly to Redis, so many processes share one deployment.
    redis_url: str | None = setting(
        None,
        key="redis.url",
        kind=RedisUrl(),
        env_aliases=("REDIS_URL",),
        doc="Moves every adapter that is not chosen explicitly (state, queue, streams) to "
        "Redis, so several processes share one deployment. In `config.yml`, `redis.host`, "
        "`redis.port`, `redis.db`, `redis.username` and `redis.password` build the same URL "
        "piece by piece.",
    )
    redis_prefix: str = setting(
        "motia",
        key="redis.prefix",
        kind=Text(min_length=1),
        doc="Prefix of every Redis key, so several projects or environments can share one Redis.",
    )
    # postgresql://[user:password@]host:port/database; like redis.url, it moves every
    # adapter not chosen explicitly, but when both are set streams stay on Redis.
    database_url: str | None = setting(
        None,
        key="database.url",
        kind=PostgresUrl(),
        doc="PostgreSQL: moves every adapter that is not chosen explicitly (state, queue, "
        "streams) to PostgreSQL, so several processes share one deployment. With `redis.url` "
        "set as well, state and the queue go to PostgreSQL and streams to Redis. "
        "`DATABASE_URL` is read too when it is a `postgres://` or `postgresql://` URL and "
        "neither `redis.url` nor an adapter is configured. Needs "
        "`pip install 'motia-python[postgres]'`.",
    )
    database_schema: str = setting(
        "motia",
        key="database.schema",
        kind=Text(min_length=1),
        doc="The PostgreSQL schema that holds Motia's tables, so several projects or "
        "environments can share one database. Created and migrated on start (or by "
        "`motia db migrate`).",
    )
    # Stream items live with state unless chosen on their own.
    streams_adapter: Store | None = setting(
        None,
        key="streams.adapter",
        kind=STORES,
        shown="follows `state.adapter`",
        doc="Where stream items are stored.",
    )
    # Bytes of stream frames waiting for one slow client, and for all of them together;
    # a client that would pass either is dropped (WebSocket close code 4008).
    streams_client_buffer: int = setting(
        4 * 1024 * 1024,
        key="streams.clientBuffer",
        kind=Size(),
        doc="Bytes of stream frames that may wait for one slow client (WebSocket or SSE). A "
        "client that would pass it is dropped: WebSocket close code `4008`. See "
        "[streams](streams.md#robustness-and-limits).",
    )
    streams_total_buffer: int = setting(
        256 * 1024 * 1024,
        key="streams.totalBuffer",
        kind=Size(),
        doc="Bytes of stream frames that may wait for all slow clients together; the client "
        "whose frame would pass it is dropped the same way.",
    )
    # A JavaScript/Ruby runner that does not answer a ping for this long is restarted (a
    # handler blocks it); 0 turns the check off, for steps that compute synchronously.
    runner_ping_timeout: float = setting(
        30.0,
        key="runners.pingTimeout",
        kind=Seconds(Range(0, 86400)),
        doc="A JavaScript or Ruby runner that does not answer a ping for this long (a handler "
        "blocks its event loop) is killed and restarted; its invocations fail and events are "
        "retried. `0` turns the check off, for steps that compute synchronously for long. "
        "See [runners](runners.md).",
    )

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
    def uses_postgres(self) -> bool:
        return "postgres" in (self.state_adapter, self.queue_adapter, self.streams_store)

    @property
    def database_path(self) -> Path:
        base = self.data_dir if self.data_dir.is_absolute() else self.project_dir / self.data_dir
        return base / "motia.db"

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _rows(cls: type[Any], attrs: tuple[str, ...] = ()) -> list[Setting]:
    rows: list[Setting] = []
    for item in fields(cls):
        row = item.metadata.get(METADATA)
        if row is not None:
            rows.append(replace(row, attrs=(*attrs, item.name), default=item.default))
        elif item.name == "cors":
            rows.extend(_rows(CorsSettings, (*attrs, item.name)))
        elif item.name == "auth":
            rows.extend(_rows(AuthSettings, (*attrs, item.name)))
    return rows


# Every setting, in the order of the reference.
TABLE: tuple[Setting, ...] = tuple(_rows(Settings))
ADAPTER_SETTINGS = ("state_adapter", "queue_adapter", "streams_adapter")

# Pieces of redis.url that config.yml may give one by one instead.
REDIS_URL_PARTS = {
    "redis.host": Text(),
    "redis.port": Integer(Range(1, 65535)),
    "redis.db": Integer(Range(0)),
    "redis.username": Text(),
    "redis.password": Text(secret=True),
}
