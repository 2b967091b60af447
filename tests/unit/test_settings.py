"""Settings: defaults < config.yml < environment < flags, with errors naming file and line."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from motia.errors import SettingsError
from motia.settings import (
    TABLE,
    AuthSettings,
    CorsSettings,
    Setting,
    Settings,
    load_settings,
    parse_size,
)
from motia.settings.kinds import (
    Choice,
    Flag,
    Folder,
    HeaderValues,
    Integer,
    Kind,
    Names,
    PostgresUrl,
    RedisUrl,
    Seconds,
    Size,
    Text,
    TimeZone,
)
from motia.settings.networks import Networks
from motia.settings.rate_limit import LimitKey, Period
from motia.settings.reference import main, render


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "config.yml").write_text(text)
    return tmp_path


def test_defaults_differ_by_mode(tmp_path: Path) -> None:
    dev = load_settings(tmp_path, "dev", environ={})
    start = load_settings(tmp_path, "start", environ={})
    assert (dev.port, dev.host, dev.log_format, dev.state_adapter) == (
        3000,
        "127.0.0.1",
        "pretty",
        "sqlite",
    )
    assert dev.cors.origins == ("*",)
    assert (start.host, start.log_format, start.cors.origins) == ("0.0.0.0", "json", ())
    assert dev.database_path == tmp_path.resolve() / ".motia" / "motia.db"


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    _config(
        tmp_path,
        "port: 4000\nlogLevel: warn\nhttp:\n  maxBodySize: 2mb\n  cors:\n    origins: [https://a.example]\n"
        "state:\n  adapter: memory\ncron:\n  timezone: Europe/Berlin\n",
    )
    from_file = load_settings(tmp_path, "start", environ={})
    assert from_file.port == 4000
    assert from_file.log_level == "warn"
    assert from_file.max_body_size == 2_000_000
    assert from_file.cors.origins == ("https://a.example",)
    assert from_file.state_adapter == "memory"
    assert from_file.cron_timezone == "Europe/Berlin"
    from_env = load_settings(
        tmp_path, "start", environ={"MOTIA_PORT": "4001", "LOG_LEVEL": "DEBUG"}
    )
    assert (from_env.port, from_env.log_level) == (4001, "debug")
    from_flag = load_settings(tmp_path, "start", environ={"MOTIA_PORT": "4001"}, port=4002)
    assert from_flag.port == 4002


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    _config(tmp_path, "port: 3000\nhttp:\n  maxBodySize: 1kb\n  corz: {}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, "dev", environ={})
    message = str(caught.value)
    assert "config.yml:4" in message
    assert "http.corz" in message and "unknown setting" in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    _config(tmp_path, "port: 3000\nstate:\n  adapter: [sqlite\n")
    with pytest.raises(SettingsError, match=r"config\.yml:\d+: invalid YAML"):
        load_settings(tmp_path, "dev", environ={})


def test_wrong_type_names_the_line(tmp_path: Path) -> None:
    _config(tmp_path, "host: 0.0.0.0\nport: lots\n")
    with pytest.raises(SettingsError, match=r"config\.yml:2: 'port'"):
        load_settings(tmp_path, "dev", environ={})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MOTIA_PORT": "http"}, "MOTIA_PORT"),
        ({"LOG_LEVEL": "loud"}, "log level 'loud'"),
        ({"MOTIA_CRON_TIMEZONE": "Mars/Base"}, "Mars/Base"),
        ({"MOTIA_MAX_BODY_SIZE": "huge"}, "MOTIA_MAX_BODY_SIZE"),
        ({"MOTIA_STATE_ADAPTER": "mongo"}, "state adapter 'mongo'"),
    ],
)
def test_bad_environment_values_are_named(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(tmp_path, "start", environ=environ)


def test_missing_project_folder(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope", "dev", environ={})


def test_sizes() -> None:
    assert parse_size("512kb", "x") == 512_000
    assert parse_size("1 MiB", "x") == 1024 * 1024
    assert parse_size(10, "x") == 10
    with pytest.raises(SettingsError):
        parse_size("0", "x")


def test_a_redis_url_moves_every_unchosen_adapter_to_redis(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, "start", environ={"REDIS_URL": "redis://10.0.0.5:6380/2"})
    assert (settings.state_adapter, settings.queue_adapter, settings.streams_store) == (
        "redis",
        "redis",
        "redis",
    )
    assert settings.redis_url == "redis://10.0.0.5:6380/2"
    _config(tmp_path, "state:\n  adapter: sqlite\n")
    mixed = load_settings(tmp_path, "start", environ={"MOTIA_REDIS_URL": "redis://h:1/0"})
    assert (mixed.state_adapter, mixed.queue_adapter, mixed.streams_store) == (
        "sqlite",
        "redis",
        "redis",
    )
    flagged = load_settings(
        tmp_path,
        "start",
        environ={"MOTIA_REDIS_URL": "redis://h:1/0"},
        state_adapter="memory",
        queue_adapter="memory",
        streams_adapter="memory",
    )
    assert not flagged.uses_redis


def test_motia_redis_url_wins_and_the_block_builds_a_url(tmp_path: Path) -> None:
    both = {"REDIS_URL": "redis://a:1/0", "MOTIA_REDIS_URL": "redis://b:2/0"}
    assert load_settings(tmp_path, "start", environ=both).redis_url == "redis://b:2/0"
    _config(
        tmp_path, "redis:\n  host: cache\n  port: 6390\n  db: 3\n  password: p@ss\n  prefix: shop\n"
    )
    settings = load_settings(tmp_path, "start", environ={})
    assert settings.redis_url == "redis://:p%40ss@cache:6390/3"
    assert settings.redis_prefix == "shop"
    assert settings.queue_adapter == "redis"


def test_redis_misconfiguration_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no Redis is configured"):
        load_settings(tmp_path, "start", environ={"MOTIA_QUEUE_ADAPTER": "redis"})
    with pytest.raises(SettingsError, match="must start with redis://"):
        load_settings(tmp_path, "start", environ={"MOTIA_REDIS_URL": "http://cache:6379"})


PG = "postgresql://app:pw@db:5432/shop"


def _stores(settings: Any) -> tuple[str, str, str]:
    return (settings.state_adapter, settings.queue_adapter, settings.streams_store)


def test_a_database_url_moves_every_unchosen_adapter_to_postgres(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, "start", environ={"MOTIA_DATABASE_URL": PG})
    assert _stores(settings) == ("postgres", "postgres", "postgres")
    assert (settings.database_url, settings.database_schema) == (PG, "motia")
    _config(tmp_path, "database:\n  schema: staging\nqueue:\n  adapter: sqlite\n")
    mixed = load_settings(tmp_path, "start", environ={"MOTIA_DATABASE_URL": PG})
    assert _stores(mixed) == ("postgres", "sqlite", "postgres")
    assert mixed.database_schema == "staging"


def test_with_redis_and_postgres_state_and_queue_use_postgres_and_streams_redis(
    tmp_path: Path,
) -> None:
    environ = {"MOTIA_DATABASE_URL": PG, "MOTIA_REDIS_URL": "redis://h:1/0"}
    settings = load_settings(tmp_path, "start", environ=environ)
    assert _stores(settings) == ("postgres", "postgres", "redis")
    chosen = load_settings(tmp_path, "start", environ=environ, streams_adapter="postgres")
    assert _stores(chosen) == ("postgres", "postgres", "postgres")


def test_database_url_counts_only_when_it_is_postgres_and_nothing_else_is_set(
    tmp_path: Path,
) -> None:
    alone = load_settings(tmp_path, "start", environ={"DATABASE_URL": "postgres://db/app"})
    assert _stores(alone) == ("postgres", "postgres", "postgres")
    assert alone.database_url == "postgres://db/app"
    other = load_settings(tmp_path, "start", environ={"DATABASE_URL": "mysql://db/app"})
    assert (_stores(other), other.database_url) == (("sqlite", "sqlite", "sqlite"), None)
    beside_redis = load_settings(
        tmp_path, "start", environ={"DATABASE_URL": PG, "REDIS_URL": "redis://h:1/0"}
    )
    assert (_stores(beside_redis), beside_redis.database_url) == (("redis",) * 3, None)
    chosen = load_settings(
        tmp_path, "start", environ={"DATABASE_URL": PG, "MOTIA_STATE_ADAPTER": "sqlite"}
    )
    assert chosen.database_url is None
    own = {"DATABASE_URL": "postgres://other/x", "MOTIA_DATABASE_URL": PG}
    assert load_settings(tmp_path, "start", environ=own).database_url == PG


def test_postgres_misconfiguration_is_named_without_the_password(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="no database is configured"):
        load_settings(tmp_path, "start", environ={"MOTIA_QUEUE_ADAPTER": "postgres"})
    with pytest.raises(SettingsError, match="must start with postgresql://") as failure:
        load_settings(tmp_path, "start", environ={"MOTIA_DATABASE_URL": "mysql://u:hush@h/d"})
    assert "hush" not in str(failure.value)


def test_runner_ping_timeout_from_the_file(tmp_path: Path) -> None:
    assert load_settings(tmp_path, "dev", environ={}).runner_ping_timeout == 30
    _config(tmp_path, "runners:\n  pingTimeout: 0\n")
    assert load_settings(tmp_path, "dev", environ={}).runner_ping_timeout == 0
    _config(tmp_path, "port: 3000\nrunners:\n  pingTimeout: -1\n")
    with pytest.raises(SettingsError, match=r"config\.yml:3: 'runners.pingTimeout'"):
        load_settings(tmp_path, "dev", environ={})


def test_hostile_client_limits_from_the_file_and_environment(tmp_path: Path) -> None:
    defaults = load_settings(tmp_path, "dev", environ={})
    assert (defaults.max_header_size, defaults.max_headers, defaults.header_timeout) == (
        65536,
        100,
        10.0,
    )
    assert (defaults.streams_client_buffer, defaults.streams_total_buffer) == (4 << 20, 256 << 20)
    assert defaults.workbench_allowed_hosts == ()
    _config(
        tmp_path,
        "http:\n  maxHeaderSize: 8kib\n  maxHeaders: 20\n  headerTimeout: 2.5\n"
        "streams:\n  clientBuffer: 1mib\n  totalBuffer: 10mb\n"
        "workbench:\n  allowedHosts: [Motia.Internal, '[fd00::1]']\n",
    )
    settings = load_settings(tmp_path, "dev", environ={})
    assert (settings.max_header_size, settings.max_headers, settings.header_timeout) == (
        8192,
        20,
        2.5,
    )
    assert (settings.streams_client_buffer, settings.streams_total_buffer) == (1 << 20, 10**7)
    assert settings.workbench_allowed_hosts == ("motia.internal", "fd00::1")
    env = {"MOTIA_WORKBENCH_ALLOWED_HOSTS": "a.example, b.example"}
    assert load_settings(tmp_path, "dev", environ=env).workbench_allowed_hosts == (
        "a.example",
        "b.example",
    )


def test_bad_hostile_client_limits_are_named(tmp_path: Path) -> None:
    _config(tmp_path, "streams:\n  clientBuffer: lots\n")
    with pytest.raises(
        SettingsError, match=r"config\.yml:2: 'streams\.clientBuffer': 'lots' is not a size"
    ):
        load_settings(tmp_path, "dev", environ={})
    _config(tmp_path, "http:\n  maxHeaders: 0\n")
    with pytest.raises(SettingsError, match=r"config.yml:2: 'http.maxHeaders'"):
        load_settings(tmp_path, "dev", environ={})
    _config(tmp_path, "http:\n  headerTimeout: -1\n")
    with pytest.raises(SettingsError, match=r"'http.headerTimeout'"):
        load_settings(tmp_path, "dev", environ={})


# One table, every source: the file, the environment and flags obey the same rows.

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _yaml_for(key: str, raw: str) -> str:
    """`http.cors.maxAge` and `5` as nested YAML."""
    *sections, name = key.split(".")
    lines = [f"{'  ' * depth}{section}:" for depth, section in enumerate(sections)]
    lines.append(f"{'  ' * len(sections)}{name}: {raw}")
    return "\n".join(lines) + "\n"


def _outside(kind: Kind) -> str | None:
    """A value the kind must refuse, read from its bounds; None when every string fits."""
    if isinstance(kind, Integer | Seconds):
        bounds = kind.bounds
        if bounds.high is not None:
            return str(int(bounds.high) + 1)
        assert bounds.low is not None
        return str(bounds.low if bounds.above else bounds.low - 1)
    if isinstance(kind, Text):
        return "x" * (kind.min_length - 1) if kind.min_length > 1 else None
    samples: dict[type[Kind], str] = {
        Size: "0",
        Choice: "nonesuch",
        Flag: "maybe",
        HeaderValues: '{"bad name": "b"}',
        TimeZone: "Mars/Base",
        RedisUrl: "http://cache:6379",
        PostgresUrl: "mysql://db/app",
        Period: "2w",
        LimitKey: "cookie:session",
        Networks: "10.0.0.0/33",
    }
    return samples.get(type(kind))


def _inside(row: Setting) -> str:
    """A value the row accepts and is not its default, at the edge of its bounds if any."""
    kind = row.kind
    if isinstance(kind, Integer | Seconds):
        bounds = kind.bounds
        return str(bounds.high if bounds.high is not None else (bounds.low or 0) + 1)
    if isinstance(kind, Choice):  # not redis or postgres, which would need a URL
        return [c for c in kind.choices if c not in ("redis", "postgres")][-1].upper()
    if isinstance(kind, Flag):
        return "false" if row.default_for("dev") else "true"
    if isinstance(kind, Text):
        return "t" * max(kind.min_length, 1)
    samples: dict[type[Kind], str] = {
        Size: "2kib",
        Names: "a.example, b.example",
        Folder: "data",
        HeaderValues: '{"X-A": "b"}',
        TimeZone: "Europe/Berlin",
        RedisUrl: "redis://127.0.0.1:6379/5",
        PostgresUrl: "postgresql://127.0.0.1:5432/app",
        Period: "10s",
        LimitKey: "header:x-api-key",
        Networks: "10.0.0.0/8, ::1",
    }
    return samples[type(kind)]


def _value(settings: Settings, row: Setting) -> object:
    value: object = settings
    for attr in row.attrs:
        value = getattr(value, attr)
    return value


ROWS = pytest.mark.parametrize("row", TABLE, ids=[row.key for row in TABLE])
# Settings a value needs beside it: credentials are refused with dev's default origin "*".
COMPANIONS = {"http.cors.credentials": {"MOTIA_CORS_ORIGINS": "https://a.example"}}


@ROWS
def test_every_setting_reads_the_same_from_the_file_and_its_variable(
    tmp_path: Path, row: Setting
) -> None:
    raw = _inside(row)
    companion = COMPANIONS.get(row.key, {})
    from_env = load_settings(tmp_path, "dev", environ={**companion, row.env: raw})
    _config(tmp_path, _yaml_for(row.key, raw))
    from_file = load_settings(tmp_path, "dev", environ=companion)
    assert _value(from_env, row) == _value(from_file, row) == row.kind.parse(raw)
    assert _value(from_env, row) != row.default_for("dev")


BOUNDED = [row for row in TABLE if _outside(row.kind) is not None]


def test_only_plain_strings_lists_and_paths_take_any_value() -> None:
    unbounded = {row.key for row in TABLE} - {row.key for row in BOUNDED}
    assert unbounded == {
        "host",
        "dataDir",
        "http.cors.origins",
        "http.cors.methods",
        "http.cors.headers",
        "http.cors.exposeHeaders",
        "workbench.allowedHosts",
        "redis.prefix",  # refuses only "", which an environment variable cannot give
        "database.schema",  # the same
        # These refuse only "" too; keys and algorithms are checked when the verifier is built.
        "auth.publicKey",
        "auth.jwksUrl",
        "auth.algorithms",
        "auth.issuer",
        "auth.audience",
        "auth.realm",
        # Key names: any list of strings is one.
        "logs.redact",
        "logs.redactAlso",
        "sentry.dsn",  # refuses only ""; the SDK checks the DSN when the server starts
    }


@pytest.mark.parametrize("row", BOUNDED, ids=[row.key for row in BOUNDED])
def test_every_variable_is_held_to_the_bounds_of_its_key(tmp_path: Path, row: Setting) -> None:
    raw = _outside(row.kind)
    assert raw is not None
    with pytest.raises(SettingsError) as from_env:
        load_settings(tmp_path, "dev", environ={row.env: raw})
    _config(tmp_path, "# out of bounds\n" + _yaml_for(row.key, raw))
    with pytest.raises(SettingsError) as from_file:
        load_settings(tmp_path, "dev", environ={})
    env_message, file_message = str(from_env.value), str(from_file.value)
    assert env_message.startswith(f"environment variable {row.env}: {row.label} ")
    line = 2 + row.key.count(".")
    assert f"config.yml:{line}: '{row.key}': " in file_message
    # The same words after the value, whichever the source.
    assert env_message.rsplit(" ", 3)[1:] == file_message.rsplit(" ", 3)[1:]


def test_a_negative_shutdown_timeout_is_refused_from_every_source(tmp_path: Path) -> None:
    refused = "is not a number of seconds ≥ 0"
    with pytest.raises(SettingsError) as from_env:
        load_settings(tmp_path, "dev", environ={"MOTIA_SHUTDOWN_TIMEOUT": "-5"})
    assert str(from_env.value) == (
        f"environment variable MOTIA_SHUTDOWN_TIMEOUT: shutdown timeout '-5' {refused}"
    )
    with pytest.raises(SettingsError, match=f"^shutdown timeout -5 {refused}$"):
        load_settings(tmp_path, "dev", environ={}, shutdown_timeout=-5)
    _config(tmp_path, "port: 3000\nshutdownTimeout: -5\n")
    with pytest.raises(SettingsError) as from_file:
        load_settings(tmp_path, "dev", environ={})
    assert str(from_file.value).endswith(f"config.yml:2: 'shutdownTimeout': -5 {refused}")


def test_every_setting_has_its_own_motia_variable() -> None:
    names = [row.env for row in TABLE]
    assert len(set(names)) == len(names)
    assert all(name.startswith("MOTIA_") for name in names)
    assert {row.env for row in TABLE if row.env_aliases} == {
        "MOTIA_LOG_LEVEL",
        "MOTIA_REDIS_URL",
        # The names identity providers and tutorials use: JWT_SECRET, JWT_ISSUER, ...
        "MOTIA_AUTH_SECRET",
        "MOTIA_AUTH_PUBLIC_KEY",
        "MOTIA_AUTH_JWKS_URL",
        "MOTIA_AUTH_ISSUER",
        "MOTIA_AUTH_AUDIENCE",
        "MOTIA_SENTRY_DSN",  # SENTRY_DSN, which Sentry's own documentation uses
    }
    keys = {row.key: row.env for row in TABLE}
    assert keys["http.maxBodySize"] == "MOTIA_MAX_BODY_SIZE"
    assert keys["queue.leaseSeconds"] == "MOTIA_QUEUE_LEASE_SECONDS"
    assert keys["runners.pingTimeout"] == "MOTIA_RUNNERS_PING_TIMEOUT"


def test_every_settings_field_has_a_row() -> None:
    covered = {row.attrs for row in TABLE}
    for item in fields(Settings):
        if item.name not in ("project_dir", "mode", "cors", "auth"):
            assert (item.name,) in covered, item.name
    assert {("cors", item.name) for item in fields(CorsSettings)} <= covered
    assert {("auth", item.name) for item in fields(AuthSettings)} <= covered


def test_the_motia_variable_wins_over_the_plain_one(tmp_path: Path) -> None:
    both = {"LOG_LEVEL": "loud", "MOTIA_LOG_LEVEL": "Warning"}
    assert load_settings(tmp_path, "dev", environ=both).log_level == "warn"
    assert load_settings(tmp_path, "dev", environ={"LOG_LEVEL": "error"}).log_level == "error"


def test_variables_of_lists_and_booleans(tmp_path: Path) -> None:
    environ = {
        "MOTIA_CORS_ORIGINS": "https://a.example, https://b.example",
        "MOTIA_CORS_CREDENTIALS": "YES",
        "MOTIA_CANCEL_ON_DISCONNECT": "off",
        "MOTIA_WORKBENCH_ENABLED": "0",
        "MOTIA_STATE_SQLITE_SYNCHRONOUS": "FULL",
        "MOTIA_QUEUE_LEASE_SECONDS": "2.5",
    }
    settings = load_settings(tmp_path, "start", environ=environ)
    assert settings.cors.origins == ("https://a.example", "https://b.example")
    assert settings.cors.credentials is True
    assert settings.cors.methods == ("*",)
    assert settings.cancel_on_disconnect is False
    assert settings.internal_api_enabled is False
    assert settings.sqlite_synchronous == "full"
    assert settings.queue_lease_seconds == 2.5


def test_every_bad_variable_is_listed_and_secrets_are_not_shown(tmp_path: Path) -> None:
    environ = {"MOTIA_WORKBENCH_TOKEN": "short-secret", "MOTIA_EVENTS_CONCURRENCY": "many"}
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, "dev", environ=environ)
    message = str(caught.value)
    assert message.splitlines() == [
        "environment variable MOTIA_EVENTS_CONCURRENCY: event concurrency 'many' is not an "
        "integer from 1 to 10000",
        "environment variable MOTIA_WORKBENCH_TOKEN: workbench token must be at least 16 "
        "characters long",
    ]
    _config(tmp_path, "workbench:\n  token: short-secret\n")
    with pytest.raises(SettingsError) as from_file:
        load_settings(tmp_path, "dev", environ={})
    assert "short-secret" not in str(from_file.value)
    assert "'workbench.token': must be at least 16 characters long" in str(from_file.value)


def test_unknown_keys_get_a_suggestion(tmp_path: Path) -> None:
    _config(tmp_path, "port: 3000\nstate:\n  adaptor: memory\nmaxBodySize: 1mb\ncolour: red\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, "dev", environ={})
    assert str(caught.value).splitlines() == [
        f"{tmp_path / 'config.yml'}:3: 'state.adaptor': unknown setting "
        "(did you mean 'state.adapter'?)",
        f"{tmp_path / 'config.yml'}:4: 'maxBodySize': unknown setting "
        "(did you mean 'http.maxBodySize'?)",
        f"{tmp_path / 'config.yml'}:5: 'colour': unknown setting",
    ]


def test_snake_case_keys_and_sections_that_are_not_mappings(tmp_path: Path) -> None:
    _config(tmp_path, "log_level: debug\nhttp:\n  max_body_size: 1kb\nqueue: {}\nstate:\n")
    settings = load_settings(tmp_path, "dev", environ={})
    assert (settings.log_level, settings.max_body_size) == ("debug", 1000)
    _config(tmp_path, "redis:\n  prefix: ''\n")
    with pytest.raises(
        SettingsError, match=r"config\.yml:2: 'redis\.prefix': '' must not be empty"
    ):
        load_settings(tmp_path, "dev", environ={})
    _config(tmp_path, "port: 3000\nhttp: 5\n")
    with pytest.raises(SettingsError, match=r"config\.yml:2: 'http': is not a mapping of settings"):
        load_settings(tmp_path, "dev", environ={})


def test_flags_are_held_to_the_same_bounds(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^port 70000 is not an integer from 0 to 65535$"):
        load_settings(tmp_path, "dev", environ={}, port=70000)
    with pytest.raises(SettingsError, match=r"queue lease seconds 0\.1 is not a number of seconds"):
        load_settings(tmp_path, "dev", environ={}, queue_lease_seconds=0.1)


def test_the_configuration_reference_is_current() -> None:
    page = DOCS.read_text(encoding="utf-8")
    assert render(page) == page, "run: python -m motia.settings.reference"
    assert main(["--check", str(DOCS)]) == 0
    for row in TABLE:
        assert f"| `{row.key}` | `{row.env}`" in page


def test_the_check_finds_a_stale_reference(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    page = DOCS.read_text(encoding="utf-8")
    stale.write_text(page.replace("| `port` | `MOTIA_PORT` |", "| `port` | `PORT` |"))
    assert main(["--check", str(stale)]) == 1
    assert main([str(stale)]) == 0
    assert stale.read_text() == page


def test_the_example_config_in_the_docs_loads(tmp_path: Path) -> None:
    page = DOCS.read_text(encoding="utf-8")
    example = page.split("```yaml\n# config.yml\n", 1)[1].split("```", 1)[0]
    _config(tmp_path, example)
    settings = load_settings(tmp_path, "dev", environ={})
    assert settings.cors.origins == ("https://app.example.com",)
    assert settings.workbench_allowed_hosts == ("motia.internal",)


def test_a_key_in_the_wrong_section_is_pointed_to_its_own(tmp_path: Path) -> None:
    _config(tmp_path, "leaseSeconds: 5\nadapter: memory\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, "dev", environ={})
    first, second = str(caught.value).splitlines()
    assert first.endswith("'leaseSeconds': unknown setting (did you mean 'queue.leaseSeconds'?)")
    assert second.endswith("'adapter': unknown setting")  # state, queue or streams: not guessed
