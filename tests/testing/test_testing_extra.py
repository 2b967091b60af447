"""Without httpx (installed by the `testing` extra), the tester says what to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import write_project

SCRIPT = """
    import asyncio
    import sys

    sys.modules["httpx"] = None  # as if it were not installed

    from motia.testing import create_tester

    async def main():
        async with create_tester(sys.argv[1]):
            pass

    try:
        asyncio.run(main())
    except ImportError as exc:
        print(exc)
        sys.exit(3)
"""


def test_a_missing_httpx_names_the_testing_extra(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "app",
        {
            "steps/ping_step.py": """
                config = {"type": "api", "name": "Ping", "method": "GET", "path": "/ping",
                          "emits": []}

                async def handler(req, ctx):
                    return {"status": 200, "body": {}}
            """
        },
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT), str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "pip install 'motia-python[testing]'" in result.stdout
