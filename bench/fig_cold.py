"""Figure 4: cold start of a generated 20-step project, spawn of `motia start` -> first 200."""

from __future__ import annotations

import statistics
import textwrap
import time
from pathlib import Path

from harness import (
    REPO,
    SERVER_CPU,
    Figure,
    Options,
    judge,
    motia_argv,
    motia_env,
    uvicorn_argv,
    wait_for_200,
)
from procs import free_port, kill, pinned, spawn


def write_cold_project(root: Path) -> None:
    """20 steps: 8 API (4 GET, 4 POST with body schemas), 8 event (a chain, with input
    schemas), 4 cron, plus a shared helper module."""
    files: dict[str, str] = {
        "config.yml": "state:\n  adapter: sqlite\n",
        "steps/lib/__init__.py": "",
        "steps/lib/helpers.py": """
            def describe(item):
                return f"{item.get('name', '?')} x{item.get('quantity', 1)}"
        """,
    }
    for i in range(8):
        if i < 4:
            files[f"steps/api/get_{i}_step.py"] = f"""
                from ..lib.helpers import describe

                config = {{
                    "type": "api", "name": "Get{i}", "method": "GET", "path": "/cold/api{i}",
                    "emits": [], "flows": ["cold"],
                }}

                async def handler(req, ctx):
                    return {{"status": 200, "body": {{"step": {i}, "d": describe({{}})}}}}
            """
        else:
            files[f"steps/api/post_{i}_step.py"] = f"""
                config = {{
                    "type": "api", "name": "Post{i}", "method": "POST", "path": "/cold/api{i}",
                    "bodySchema": {{
                        "type": "object",
                        "properties": {{"name": {{"type": "string"}},
                                        "quantity": {{"type": "integer", "minimum": 1}}}},
                        "required": ["name"],
                    }},
                    "emits": ["cold.e0"], "flows": ["cold"],
                }}

                async def handler(req, ctx):
                    await ctx.state.set("cold", ctx.trace_id, req["body"])
                    await ctx.emit({{"topic": "cold.e0", "data": req["body"]}})
                    return {{"status": 201, "body": {{"ok": True}}}}
            """
        nxt = f'["cold.e{i + 1}"]' if i < 7 else "[]"
        emit = f'await ctx.emit({{"topic": "cold.e{i + 1}", "data": data}})' if i < 7 else "pass"
        files[f"steps/events/e{i}_step.py"] = f"""
            config = {{
                "type": "event", "name": "Event{i}", "subscribes": ["cold.e{i}"],
                "emits": {nxt},
                "input": {{"type": "object", "properties": {{"name": {{"type": "string"}}}}}},
                "flows": ["cold"],
            }}

            async def handler(data, ctx):
                ctx.logger.info("event {i}", {{"name": data.get("name")}})
                {emit}
        """
    for i in range(4):
        files[f"steps/cron/c{i}_step.py"] = f"""
            config = {{
                "type": "cron", "name": "Cron{i}", "cron": "*/{i + 5} * * * *",
                "emits": [], "flows": ["cold"],
            }}

            async def handler(ctx):
                ctx.logger.info("cron {i}")
        """
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip())


def _time_to_200(argv: list[str], env: dict[str, str] | None, port: int, path: str,
                 log: Path) -> float:
    started = time.perf_counter()
    proc = spawn(pinned(argv, SERVER_CPU), env=env, log=log, cwd=REPO)
    try:
        answered = wait_for_200(proc, port, path, timeout=30.0)
    except Exception as exc:
        raise RuntimeError(f"cold start failed: {exc}\n{log.read_text()[-2000:]}") from exc
    finally:
        kill(proc)
    return answered - started


def bench_cold_start(opts: Options, workdir: Path) -> list[Figure]:
    """Spawn -> first HTTP 200, the 20-step project under `motia start` interleaved with the
    bare Starlette app under uvicorn (the floor: interpreter, uvicorn and Starlette imports)."""
    print(f"[4] cold start of a 20-step project ({opts.cold_runs} runs each)", flush=True)
    project = workdir / "cold"
    write_cold_project(project)
    step_files = len(list(project.rglob("*_step.py")))
    motia_times: list[float] = []
    star_times: list[float] = []
    for run in range(opts.cold_runs):
        port = free_port()
        motia_times.append(_time_to_200(
            motia_argv(project, port), motia_env(workdir / f"cold-data-{run}"), port,
            "/cold/api0", workdir / f"cold-{run}.log",
        ))
        port = free_port()
        star_times.append(_time_to_200(
            uvicorn_argv("starlette_app", port), None, port, "/hello",
            workdir / f"cold-starlette-{run}.log",
        ))
        print(f"  run {run + 1}: motia {motia_times[-1] * 1000:.0f} ms   "
              f"starlette {star_times[-1] * 1000:.0f} ms", flush=True)
    motia, star = statistics.median(motia_times), statistics.median(star_times)
    return [Figure("cold_start_s", "4. cold start, 20 steps", motia, "s", star,
                   "Starlette app", motia / star, "<= 1 s", "", judge(motia, 1.0, None, False),
                   {"runs_s": [round(t, 4) for t in motia_times],
                    "starlette_runs_s": [round(t, 4) for t in star_times],
                    "step_files": step_files})]
