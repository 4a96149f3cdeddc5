"""What the model-played judge and caller share: a lazily made ``openai`` client for chat completions."""

from __future__ import annotations

from typing import Any

__all__ = ["OpenAIChat"]


class OpenAIChat:
    """A part played by an OpenAI model through the ``openai`` package's chat completions API.

    Args:
        model: The model (default: the part's own, `default_model`).
        api_key: The key (default: the ``openai`` package's own, ``OPENAI_API_KEY``).
        base_url: Another OpenAI-compatible endpoint (a gateway, Azure's v1 API).
        client: An ``openai.AsyncOpenAI`` to use instead of making one.
    """

    default_model = "gpt-4.1-mini"

    def __init__(
        self, model: str | None = None, *, api_key: str | None = None, base_url: str | None = None, client: Any = None
    ) -> None:
        self.model = model or self.default_model
        self._api_key = api_key
        self._base_url = base_url
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model}>"

    def chat_client(self) -> Any:
        """The client, made on first use (so the ``openai`` package loads only when a model is asked)."""
        if self._client is None:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(api_key=self._api_key, base_url=self._base_url)
        return self._client
