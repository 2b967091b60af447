"""Rate limiting arithmetic (GCRA) on a clock moved by hand, the client behind trusted
proxies, and how `rateLimit` and `ctx.rate_limit` read their arguments."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from motia.adapters.ratelimit.base import Decision, LocalRateLimiter, gcra
from motia.errors import Problem, StoreUnavailable
from motia.http.proxies import ClientResolver
from motia.http.rate_limit import request_key
from motia.logs import Logger
from motia.runtime.loading import load_project
from motia.runtime.rate_limits import RateLimits
from motia.settings.kinds import Invalid
from motia.settings.rate_limit import parse_by, parse_period
from motia.testing import create_mock_context
from motia.testing._logs import CaptureSink
from motia.testing.clock import ManualClock
from tests.conftest import write_project


def test_a_burst_of_the_limit_is_allowed_then_one_more_per_interval() -> None:
    clock = ManualClock()
    limiter = LocalRateLimiter(clock)
    decisions = [limiter.hit_now("k", 5, 60) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    refused = decisions[-1]
    assert refused.retry_after == pytest.approx(12.0)  # one request every 60/5 s
    assert refused.reset == pytest.approx(60.0)  # the full quota is back after the period
    assert decisions[0].reset == pytest.approx(12.0)

    clock.advance(11.9)
    assert not limiter.hit_now("k", 5, 60).allowed
    clock.advance(0.1)
    allowed = limiter.hit_now("k", 5, 60)
    assert allowed.allowed and allowed.remaining == 0
    assert not limiter.hit_now("k", 5, 60).allowed


def test_a_refused_call_does_not_count() -> None:
    clock = ManualClock()
    limiter = LocalRateLimiter(clock)
    for _ in range(2):
        limiter.hit_now("k", 2, 10)
    for _ in range(50):  # hammering while refused does not push the next slot back
        assert not limiter.hit_now("k", 2, 10).allowed
    clock.advance(5)
    assert limiter.hit_now("k", 2, 10).allowed


def test_after_the_burst_the_rate_is_one_per_interval() -> None:
    clock = ManualClock()
    limiter = LocalRateLimiter(clock)
    allowed_at: list[float] = []
    for _ in range(1000):  # a request every 0.25 s for 250 s
        if limiter.hit_now("k", 10, 60).allowed:
            allowed_at.append(clock.time())
        clock.advance(0.25)
    start = allowed_at[0]
    assert [t - start for t in allowed_at[:10]] == [i * 0.25 for i in range(10)]  # the burst
    assert allowed_at[10] - start == pytest.approx(6.0)
    gaps = [b - a for a, b in itertools.pairwise(allowed_at[10:])]
    assert all(gap == pytest.approx(6.0) for gap in gaps)  # then one per 60/10 s
    assert len(allowed_at) == 10 + 250 // 6


def test_keys_are_counted_apart_and_a_full_key_is_forgotten_when_it_refills() -> None:
    clock = ManualClock()
    limiter = LocalRateLimiter(clock)
    assert limiter.hit_now("a", 1, 1).allowed
    assert limiter.hit_now("b", 1, 1).allowed
    assert not limiter.hit_now("a", 1, 1).allowed
    stored, decision = gcra(None, 100.0, 3, 30)
    assert stored == pytest.approx(110.0) and decision.remaining == 2
    # A TAT in the past is a fresh key.
    stored, decision = gcra(50.0, 100.0, 3, 30)
    assert stored == pytest.approx(110.0) and decision.remaining == 2


def test_a_decision_unpacks_as_allowed_and_retry_after() -> None:
    limiter = LocalRateLimiter(ManualClock())
    limiter.hit_now("k", 1, 60)
    allowed, retry_after = limiter.hit_now("k", 1, 60)
    assert allowed is False and retry_after == pytest.approx(60)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [(30, 30.0), (0.5, 0.5), ("10s", 10.0), ("1m", 60.0), ("1h", 3600.0), ("1d", 86400.0)],
)
def test_periods(written: object, seconds: float) -> None:
    assert parse_period(written) == seconds


@pytest.mark.parametrize("written", [0, -1, "2d", "1w", "soon", True, None, float("nan")])
def test_bad_periods(written: object) -> None:
    with pytest.raises(Invalid):
        parse_period(written)


def test_limit_keys() -> None:
    assert parse_by("IP") == "ip"
    assert parse_by("subject") == "subject"
    assert parse_by("header:X-Api-Key") == "header:x-api-key"
    for bad in ("header:", "cookie:x", "header:bad name", 3):
        with pytest.raises(Invalid):
            parse_by(bad)


SCOPE = {"client": ("10.0.0.5", 5000), "scheme": "http"}


def test_forwarded_headers_from_an_untrusted_peer_are_ignored() -> None:
    resolver = ClientResolver(("10.1.0.0/16",))
    headers = {"x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https"}
    assert resolver.resolve(SCOPE, headers) == ("10.0.0.5", "http")
    assert ClientResolver(()).resolve(SCOPE, headers) == ("10.0.0.5", "http")


def test_the_chain_is_walked_from_the_right_past_trusted_hops() -> None:
    resolver = ClientResolver(("10.0.0.0/8",))
    spoofed = {"x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.2.3.4", "x-forwarded-proto": "https"}
    assert resolver.resolve(SCOPE, spoofed) == ("203.0.113.7", "https")
    every_hop_trusted = {"x-forwarded-for": "10.9.9.9, 10.2.3.4"}
    assert resolver.resolve(SCOPE, every_hop_trusted) == ("10.9.9.9", "http")
    assert resolver.resolve(SCOPE, {}) == ("10.0.0.5", "http")
    assert resolver.resolve(SCOPE, {"x-forwarded-proto": "gopher"}) == ("10.0.0.5", "http")


def test_rfc_7239_forwarded() -> None:
    resolver = ClientResolver(("10.0.0.0/8", "::1"))
    headers = {
        "forwarded": 'for=6.6.6.6, for="[2001:db8::17]:4711";proto=https, for=10.0.0.9',
        "x-forwarded-for": "7.7.7.7",  # Forwarded wins when both are sent
    }
    assert resolver.resolve(SCOPE, headers) == ("2001:db8::17", "https")
    ipv6_peer = {"client": ("::1", 5000), "scheme": "http"}
    assert resolver.resolve(ipv6_peer, {"forwarded": 'for="192.0.2.43:47011"'}) == (
        "192.0.2.43",
        "http",
    )
    mapped = {"client": ("::ffff:10.0.0.5", 1), "scheme": "http"}
    assert resolver.resolve(mapped, {"x-forwarded-for": "198.51.100.1"})[0] == "198.51.100.1"


def test_ctx_rate_limit_counts_and_checks_its_arguments() -> None:
    ctx = create_mock_context()
    assert ctx.rate_limit("geocoder", requests=2, per="1s").allowed
    assert ctx.rateLimit("geocoder", requests=2, per="1s").allowed
    allowed, retry_after = ctx.rate_limit("geocoder", requests=2, per="1s")
    assert not allowed and retry_after == pytest.approx(0.5)
    assert ctx.rate_limit("other", requests=2, per=1).allowed
    with pytest.raises(ValueError, match="requests"):
        ctx.rate_limit("x", requests=0, per=1)
    with pytest.raises(ValueError, match="per"):
        ctx.rate_limit("x", requests=1, per="1w")


API = """
from motia import ApiRouteConfig
config = {{"type": "api", "name": "{name}", "method": "GET", "path": "/{name}",
          "rateLimit": {limit}}}

