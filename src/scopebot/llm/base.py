"""The chat-model seam: messages in, a stream of deltas out. One abstract method.

Backends (in sibling modules) implement :meth:`ChatModel.stream`. Everything else —
:meth:`complete`, collecting tool calls — is built on it, so every backend gets it for free.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["system", "user", "assistant", "tool"]


class ToolCall(BaseModel):
    """A request from the model to call one tool."""

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Message(BaseModel):
    """One chat message."""

    role: Role
    content: str = ""
    name: str | None = None
    tool_call_id: str | None = Field(default=None, description="For role='tool': the call answered.")
    tool_calls: list[ToolCall] = Field(default_factory=list, description="For role='assistant'.")


class ToolSpec(BaseModel):
    """A tool the model may call (OpenAI function-calling shape)."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ChatDelta(BaseModel):
    """One piece of a streamed response: text, and/or finished tool calls, and/or the end."""

    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None


class ChatResponse(BaseModel):
    """A complete response assembled from the deltas."""

    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    finish_reason: str | None = None


class ChatModel(ABC):
    """A chat model backend. Implement :meth:`stream`; use :meth:`complete` for whole answers."""

    #: Short name shown in answers and reports, e.g. 'embedded:SmolLM2-135M-Instruct'.
    name: str = "model"
    #: Whether the backend honours ``tools=`` (native tool calling).
    supports_tools: bool = False
    #: Whether the backend is strong enough to write answers itself (else extractive mode is default).
    is_small: bool = False
    #: Whether :meth:`complete_json` constrains decoding to the schema (native structured output).
    supports_json_schema: bool = False

    @abstractmethod
    def stream(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
               max_tokens: int | None = None, temperature: float | None = None,
               stop: Sequence[str] | None = None) -> Iterator[ChatDelta]:
        """Yield the response as it is generated."""

    def complete(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
                 max_tokens: int | None = None, temperature: float | None = None,
                 stop: Sequence[str] | None = None) -> ChatResponse:
        """Run :meth:`stream` to the end and assemble the response."""
        parts: list[str] = []
        calls: list[ToolCall] = []
        finish: str | None = None
        for delta in self.stream(messages, tools=tools, max_tokens=max_tokens, temperature=temperature, stop=stop):
            parts.append(delta.text)
            calls.extend(delta.tool_calls)
            finish = delta.finish_reason or finish
        return ChatResponse(text="".join(parts), tool_calls=calls, finish_reason=finish)

    def complete_json(self, messages: Sequence[Message], schema: dict[str, Any], *, name: str = "reply",
                      max_tokens: int | None = None, temperature: float | None = None) -> ChatResponse:
        """A reply meant to be one JSON object valid for ``schema`` (named ``name``).

        Backends with structured output (:attr:`supports_json_schema`) constrain decoding to the
        schema; the others answer from the prompt, which should carry the schema too. Callers validate
        the reply either way."""
        return self.complete(messages, max_tokens=max_tokens, temperature=temperature)
