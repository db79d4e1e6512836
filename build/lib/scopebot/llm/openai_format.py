"""Translation between scopebot's chat types and the OpenAI chat-completions wire format.

Pure functions on plain dicts (no ``openai`` import), shared by the OpenAI-compatible backend and
the embedded llama.cpp backend (whose ``create_chat_completion`` speaks the same format). Streamed
tool calls arrive as fragments keyed by index; :class:`ToolCallAssembler` joins them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scopebot.llm.base import Message, ToolCall, ToolSpec

#: Key under which arguments that are not valid JSON are passed on (the agent reports them back).
RAW_ARGUMENTS_KEY = "_raw_arguments"


def message_to_openai(message: Message) -> dict[str, Any]:
    """One :class:`Message` as an OpenAI chat message dict."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name and message.role in ("system", "user", "assistant"):
        out["name"] = message.name
    if message.role == "assistant" and message.tool_calls:
        out["content"] = message.content or None
        out["tool_calls"] = [
            {"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)}}
            for call in message.tool_calls
        ]
    if message.role == "tool":
        out["tool_call_id"] = message.tool_call_id or ""
    return out


def messages_to_openai(messages: Iterable[Message]) -> list[dict[str, Any]]:
    return [message_to_openai(m) for m in messages]


def messages_to_plain_chat(messages: Iterable[Message]) -> list[dict[str, str]]:
    """Messages for a model without native tool calling: only system/user/assistant text.

    Tool calls the assistant made are written out as JSON text and tool results become user turns, so
    a small chat template (which knows only three roles) still sees the whole exchange.
    """
    out: list[dict[str, str]] = []
    for m in messages:
        if m.role == "tool":
            label = f"Result of tool call {m.tool_call_id}" if m.tool_call_id else "Tool result"
            out.append({"role": "user", "content": f"{label}:\n{m.content}"})
        elif m.role == "assistant" and m.tool_calls:
            calls = json.dumps([{"name": c.name, "arguments": c.arguments} for c in m.tool_calls])
            text = f"{m.content}\n{calls}" if m.content else calls
            out.append({"role": "assistant", "content": text})
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def tool_to_openai(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": tool.parameters}}


def tools_to_openai(tools: Sequence[ToolSpec] | None) -> list[dict[str, Any]] | None:
    return [tool_to_openai(t) for t in tools] if tools else None


def parse_arguments(raw: str | dict[str, Any] | None) -> dict[str, Any]:
    """Decode a tool call's arguments; text that is not a JSON object is kept under ``_raw_arguments``."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {RAW_ARGUMENTS_KEY: raw}
    return value if isinstance(value, dict) else {RAW_ARGUMENTS_KEY: raw}


def tool_call_from_openai(call: Any, index: int = 0) -> ToolCall:
    """A :class:`ToolCall` from an OpenAI tool-call object or dict (non-streamed responses)."""
    data = call if isinstance(call, dict) else call.model_dump()
    function = data.get("function") or {}
    return ToolCall(id=data.get("id") or f"call_{index}", name=function.get("name") or "",
                    arguments=parse_arguments(function.get("arguments")))


@dataclass
class _Partial:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    """Joins streamed tool-call fragments (``delta.tool_calls``) into whole :class:`ToolCall` objects.

    OpenAI-compatible servers send the id and name in the first fragment of each call and the JSON
    arguments spread over later fragments, all tagged with the call's ``index``.
    """

    def __init__(self) -> None:
        self._parts: dict[int, _Partial] = {}

    def add(self, fragment: Any) -> None:
        data = fragment if isinstance(fragment, dict) else fragment.model_dump()
        index = data.get("index")
        if index is None:
            index = len(self._parts)
        part = self._parts.setdefault(int(index), _Partial())
        if data.get("id"):
            part.id = data["id"]
        function = data.get("function") or {}
        name = function.get("name")
        if name and name != part.name:  # some servers repeat the whole name in every fragment
            part.name += name
        if function.get("arguments"):
            part.arguments.append(function["arguments"])

    def __bool__(self) -> bool:
        return bool(self._parts)

    def finish(self) -> list[ToolCall]:
        """The assembled calls in index order (fragments without a name are dropped)."""
        calls = [ToolCall(id=p.id or f"call_{i}", name=p.name, arguments=parse_arguments("".join(p.arguments)))
                 for i, p in sorted(self._parts.items()) if p.name]
        self._parts.clear()
        return calls
