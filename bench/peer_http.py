"""Figure 12d: figure 2's `POST /items` (validation, state, one emit) under `motia start`
against the same endpoint written for FastAPI (bench/peers/fastapi_app.py, from its own
virtualenv) and figure 2's bare Starlette echo; all up at once on the server CPU, wrk on
the other, interleaved rounds like figures 1 and 2."""

from __future__ import annotations

from pathlib import Path

from harness import (
    API_PROJECT,
    POST_BODY,
    POST_LUA,
    Figure,
    Options,
    http_request,
    motia_argv,
    motia_env,
    servers,
    uvicorn_argv,
)
from peer_motia import PEER_DIR
from procs import HOST
from wrk import load_details, measure_load, median_rps, round_ratios


def fastapi_argv(python: str) -> list[str]:
    return [python, "-m", "uvicorn", "fastapi_app:app", "--app-dir", str(PEER_DIR),
            "--host", HOST, "--port", "{port}", "--loop", "uvloop", "--http", "httptools",
            "--workers", "1", "--no-access-log", "--log-level", "warning"]


def bench_fastapi(wrk: str, python: str, opts: Options, workdir: Path) -> list[Figure]:
    print("[12d] POST /items: Motia vs FastAPI vs Starlette echo", flush=True)
    specs: list[tuple[str, list[str], dict[str, str] | None, str]] = [
        ("motia", motia_argv(API_PROJECT, "{port}"), motia_env(workdir / "api-data"), "/hello"),
        ("fastapi", fastapi_argv(python), None, "/hello"),
        ("starlette", uvicorn_argv("starlette_app", "{port}"), None, "/hello"),
    ]
    with servers(specs, workdir) as running:
        for name, server in running.items():
            status, body = http_request(server.port, "POST", "/items", POST_BODY)
            if status != 201:
                raise RuntimeError(f"{name} POST /items answered {status}: {body[:200]!r}")
        post = measure_load(wrk, running, "/items", opts, POST_LUA)
    motia, fastapi, starlette = (median_rps(post[n]) for n in ("motia", "fastapi", "starlette"))
    details = {"round_ratios": round_ratios(post["motia"], post["fastapi"]),
               **{name: load_details(results) for name, results in post.items()}}
    return [
        Figure("peers_post_vs_fastapi", "12d. POST validate+state+emit vs FastAPI", motia,
               "req/s", fastapi, "FastAPI, validate + dict", motia / fastapi, "reference", "",
               "", details),
        Figure("peers_fastapi_vs_starlette", "12d. FastAPI POST vs Starlette echo", fastapi,
               "req/s", starlette, "Starlette echo", fastapi / starlette, "reference", ""),
    ]
