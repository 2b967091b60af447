"""compose.yaml: the project's image with the store it scales out on (Redis or
PostgreSQL), or alone on its SQLite volume."""

from __future__ import annotations

from motia.cli.docker.dockerfile import DATA_DIR, DEFAULT_PORT

STORES = ("redis", "postgres", "sqlite")
REDIS_IMAGE = "redis:7.4-alpine"
POSTGRES_IMAGE = "postgres:17-alpine"
# Every adapter named, so a config.yml that chose `sqlite` explicitly is overridden too.
_ADAPTERS = ("MOTIA_STATE_ADAPTER", "MOTIA_QUEUE_ADAPTER", "MOTIA_STREAMS_ADAPTER")


def render_compose(name: str, store: str, port: int = DEFAULT_PORT) -> str:
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}")
    workers = 1 if store == "sqlite" else 2
    lines = [
        f"# {name} with {_STORE_LABELS[store]}, written by `motia docker setup --store {store}`.",
        "# Start: docker compose up --build -d    Logs: docker compose logs -f app",
        f"name: {compose_project_name(name)}",
        "services:",
        "  app:",
        "    build: .",
        "    ports:",
        f'      - "{port}:{port}"',
        "    environment:",
        f'      MOTIA_WORKERS: "{workers}"',
    ]
    if store == "redis":
        lines.append("      MOTIA_REDIS_URL: redis://redis:6379/0")
    elif store == "postgres":
        lines.append(
            "      MOTIA_DATABASE_URL: postgresql://motia:${POSTGRES_PASSWORD:?set "
            "POSTGRES_PASSWORD}@postgres:5432/motia"
        )
    if store != "sqlite":
        lines += [f"      {variable}: {store}" for variable in _ADAPTERS]
    lines += [
        "      # MOTIA_WORKBENCH_TOKEN: a long random string, to serve the workbench",
        '      # MOTIA_METRICS_ENABLED: "true"   # Prometheus at /__motia/metrics',
    ]
    if store == "sqlite":
        lines += ["    volumes:", f"      - data:{DATA_DIR}"]
    else:
        lines += ["    depends_on:", f"      {store}:", "        condition: service_healthy"]
    lines += [
        "    restart: unless-stopped",
        "    # Longer than shutdownTimeout (10 s), so running handlers finish on a stop.",
        "    stop_grace_period: 30s",
        "    deploy:",
        "      resources:",
        "        limits:",
        '          cpus: "2"',
        "          memory: 1g",
    ]
    lines += _STORE_SERVICES[store]
    lines += ["volumes:", f"  {_VOLUMES[store]}:", ""]
    return "\n".join(lines)


def compose_project_name(image: str) -> str:
    """Compose project names allow no dots, which image names do."""
    return image.replace(".", "-")


_STORE_LABELS = {
    "redis": "Redis for state, events and streams",
    "postgres": "PostgreSQL for state, events and streams",
    "sqlite": "its embedded SQLite store on a volume (one process)",
}
_VOLUMES = {"redis": "redis-data", "postgres": "postgres-data", "sqlite": "data"}
_STORE_SERVICES = {
    "redis": [
        "  redis:",
        f"    image: {REDIS_IMAGE}",
        '    command: ["redis-server", "--appendonly", "yes"]',
        "    volumes:",
        "      - redis-data:/data",
        "    healthcheck:",
        '      test: ["CMD", "redis-cli", "ping"]',
        "      interval: 5s",
        "      timeout: 3s",
        "      retries: 10",
        "    restart: unless-stopped",
    ],
    "postgres": [
        "  postgres:",
        f"    image: {POSTGRES_IMAGE}",
        "    environment:",
        "      POSTGRES_USER: motia",
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}",
        "      POSTGRES_DB: motia",
        "    volumes:",
        "      - postgres-data:/var/lib/postgresql/data",
        "    healthcheck:",
        '      test: ["CMD", "pg_isready", "-U", "motia", "-d", "motia"]',
        "      interval: 5s",
        "      timeout: 3s",
        "      retries: 10",
        "    restart: unless-stopped",
    ],
    "sqlite": [],
}
