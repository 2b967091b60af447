"""Rate limits and bearer tokens on the same step: requests with a bad token count against
the client's limit; a limit by subject counts each token's subject on its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jwt

from tests.auth.support import AUDIENCE, ISSUER, SECRET, claims
from tests.conftest import ServerProcess, write_project

Factory = Callable[..., ServerProcess]

ENV = {"JWT_SECRET": SECRET, "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE}
STEPS = {
    "steps/login_step.py": """
        config = {"type": "api", "name": "Orders", "method": "GET", "path": "/orders",
                  "emits": [], "auth": True,
                  "rateLimit": {"requests": 3, "per": "1m"}}
        async def handler(req, ctx):
            return {"status": 200, "body": {"sub": req["auth"]["sub"]}}
    """,
    "steps/mine_step.py": """
        config = {"type": "api", "name": "Mine", "method": "GET", "path": "/mine",
                  "emits": [], "auth": True,
                  "rateLimit": {"requests": 2, "per": "1m", "by": "subject"}}
        async def handler(req, ctx):
            return {"status": 200, "body": {"sub": req["auth"]["sub"]}}
    """,
}


def bearer(sub: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + jwt.encode(claims(sub=sub), SECRET, algorithm="HS256")}


def test_bad_tokens_count_against_the_client_limit(tmp_path: Path, server_factory: Factory) -> None:
    server = server_factory(write_project(tmp_path / "app", STEPS), "start", env=ENV)
    wrong = {"Authorization": "Bearer not-a-token"}
    assert [server.client.get("/orders", headers=wrong).status_code for _ in range(3)] == [401] * 3
    # The guesses used the client's quota: a good token from the same client now waits too.
    refused = server.client.get("/orders", headers=bearer("ada"))
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) > 0


def test_a_limit_by_subject_counts_each_token_subject(
    tmp_path: Path, server_factory: Factory
) -> None:
    server = server_factory(write_project(tmp_path / "app", STEPS), "start", env=ENV)
    ada, bob = bearer("ada"), bearer("bob")
    codes = [server.client.get("/mine", headers=ada).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    answered = server.client.get("/mine", headers=bob)  # another subject, same address
    assert (answered.status_code, answered.json()) == (200, {"sub": "bob"})
    missing = server.client.get("/mine")
    assert missing.status_code == 401  # no subject to count: the token is asked for first
