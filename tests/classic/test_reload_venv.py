"""A Python environment inside the project (`.venv`, `venv`, `env`, a conda env, packages
under `node_modules`): reload and the test kit forget only the project's own modules, never
the packages the framework shares with the project (pydantic, rich, starlette ...)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ServerProcess, free_port, wait_for, wait_until_ready, write_project

# What the project's steps and the framework import; the rest of the test environment
# (browsers, type checkers, test generators) is left out of the copies.
NOT_COPIED = shutil.ignore_patterns(
    "playwright*",
    "mypy*",
    "*mypyc*",
    "pip",
    "pip-*",
    "hypothesis*",
    "schemathesis*",
    "__pycache__",
)

STEP = """
import pydantic
import rich
from pydantic import BaseModel


class Greeting(BaseModel):
    name: str


config = {{"type": "api", "name": "Hello", "method": "POST", "path": "/hello",
          "bodySchema": Greeting, "emits": []}}


async def handler(req, ctx):
    ctx.logger.info("greeting", {{"name": req["body"]["name"]}})
    return {{"status": 200, "body": {{"says": "{word}", "name": req["body"]["name"],
                                   "pydantic": pydantic.__file__, "rich": rich.__file__}}}}
"""

TESTER_SCRIPT = """
import asyncio, sys
from motia.testing import create_tester

async def main():
    for word in ("first", "second"):
        async with create_tester(sys.argv[1]) as tester:
            answer = await tester.post("/hello", json={"name": word})
            assert answer.status_code == 200, answer.text
            print(answer.json()["name"])

asyncio.run(main())
"""


@dataclass
class ProjectWithEnvironment:
    root: Path
    python: str  # the interpreter that runs motia and the project's tests
    env: dict[str, str]
    packages: Path  # where pydantic and rich are imported from, inside the project


def _copy_packages(target: Path) -> None:
    """The test environment's packages, as `pip install` would have put them; hard links
    when the file system allows them, so that this costs next to nothing."""
    source = Path(sysconfig.get_path("purelib"))
    try:
        shutil.copytree(
            source, target, ignore=NOT_COPIED, copy_function=os.link, dirs_exist_ok=True
        )
    except (OSError, shutil.Error):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target, ignore=NOT_COPIED, dirs_exist_ok=True)


def _make_venv(folder: Path) -> tuple[str, Path]:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    _copy_packages(packages)
    return str(python), packages


@pytest.fixture(params=[".venv", "venv", "env", "conda-env", "node_modules"])
def project_with_environment(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ProjectWithEnvironment]:
    kind: str = request.param
    root = write_project(tmp_path / "project", {"steps/hello_step.py": STEP.format(word="v1")})
    base_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    base_env["PYTHONUNBUFFERED"] = "1"
    if kind in (".venv", "venv", "env"):
        # A real virtual environment, as `python -m venv .venv` in the project makes it.
        python, packages = _make_venv(root / kind)
        env = {**base_env, "VIRTUAL_ENV": str(root / kind)}
    else:
        # A conda environment (marked by `conda-meta/`), or Python packages kept under
        # `node_modules/`, put first on the path.
        if kind == "conda-env":
            (root / kind / "conda-meta").mkdir(parents=True)
            (root / kind / "conda-meta" / "history").write_text("")
            packages = root / kind / "lib" / "python3" / "site-packages"
        else:
            packages = root / kind / "python-deps"
        _copy_packages(packages)
        python = sys.executable
        env = {**base_env, "PYTHONPATH": str(packages)}
    yield ProjectWithEnvironment(root, python, env, packages)


def _start_dev(project: ProjectWithEnvironment, log_dir: Path) -> ServerProcess:
    port = free_port()
    log_path = log_dir / f"dev-{port}.log"
    process = subprocess.Popen(
        [project.python, "-m", "motia", "dev", "--dir", str(project.root), "--port", str(port)],
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        env=project.env,
        cwd=project.root,
    )
    server = ServerProcess(process, port, log_path)
    wait_until_ready(server, timeout=60)
    return server


def test_dev_reloads_an_edited_step_with_an_environment_in_the_project(
    project_with_environment: ProjectWithEnvironment, tmp_path: Path
) -> None:
    project = project_with_environment
    server = _start_dev(project, tmp_path)
    try:
        first = server.client.post("/hello", json={"name": "ada"})
        assert first.status_code == 200, server.output()
        body = first.json()
        # The reproduction is real: the framework's own packages come from the project.
        assert Path(body["pydantic"]).resolve().is_relative_to(project.packages.resolve())
        assert Path(body["rich"]).resolve().is_relative_to(project.packages.resolve())
        assert body["says"] == "v1"

        (project.root / "steps" / "hello_step.py").write_text(STEP.format(word="v2"))
        server.wait_for_output("reloaded", timeout=30)

        def says() -> object:
            answer = server.client.post("/hello", json={"name": "bo"})
            assert answer.status_code == 200, answer.text + server.output()
            return answer.json()["says"] == "v2"

        wait_for(says)
        # The model from the reloaded step still validates bodies.
        assert server.client.post("/hello", json={}).status_code == 400
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(30) == 0, server.output()
    finally:
        server.stop(signal.SIGKILL)
    output = server.output()
    assert "Traceback" not in output and "NotRenderableError" not in output, output


def test_the_test_kit_loads_such_a_project_twice_in_one_process(
    project_with_environment: ProjectWithEnvironment,
) -> None:
    project = project_with_environment
    script = project.root / "tests_twice.py"
    script.write_text(textwrap.dedent(TESTER_SCRIPT))
    done = subprocess.run(
        [project.python, str(script), str(project.root)],
        capture_output=True,
        text=True,
        env=project.env,
        cwd=project.root,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.split() == ["first", "second"]
