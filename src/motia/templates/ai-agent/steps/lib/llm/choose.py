"""Which provider the agents use, from the environment."""

import os

from steps.lib.llm.offline import OfflineProvider
from steps.lib.llm.openai_compatible import OpenAICompatible
from steps.lib.llm.provider import Provider


def provider_from_env() -> Provider:
    """`LLM_BASE_URL` picks an OpenAI-compatible API (with `LLM_API_KEY`, `LLM_MODEL`);
    without it, the offline provider answers: no key, no network."""
    base_url = os.environ.get("LLM_BASE_URL", "").strip()
    if not base_url:
        return OfflineProvider()
    model = os.environ.get("LLM_MODEL", "gpt-4o-mini")
    return OpenAICompatible(base_url, os.environ.get("LLM_API_KEY", ""), model)
