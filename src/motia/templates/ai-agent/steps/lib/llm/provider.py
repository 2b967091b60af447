"""What every model provider offers the agents: a chat completion, streamed in pieces."""

from collections.abc import AsyncIterator
from typing import Protocol, TypedDict


class Message(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


class ProviderError(Exception):
    """The provider could not answer (network, HTTP status, malformed stream)."""


class Provider(Protocol):
    name: str

    def stream_chat(self, messages: list[Message]) -> AsyncIterator[str]:
        """The answer to `messages`, piece by piece (tokens), as the model produces it."""
        ...
