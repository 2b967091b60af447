"""The Dockerfile and .dockerignore of a project: a multi-stage build with only the runtimes
its steps need, its packages in a virtual environment, a non-root user, the SQLite data on a
volume and a health check on the readiness probe. hadolint accepts what this writes (a test
keeps it so)."""

from __future__ import annotations

from motia import __version__
from motia.cli.docker.needs import NPM_LOCK, PACKAGE_JSON, REQUIREMENTS, ProjectNeeds
from motia.system_paths import SYSTEM_PREFIX

# Major.minor tags on one Debian release, so every stage links against the same libraries.
PYTHON_IMAGE = "python:3.12-slim-trixie"
NODE_IMAGE = "node:24-trixie-slim"
VENV = "/opt/venv"
APP_DIR = "/app"
DATA_DIR = "/data"
USER_ID = 10001
DEFAULT_PORT = 3000
# Both scale-out stores, so one image runs on SQLite, Redis or PostgreSQL as its
# environment says.
MOTIA_REQUIREMENT = "motia-python[redis,postgres]"
READY_PATH = f"{SYSTEM_PREFIX}/ready"
# The readiness probe with the image's own Python: 200 passes; 503, a refused connection
# or a timeout fails (urlopen raises).
HEALTHCHECK_SCRIPT = (
    "import os, urllib.request as u; "
    f"u.urlopen('http://127.0.0.1:%s{READY_PATH}' % os.environ.get('MOTIA_PORT', "
    f"'{DEFAULT_PORT}'), timeout=4)"
)

DOCKERIGNORE = """\
# What `docker build` leaves out of the image: local environments, caches, data and secrets.
.git
.venv
venv
python_modules
node_modules
__pycache__
*.pyc
.motia
dist
.pytest_cache
.mypy_cache
.ruff_cache
.env
.env.*
*.log
Dockerfile
.dockerignore
compose.yaml
"""


def render_dockerfile(name: str, needs: ProjectNeeds, port: int = DEFAULT_PORT) -> str:
    lines = [
        "# syntax=docker/dockerfile:1",
        f"# The image of {name}, written by `motia docker setup` (motia-python {__version__}).",
        f"# Runtimes: {', '.join(needs.runtimes())}. Build: docker build -t {name} .",
        f"# Run: docker run -p {port}:{port} -v {name}-data:{DATA_DIR} {name}",
        "",
    ]
    if needs.node:
        lines += [f"FROM {NODE_IMAGE} AS node", ""]
    if needs.npm_ci:
        lines += [
            "# The npm packages the steps import, exactly as package-lock.json lists them.",
            "FROM node AS npm-packages",
            f"WORKDIR {APP_DIR}",
            f"COPY {PACKAGE_JSON} {NPM_LOCK} ./",
            "RUN npm ci --omit=dev --no-audit --no-fund",
            "",
        ]
    lines += _python_stage(needs)
    lines += [f"FROM {PYTHON_IMAGE}", ""]
    if needs.ruby:
        lines += [
            "# Debian's Ruby follows the base image's release, so its version is not pinned.",
            "# hadolint ignore=DL3008",
            "RUN apt-get update \\",
            " && apt-get install -y --no-install-recommends ruby \\",
            " && rm -rf /var/lib/apt/lists/*",
        ]
    lines += [
        f"RUN groupadd --system --gid {USER_ID} motia \\",
        f" && useradd --system --no-log-init --uid {USER_ID} --gid {USER_ID} \\",
        "    --create-home motia \\",
        f" && mkdir -p {DATA_DIR} && chown {USER_ID}:{USER_ID} {DATA_DIR}",
    ]
    if needs.node:
        lines.append("COPY --from=node /usr/local/bin/node /usr/local/bin/node")
    lines += [f"COPY --from=python-packages {VENV} {VENV}", f"WORKDIR {APP_DIR}"]
    if needs.npm_ci:
        lines.append(f"COPY --from=npm-packages {APP_DIR}/node_modules ./node_modules")
    lines += [
        "COPY . .",
        "",
        f"ENV PATH={VENV}/bin:$PATH \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PYTHONDONTWRITEBYTECODE=1 \\",
        f"    MOTIA_DATA_DIR={DATA_DIR} \\",
        f"    MOTIA_PORT={port} \\",
        "    MOTIA_WORKERS=1",
        "# The SQLite file of the embedded store; unused on Redis or PostgreSQL.",
        f'VOLUME ["{DATA_DIR}"]',
        f"USER {USER_ID}:{USER_ID}",
        f"EXPOSE {port}",
        "HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \\",
        f'  CMD ["python", "-c", "{HEALTHCHECK_SCRIPT}"]',
        "# --workers comes from MOTIA_WORKERS; more than 1 needs Redis or PostgreSQL.",
        'CMD ["motia", "start", "--host", "0.0.0.0"]',
        "",
    ]
    return "\n".join(lines)


def _python_stage(needs: ProjectNeeds) -> list[str]:
    lines = [
        "# The Python packages, in a virtual environment the final image copies.",
        f"FROM {PYTHON_IMAGE} AS python-packages",
        "ENV PIP_DISABLE_PIP_VERSION_CHECK=1",
        f"RUN python -m venv {VENV}",
        f"ENV PATH={VENV}/bin:$PATH",
        f"WORKDIR {APP_DIR}",
    ]
    if needs.python_deps == "requirements":
        lines += [
            f"COPY {REQUIREMENTS} ./",
            f'RUN pip install --no-cache-dir -r {REQUIREMENTS} "{MOTIA_REQUIREMENT}"',
        ]
    elif needs.python_deps == "project":
        lines += ["COPY . .", f'RUN pip install --no-cache-dir . "{MOTIA_REQUIREMENT}"']
    else:
        lines.append(f'RUN pip install --no-cache-dir "{MOTIA_REQUIREMENT}=={__version__}"')
    return [*lines, ""]


def render_dockerignore() -> str:
    return DOCKERIGNORE
