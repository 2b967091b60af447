"""The TypedDicts users type their configs with (`motia.types`) and the models the loader
validates them with (`motia.steps.config`) describe the same keys, so neither can drift."""

from __future__ import annotations

import inspect
from typing import get_args

import pytest
from pydantic import BaseModel

import motia.types as typing_side
from motia.steps import config as model_side
from motia.steps import flow_config, http_options

# Each public config TypedDict and the model that validates the same dict.
PAIRS: dict[str, type[BaseModel]] = {
    "EmitTopic": model_side.EmitSpec,
    "QueryParam": model_side.QueryParam,
    "StepAuthConfig": model_side.StepAuth,
    "HandlerConfig": model_side.HandlerInfrastructure,
    "BackoffConfig": model_side.Backoff,
    "QueueConfig": model_side.QueueInfrastructure,
    "InfrastructureConfig": model_side.Infrastructure,
    "ApiRouteConfig": model_side.ApiStepConfig,
    "CorsConfig": http_options.CorsConfig,
    "RateLimitConfig": model_side.RateLimitConfig,
    "EventConfig": model_side.EventStepConfig,
    "ConcurrencyConfig": flow_config.ConcurrencyConfig,
    "ThrottleConfig": flow_config.ThrottleConfig,
    "DebounceConfig": flow_config.DebounceConfig,
    "BatchConfig": flow_config.BatchConfig,
    "CronConfig": model_side.CronStepConfig,
    "NoopConfig": model_side.NoopStepConfig,
    "StreamBaseConfig": model_side.StreamBaseConfig,
    "StreamConfig": model_side.StreamConfig,
}
# TypedDicts of `motia.types` that are not configs: what handlers take and return.
NOT_CONFIGS = {"Emit", "ApiRequest", "ApiResponse"}


def _keys(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _required(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items() if info.is_required()}


def test_every_public_config_typeddict_has_a_model() -> None:
    typed_dicts = {
        name
        for name, value in vars(typing_side).items()
        if inspect.isclass(value)
        and hasattr(value, "__required_keys__")
        and not name.startswith("_")
        and value.__module__ == typing_side.__name__
    }
    assert typed_dicts - NOT_CONFIGS == set(PAIRS)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_typeddict_and_model_accept_the_same_keys(name: str) -> None:
    typed = getattr(typing_side, name)
    model = PAIRS[name]
    assert typed.__required_keys__ | typed.__optional_keys__ == _keys(model)


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_what_the_loader_requires_the_typing_requires(name: str) -> None:
    """The typing may ask for more (classic's `emits: []`), never for less: a config that
    type-checks is not refused for a missing key."""
    typed = getattr(typing_side, name)
    assert _required(PAIRS[name]) <= typed.__required_keys__


def test_http_methods_agree() -> None:
    assert get_args(typing_side.HttpMethod) == get_args(model_side.HttpMethod)
