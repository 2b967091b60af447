"""The flow graph that the manifest, the workbench and `motia flows` all draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from motia.steps import graph
from motia.steps.config import CONFIG_MODELS
from motia.steps.model import Step


def _step(**raw: Any) -> Step:
    config: Any = CONFIG_MODELS[raw["type"]].model_validate(raw)
    return Step(
        file=Path(f"steps/{raw['name']}_step.py"), config=config, raw_config=raw, handler=None
    )


STEPS = [
    _step(
        type="api",
        name="Order",
        method="POST",
        path="/orders",
        flows=["shop"],
        emits=[{"topic": "order.placed", "label": "when valid", "conditional": True}, "audit"],
    ),
    _step(type="event", name="Ship", subscribes=["order.placed"], emits=[], flows=["shop", "shop"]),
    _step(
        type="noop",
        name="Human",
        virtualSubscribes=["order.placed"],
        virtualEmits=["order.reviewed"],
        flows=["shop"],
    ),
    _step(type="cron", name="Nightly", cron="0 0 * * *", emits=["report"]),
]


def test_edges_join_emits_to_subscribes_real_and_virtual() -> None:
    found = {(e.source, e.topic, e.target): e for e in graph.edges(STEPS)}
    assert set(found) == {("Order", "order.placed", "Ship"), ("Order", "order.placed", "Human")}
    real = found[("Order", "order.placed", "Ship")]
    assert (real.virtual, real.label, real.conditional) == (False, "when valid", True)
    # A virtual end makes the whole edge virtual.
    assert found[("Order", "order.placed", "Human")].virtual


def test_edges_within_a_flow_keep_both_ends_inside() -> None:
    all_edges = graph.edges(STEPS)
    assert graph.edges_within(all_edges, {"Order", "Ship"}) == [all_edges[0]]
    assert graph.edges_within(all_edges, {"Ship", "Human"}) == []


def test_topics_name_every_end() -> None:
    ends = graph.topics(STEPS)
    assert list(ends) == sorted(ends)
    placed = ends["order.placed"]
    assert (placed.emitters, placed.subscribers, placed.virtual_subscribers) == (
        ["Order"],
        ["Ship"],
        ["Human"],
    )
    assert ends["order.reviewed"].virtual_emitters == ["Human"]


def test_unsubscribed_topics_are_real_emits_nobody_subscribes_to() -> None:
    # `order.reviewed` is only drawn, so it is not an event that goes nowhere.
    assert graph.unsubscribed_topics(STEPS) == {"audit": ["Order"], "report": ["Nightly"]}


def test_emitted_topics_count_virtual_emits() -> None:
    assert graph.emitted_topics(STEPS) == {"order.placed", "audit", "order.reviewed", "report"}


def test_steps_by_flow_lists_each_step_once_and_groups_the_rest_when_asked() -> None:
    by_flow = graph.steps_by_flow(STEPS)
    assert {flow: [s.name for s in steps] for flow, steps in by_flow.items()} == {
        "shop": ["Order", "Ship", "Human"]
    }
    with_rest = graph.steps_by_flow(STEPS, unnamed="No flow")
    assert [s.name for s in with_rest["No flow"]] == ["Nightly"]