async def handler(req, ctx):
    return {{"status": 200, "body": "ok"}}
"""


def _problem_for(problems: list[Problem], step: str) -> Problem:
    found = [p for p in problems if p.step == step]
    assert len(found) == 1, "\n".join(map(str, problems))
    return found[0]


def test_bad_rate_limits_are_load_errors_naming_file_step_and_field(tmp_path: Path) -> None:
    cases = {
        "Good": '{"requests": 5, "per": "1m", "by": "header:x-api-key"}',
        "Off": "False",
        "Own": '{"requests": 5, "per": 60, "by": lambda req: req["headers"].get("x-t")}',
        "NoRequests": '{"per": "1m"}',
        "BadPer": '{"requests": 5, "per": "1w"}',
        "BadBy": '{"requests": 5, "per": 60, "by": "cookie:session"}',
        "Extra": '{"requests": 5, "per": 60, "burst": 3}',
        "Zero": '{"requests": 0, "per": 60}',
        "Fraction": '{"requests": 2.5, "per": 60}',
        "True": "True",
    }
    files = {
        f"steps/{name.lower()}_step.py": API.format(name=name, limit=limit)
        for name, limit in cases.items()
    }
    problems = load_project(write_project(tmp_path, files)).problems
    assert not [p for p in problems if p.step in ("Good", "Off", "Own")]
    expected = {
        "NoRequests": ("rateLimit.requests", "required field is missing"),
        "BadPer": ("rateLimit.per", "'1w' is not a period"),
        "BadBy": ("rateLimit.by", "'cookie:session' is not 'ip', 'subject' or 'header:<name>'"),
        "Extra": ("rateLimit.burst", "unknown field"),
        "Zero": ("rateLimit.requests", "greater than or equal to 1"),
        "Fraction": ("rateLimit.requests", "whole number"),
        "True": ("rateLimit", "must be an object such as"),
    }
    for step, (field, message) in expected.items():
        problem = _problem_for(problems, step)
        assert problem.field == field, problem
        assert message in problem.message, problem
        assert problem.file == Path(f"steps/{step.lower()}_step.py")


async def test_what_a_request_is_counted_under() -> None:
    client = {"ip": "203.0.113.7", "scheme": "https"}
    view: dict[str, object] = {"headers": {"x-api-key": "secret"}, "client": client}
    assert await request_key("ip", view) == "ip:203.0.113.7"
    keyed = await request_key("header:x-api-key", view)
    assert keyed.startswith("k:") and "secret" not in keyed
    assert await request_key("header:x-other", view) == "ip:203.0.113.7"
    assert await request_key("subject", view) == "ip:203.0.113.7"
    with_subject = {**view, "auth": {"sub": "user-1"}}
    assert await request_key("subject", with_subject) not in (keyed, "ip:203.0.113.7")

    async def tenant(req: dict[str, object]) -> str:
        return "acme"

    assert await request_key(tenant, view) == await request_key(lambda req: "acme", view)
    assert await request_key(lambda req: None, view) == "ip:203.0.113.7"
    no_address = {"headers": {}, "client": {"ip": "", "scheme": "http"}}
    assert await request_key("ip", no_address) == "ip:unknown"


class _Outage(LocalRateLimiter):
    """Counts in memory; while `down`, fails as a Redis that cannot be reached does."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__(clock)
        self.down = False
        self.asked = 0

    async def hit(self, key: str, requests: int, per: float) -> Decision:
        self.asked += 1
        if self.down:
            raise StoreUnavailable("cannot reach Redis at 127.0.0.1:6379 for rate limits")
        return await super().hit(key, requests, per)


@pytest.mark.parametrize("fail_closed", [False, True])
async def test_an_outage_is_decided_by_the_policy_logged_once_and_healed(
    fail_closed: bool,
) -> None:
    sink = CaptureSink()
    limiter = _Outage(ManualClock())
    limits = RateLimits(limiter, Logger(sink, None, None, []), fail_closed=fail_closed)
    assert (await limits.check("k", 1, 60)).allowed
    assert not (await limits.check("k", 1, 60)).allowed

    limiter.down = True
    during = [await limits.check("k", 1, 60) for _ in range(20)]
    assert {d.allowed for d in during} == {not fail_closed}
    assert limiter.asked == 3  # once, then not again within RETRY_INTERVAL
    messages = [r["msg"] for r in sink.records]
    assert len([m for m in messages if m.startswith("rate limits unavailable")]) == 1

    limiter.down = False
    limits._next_try = 0.0  # the retry interval has passed
    assert not (await limits.check("k", 1, 60)).allowed  # the count survived
    assert sink.records[-1]["msg"] == "rate limits available again"
