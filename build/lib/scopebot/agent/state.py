"""Conversation state and the resolution of follow-ups against it.

The state is what a follow-up can refer to: earlier turns and their routes, the chat history given
to the answer pipeline (which rewrites follow-up questions itself), the uploaded image, the last
code result and the last tool request. The ``resolve_*`` functions are pure so they are easy to test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopebot.agent.router import RouteContext
from scopebot.llm.base import Message

#: How many earlier messages are passed on as history (user + assistant).
HISTORY_MESSAGES = 8
MAX_PREVIOUS_CODE_CHARS = 4000

_DIMS_3D = re.compile(r"\b(3[- ]?d|three[- ]dimension\w*|volum\w*|z[- ]?stacks?)\b", re.I)
_DIMS_2D = re.compile(r"\b(2[- ]?d|two[- ]dimension\w*|single planes?)\b", re.I)
_GUI = re.compile(r"\b(gui|graphical|point[- ]and[- ]click|no[- ]code|without (coding|code|programming)|"
                  r"interactive(ly)?|desktop app)\b", re.I)
_CODE = re.compile(r"\b(python|script(ing|able)?|librar(y|ies)|api|programmatic\w*|code)\b", re.I)
_FILLER = re.compile(r"\b(and|what|about|how|in|for|instead|now|also|then|ok|okay|the|same|but|with|a|an|"
                     r"same|please|one|ones|it|that|those|them|do|does|is|are|there|any|version)\b|[?!.,]", re.I)


@dataclass
class ToolRequest:
    """The last tool request, so "and in 3D?" can re-run it with other constraints."""

    request: str
    interface: str = "any"
    dims: str = "any"


@dataclass
class Conversation:
    """Everything a follow-up may refer to."""

    turns: list[tuple[str, str]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    last_image: Path | None = None
    last_code: Any = None
    last_code_request: str | None = None
    last_tool: ToolRequest | None = None
    last_question: str | None = None

    def context(self, *, has_image: bool = False) -> RouteContext:
        """What the router needs from the conversation."""
        return RouteContext(history=list(self.turns), has_image=has_image or self.last_image is not None,
                            has_code_result=self.last_code is not None)

    def history(self) -> list[Message]:
        return list(self.messages[-HISTORY_MESSAGES:])

    def record(self, text: str, route: str, reply: str) -> None:
        self.turns.append((text, route))
        self.messages.append(Message(role="user", content=text))
        self.messages.append(Message(role="assistant", content=reply[:2000]))

    def reset(self) -> None:
        """Forget everything (the ``/reset`` command)."""
        self.__init__()  # type: ignore[misc]


def parse_dims(text: str) -> str | None:
    """'3d', '2d' or None when ``text`` says nothing about dimensionality."""
    if _DIMS_3D.search(text):
        return "3d"
    if _DIMS_2D.search(text):
        return "2d"
    return None


def parse_interface(text: str) -> str | None:
    """'gui', 'code' or None when ``text`` says nothing about how the tool is used."""
    if _GUI.search(text):
        return "gui"
    if _CODE.search(text):
        return "code"
    return None


def extra_words(text: str) -> str:
    """What a follow-up adds beyond fillers and dimension/interface words ("what about for EM?" → "EM")."""
    rest = _FILLER.sub(" ", _GUI.sub(" ", _DIMS_2D.sub(" ", _DIMS_3D.sub(" ", text))))
    return " ".join(rest.split())


def resolve_tool_request(text: str, last: ToolRequest | None, *, follow_up: bool) -> ToolRequest:
    """The request to send to the recommender; a follow-up modifies the previous request."""
    dims, interface = parse_dims(text), parse_interface(text)
    if follow_up and last is not None:
        extra = extra_words(text)
        request = f"{last.request} {extra}".strip() if extra else last.request
        return ToolRequest(request=request, interface=interface or last.interface, dims=dims or last.dims)
    return ToolRequest(request=text, interface=interface or "any", dims=dims or "any")


def resolve_code_request(text: str, last_code: Any, last_request: str | None) -> str:
    """The code request; when there is a previous result, it is included so the new code builds on it."""
    code = str(getattr(last_code, "code", "") or "") if last_code is not None else ""
    if not code.strip():
        return text
    if len(code) > MAX_PREVIOUS_CODE_CHARS:
        code = code[:MAX_PREVIOUS_CODE_CHARS] + "\n# ... (truncated)"
    ran = "ran successfully" if getattr(last_code, "ok", False) else "was the last attempt"
    return (f"{text}\n\nThis continues the previous analysis"
            + (f" (previous request: {last_request})" if last_request else "")
            + f". The previous code {ran}; build on it:\n```python\n{code}\n```")
