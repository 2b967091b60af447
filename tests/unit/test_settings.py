"""Settings: defaults < config.yml < environment < flags, with errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from motia.errors import SettingsError
from motia.settings import load_settings, parse_size


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
        ({"MOTIA_STATE_ADAPTER": "postgres"}, "state adapter 'postgres'"),
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
    with pytest.raises(SettingsError, match=r"streams\.clientBuffer: 'lots' is not a size"):
        load_settings(tmp_path, "dev", environ={})
    _config(tmp_path, "http:\n  maxHeaders: 0\n")
    with pytest.raises(SettingsError, match=r"config.yml:2: 'http.maxHeaders'"):
        load_settings(tmp_path, "dev", environ={})
    _config(tmp_path, "http:\n  headerTimeout: -1\n")
    with pytest.raises(SettingsError, match=r"'http.headerTimeout'"):
        load_settings(tmp_path, "dev", environ={})
