"""The Prometheus alert rules of docs/operations.md, held against a real scrape: every
metric they read, every label they match or group by, and every label value they select is
one the server exposes once steps have succeeded, failed, retried and dead-lettered."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ServerProcess, wait_for, write_project
from tests.monitoring.test_metrics_endpoint import STEPS, sample

Factory = Callable[..., ServerProcess]

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
SELECTOR = re.compile(r"\b(motia_[a-z_]+)(?:\{([^}]*)\})?")
MATCHER = re.compile(r'([a-z_]+)\s*(=~|=)\s*"([^"]*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
# Labels Prometheus adds to every scraped sample, not the server.
TARGET_LABELS = {"instance", "job"}

BROKEN_API = """
    config = {"type": "api", "name": "Broken", "method": "GET", "path": "/broken",
              "emits": []}
    async def handler(req, ctx):
        raise RuntimeError("broken")
"""


def alert_rules() -> list[dict[str, Any]]:
    blocks = [yaml.safe_load(block) for block in YAML_BLOCK.findall(DOC.read_text())]
    groups = [block for block in blocks if isinstance(block, dict) and "groups" in block]
    assert len(groups) == 1, "docs/operations.md has one block of alert rules"
    rules: list[dict[str, Any]] = [r for group in groups[0]["groups"] for r in group["rules"]]
    return rules


def samples_of(text: str, name: str) -> list[dict[str, str]]:
    """The label sets of every sample of `name` (histograms by their series)."""
    found = []
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? \S+", line)
        if match is None or match.group(1) != name:
            continue
        found.append(dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group(2) or "")))
    return found


def test_every_rule_is_complete() -> None:
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "MotiaDeadLetters",
        "MotiaBacklogGrowing",
        "MotiaEventFailureRate",
    }
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in ("warning", "critical"), rule
        assert rule["annotations"]["summary"], rule
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule


def test_the_rules_read_what_the_server_exposes(tmp_path: Path, server_factory: Factory) -> None:
    project = write_project(tmp_path / "app", {**STEPS, "steps/broken_step.py": BROKEN_API})
    server = server_factory(project, "dev")
    client = server.client
    assert client.post("/things/a", json={"n": 1}).status_code == 201
    assert client.post("/things/b", json={"n": -1}).status_code == 201
    assert client.get("/broken").status_code == 500

    def scraped() -> str | bool:
        text = client.get("/__motia/metrics").text
        return text if sample(text, "motia_dead_letters_total", step="Fail") == 1 else False

    text = wait_for(scraped, 15, what="the failing event dead-lettered")
    assert isinstance(text, str)
    checked = 0
    for rule in alert_rules():
        expr = rule["expr"]
        selectors = SELECTOR.findall(expr)
        labels_seen: set[str] = set()
        for name, matchers in selectors:
            series = samples_of(text, name)
            assert series, f"{rule['alert']}: the server exposes no {name}"
            labels_seen.update(label for labels in series for label in labels)
            for label, operator, value in MATCHER.findall(matchers):
                wanted = value.split("|") if operator == "=~" else [value]
                for one in wanted:
                    assert any(labels.get(label) == one for labels in series), (
                        f"{rule['alert']}: no {name} sample has {label}={one!r}"
                    )
                checked += 1
        for grouping in GROUPING.findall(expr):
            for label in (part.strip() for part in grouping.split(",")):
                assert label in labels_seen | TARGET_LABELS, (
                    f"{rule['alert']}: groups by {label!r}, which {selectors} do not have"
                )
    assert checked >= 5
