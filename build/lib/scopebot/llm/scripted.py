"""A scripted chat model shipped in the package: the test double for every consumer.

Two flavours, like pydantic-ai's ``TestModel``/``FunctionModel``:

* ``ScriptedModel(["first reply", "second reply"])`` answers with the scripted replies in order
  (the last one repeats, or raises when ``repeat_last=False``);
* ``ScriptedModel(fn)`` calls ``fn(messages, tools) -> str | ChatResponse`` for each request, so a
  test can react to what the model was asked.

Every call is recorded in ``.calls`` so tests can assert on the prompts that were sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from scopebot.errors import ModelError
from scopebot.llm.base import ChatDelta, ChatModel, ChatResponse, Message, ToolSpec

Reply = str | ChatResponse
ReplyFn = Callable[[Sequence[Message], Sequence[ToolSpec] | None], Reply]


@dataclass
class RecordedCall:
    messages: list[Message]
    tools: list[ToolSpec] | None


class ScriptedModel(ChatModel):
    """Deterministic chat model answering from a script or a function."""

    def __init__(self, script: Sequence[Reply] | ReplyFn, *, name: str = "scripted", supports_tools: bool = True,
                 is_small: bool = False, repeat_last: bool = True, chunk_size: int = 8) -> None:
        self.name = name
        self.supports_tools = supports_tools
        self.is_small = is_small
        self._fn: ReplyFn | None = script if callable(script) else None
        self._script: list[Reply] = [] if callable(script) else list(script)
        self._repeat_last = repeat_last
        self._chunk_size = chunk_size
        self.calls: list[RecordedCall] = []

    def _next(self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> Reply:
        if self._fn is not None:
            return self._fn(messages, tools)
        index = len(self.calls) - 1
        if index < len(self._script):
            return self._script[index]
        if self._repeat_last and self._script:
            return self._script[-1]
        raise ModelError("ScriptedModel ran out of scripted replies",
                         hint="add more replies to the script or pass repeat_last=True")

    def stream(self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] | None = None,
               max_tokens: int | None = None, temperature: float | None = None,
               stop: Sequence[str] | None = None) -> Iterator[ChatDelta]:
        self.calls.append(RecordedCall(list(messages), list(tools) if tools else None))
        reply = self._next(messages, tools)
        response = reply if isinstance(reply, ChatResponse) else ChatResponse(text=reply, finish_reason="stop")
        text = response.text
        if stop:
            cut = min((text.find(s) for s in stop if s in text), default=-1)
            if cut >= 0:
                text = text[:cut]
        for i in range(0, len(text), self._chunk_size):
            yield ChatDelta(text=text[i:i + self._chunk_size])
        yield ChatDelta(tool_calls=response.tool_calls if tools else [],
                        finish_reason=response.finish_reason or "stop")
