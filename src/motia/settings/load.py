"""Build the Settings of one run: defaults < config.yml < environment < flags, each source
read through the settings table, so each obeys the same kinds and bounds. Bad values are
errors that name the file and line, the variable or the flag, all problems at once."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from motia.errors import SettingsError
from motia.settings.kinds import POSTGRES_SCHEMES, Invalid
from motia.settings.model import (
    ADAPTER_SETTINGS,
    CONFIG_FILE,
    REDIS_URL_PARTS,
    TABLE,
    Mode,
    Settings,
)
from motia.settings.origins import check_cors
from motia.settings.row import Setting


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
    given = read_file(settings_file(project_dir))
    given |= read_environment(environ)
    given |= _read_flags(flags)
    given |= _database_url_alias(given, environ)
    defaults = {row: row.default_for(mode) for row in TABLE if row.mode_dependent()}
    settings = _apply(Settings(project_dir=project_dir, mode=mode), defaults | given)
    # The adapters the user chose, so a Redis or database URL leaves them alone.
    chosen = {row.attrs[-1] for row in given}
    chosen |= {name for name, value in flags.items() if value is not None}
    settings = settings.with_overrides(
        **{name: value for name, value in flags.items() if name not in _FIELDS}
    )
    settings = _shared_store_by_default(settings, chosen)
    _check(settings)
    return settings


_BY_FIELD = {row.attrs: row for row in TABLE}
_FIELDS = {attrs[0] for attrs in _BY_FIELD if len(attrs) == 1}


def _apply(settings: Settings, values: Mapping[Setting, Any]) -> Settings:
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for row, value in values.items():
        if len(row.attrs) == 1:
            top[row.attrs[0]] = value
        else:
            nested.setdefault(row.attrs[0], {})[row.attrs[1]] = value
    for name, changes in nested.items():
        top[name] = replace(getattr(settings, name), **changes)
    return replace(settings, **top)


def _database_url_alias(
    given: Mapping[Setting, Any], environ: Mapping[str, str]
) -> dict[Setting, Any]:
    """`DATABASE_URL` (the name hosting platforms use) counts as `database.url` only when
    it names PostgreSQL and nothing else chose a store: a project that set Redis or an
    adapter, or whose DATABASE_URL is another database, is left as it is."""
    raw = environ.get("DATABASE_URL", "")
    row = _BY_FIELD[("database_url",)]
    if not raw.startswith(POSTGRES_SCHEMES) or row in given:
        return {}
    stores = {_BY_FIELD[(name,)] for name in ("redis_url", *ADAPTER_SETTINGS)}
    if any(store in given for store in stores):
        return {}
    return {row: raw}


def _shared_store_by_default(settings: Settings, chosen: set[str]) -> Settings:
    """With a Redis or database URL, every adapter that was not chosen explicitly uses
    that store; with both, state and the queue use PostgreSQL and streams Redis (its
    pub/sub carries stream fan-out with the least latency)."""
    stores: dict[str, str] = {}
    if settings.database_url:
        stores = {name: "postgres" for name in ADAPTER_SETTINGS}
        if settings.redis_url:
            stores["streams_adapter"] = "redis"
    elif settings.redis_url:
        stores = {name: "redis" for name in ADAPTER_SETTINGS}
    return settings.with_overrides(
        **{name: store for name, store in stores.items() if name not in chosen}
    )


def _check(settings: Settings) -> None:
    """What no single setting can say alone."""
    check_cors(settings.cors)
    if settings.uses_redis and not settings.redis_url:
        raise SettingsError(
            "a Redis adapter is chosen but no Redis is configured: set MOTIA_REDIS_URL "
            "(or REDIS_URL, or redis.url in config.yml), e.g. redis://127.0.0.1:6379/0"
        )
    if settings.uses_postgres and not settings.database_url:
        raise SettingsError(
            "a PostgreSQL adapter is chosen but no database is configured: set "
            "MOTIA_DATABASE_URL (or database.url in config.yml), e.g. "
            "postgresql://user:password@127.0.0.1:5432/app"
        )
    if settings.mode == "start" and settings.internal_api_enabled and not settings.workbench_token:
        raise SettingsError(
            "the workbench and internal API need a token in `motia start`: set "
            "MOTIA_WORKBENCH_TOKEN (or workbench.token in config.yml), or disable it"
        )


def _problem(secret: bool, value: object, predicate: Invalid) -> str:
    """The value and what is wrong with it; a secret value is never shown."""
    return str(predicate) if secret else f"{value!r} {predicate}"


def read_environment(environ: Mapping[str, str]) -> dict[Setting, Any]:
    """The settings given by environment variables; an empty variable is not given."""
    values: dict[Setting, Any] = {}
    problems = []
    for row in TABLE:
        given = [(name, environ.get(name)) for name in (*row.env_aliases, row.env)]
        given = [(name, raw) for name, raw in given if raw]
        if not given:
            continue
        name, raw = given[-1]  # the Motia-specific name wins
        try:
            values[row] = row.kind.parse(raw)
        except Invalid as exc:
            problem = _problem(row.kind.secret, raw, exc)
            problems.append(f"environment variable {name}: {row.label} {problem}")
    if problems:
        raise SettingsError("\n".join(problems))
    return values


def _read_flags(flags: Mapping[str, Any]) -> dict[Setting, Any]:
    values: dict[Setting, Any] = {}
    problems = []
    for name, value in flags.items():
        row = _BY_FIELD.get((name,))
        if row is None or value is None:
            continue
        try:
            values[row] = row.kind.parse(value)
        except Invalid as exc:
            problems.append(f"{row.label} {_problem(row.kind.secret, value, exc)}")
    if problems:
        raise SettingsError("\n".join(problems))
    return values


# config.yml: a tree of sections whose leaves are rows, or pieces of the Redis URL.
_Tree = dict[str, Any]


def _tree() -> _Tree:
    tree: _Tree = {}
    leaves: list[tuple[str, Any]] = [(row.key, row) for row in TABLE]
    leaves += list(REDIS_URL_PARTS.items())
    for key, leaf in leaves:
        *sections, name = key.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = leaf
    return tree


_TREE = _tree()


def _unique_leaf_names() -> dict[str, str]:
    """Last parts of keys that name one setting only (`maxBodySize`, not `adapter`), for
    suggesting the right section to a key written in the wrong one."""
    names: dict[str, list[str]] = {}
    for row in TABLE:
        names.setdefault(row.key.rsplit(".", 1)[-1], []).append(row.key)
    return {name: keys[0] for name, keys in names.items() if len(keys) == 1}


_LEAF_NAMES = _unique_leaf_names()


def settings_file(project_dir: Path) -> Path:
    """`config.yml`; a Motia 1.0 project's `config.yaml` when there is no `config.yml`."""
    path = project_dir / CONFIG_FILE
    alternative = project_dir / "config.yaml"
    return alternative if not path.is_file() and alternative.is_file() else path


