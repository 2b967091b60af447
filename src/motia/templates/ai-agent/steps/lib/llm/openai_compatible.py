"""Chat completions from any OpenAI-compatible API (OpenAI, Ollama, vLLM, LM Studio, ...),
streamed as server-sent events: `data: {chunk}` lines, then `data: [DONE]`."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from steps.lib.llm.provider import Message, ProviderError


class OpenAICompatible:
    name = "openai-compatible"

    def __init__(self, base_url: str, api_key: str, model: str, timeout: float = 60.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key
        self.model = model
        self.timeout = timeout

    async def stream_chat(self, messages: list[Message]) -> AsyncIterator[str]:
        body = {"model": self.model, "messages": messages, "stream": True}
        headers = {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout) as client,
                client.stream("POST", self.url, json=body, headers=headers) as response,
            ):
                if response.status_code >= 400:
                    text = (await response.aread()).decode(errors="replace")[:200]
                    raise ProviderError(f"{self.url} answered {response.status_code}: {text}")
                async for line in response.aiter_lines():
                    piece = _piece(line)
                    if piece is None:
                        break
                    if piece:
                        yield piece
        except httpx.HTTPError as error:
            raise ProviderError(f"{self.url}: {type(error).__name__}: {error}") from error


def _piece(line: str) -> str | None:
    """The text of one SSE line: "" for lines without any, None at `[DONE]`."""
    if not line.startswith("data:"):
        return ""
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return None
    try:
        chunk: dict[str, Any] = json.loads(data)
        choices = chunk.get("choices") or [{}]
        return str(choices[0].get("delta", {}).get("content") or "")
    except (ValueError, AttributeError, IndexError) as error:
        raise ProviderError(f"a malformed chunk in the stream: {data[:100]}") from error