def read_file(path: Path) -> dict[Setting, Any]:
    """The settings `config.yml` gives; unknown keys and bad values name the line."""
    if not path.is_file():
        return {}
    import yaml  # only for projects that have a config.yml

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
        return {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}:1: config.yml must be a mapping of settings")
    if isinstance(data.get("modules"), list):
        # Motia 1.0's engine modules (adapters, ports): this server's settings say those.
        data = {key: value for key, value in data.items() if key != "modules"}
    reader = _FileReader(path, node)
    reader.read(data, _TREE, [], "")
    if reader.problems:
        raise SettingsError("\n".join(reader.problems))
    url = _redis_url(reader.parts)
    if url is not None and _BY_FIELD[("redis_url",)] not in reader.values:
        reader.values[_BY_FIELD[("redis_url",)]] = url
    return reader.values


class _FileReader:
    def __init__(self, path: Path, node: Any) -> None:
        self.path = path
        self.node = node
        self.values: dict[Setting, Any] = {}
        self.parts: dict[str, Any] = {}
        self.problems: list[str] = []

    def read(self, data: dict[Any, Any], tree: _Tree, loc: list[str], prefix: str) -> None:
        for given, value in data.items():
            where = [*loc, str(given)]
            name = _camel(str(given))
            leaf = tree.get(name)
            if leaf is None:
                self.report(where, f"unknown setting{_suggestion(name, tree, prefix)}")
            elif value is None:
                continue  # `key:` with nothing after it sets nothing
            elif isinstance(leaf, dict):
                if isinstance(value, dict):
                    self.read(value, leaf, where, f"{prefix}{name}.")
                else:
                    self.report(where, "is not a mapping of settings")
            else:
                self.read_value(leaf, f"{prefix}{name}", where, value)

    def read_value(self, leaf: Any, key: str, where: list[str], value: object) -> None:
        kind = leaf.kind if isinstance(leaf, Setting) else leaf
        try:
            parsed = kind.parse(value)
        except Invalid as exc:
            self.report(where, _problem(kind.secret, value, exc))
            return
        if isinstance(leaf, Setting):
            self.values[leaf] = parsed
        else:
            self.parts[key] = parsed

    def report(self, loc: list[str], problem: str) -> None:
        line = _line_of(self.node, loc)
        self.problems.append(f"{self.path}:{line}: '{'.'.join(loc)}': {problem}")


def _camel(key: str) -> str:
    """The camelCase spelling of a key; snake_case keys are accepted too."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _suggestion(name: str, tree: _Tree, prefix: str) -> str:
    close = difflib.get_close_matches(name, list(tree), n=1)
    if close:
        return f" (did you mean '{prefix}{close[0]}'?)"
    elsewhere = _LEAF_NAMES.get(name)
    if elsewhere is not None:
        return f" (did you mean '{elsewhere}'?)"
    return ""


def _line_of(node: Any, loc: list[str]) -> int:
    """The 1-based line of the deepest key of `loc` that exists in the YAML document."""
    import yaml

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


def _redis_url(parts: Mapping[str, Any]) -> str | None:
    """redis.host, redis.port, ... as one URL; None when neither host nor port is given."""
    host, port = parts.get("redis.host"), parts.get("redis.port")
    if host is None and port is None:
        return None
    auth = ""
    if parts.get("redis.password") is not None:
        auth = f"{quote(parts.get('redis.username') or '')}:{quote(parts['redis.password'])}@"
    return f"redis://{auth}{host or '127.0.0.1'}:{port or 6379}/{parts.get('redis.db') or 0}"


def database_location(url: str) -> str:
    """host:port/database of a PostgreSQL URL, without credentials, for messages."""
    parsed = urlparse(url)
    name = parsed.path.lstrip("/") or parsed.username or "postgres"
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 5432}/{name}"


def redis_location(url: str) -> str:
    """host:port/db of a Redis URL, without credentials, for messages."""
    parsed = urlparse(url)
    return f"{parsed.hostname or 'localhost'}:{parsed.port or 6379}{parsed.path or '/0'}"
