"""Conversation state and the resolution of follow-ups against it.

The state is what a follow-up can refer to: earlier turns and their routes, the chat history given
to the answer pipeline (which rewrites follow-up questions itself), the uploaded image, the last
code result and request, the last tool request and the conversation's topic (the last request that
stood on its own). The ``resolve_*`` functions are pure so they are easy to test.

A follow-up is always rewritten from what the **user** asked before (and, for code, the plan that
request became), never from generated code or the assistant's reply text: "and how bright is the GFP
in them?" after "count the nuclei and give me their mean area" becomes "count the nuclei and give me
their mean area. and how bright is the GFP in them?", which the code planner reads in well under a
second (the previous script, fed to the planner, was read word by word as a request and declined
after a minute).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scopebot.agent.cues import domain_hits, is_follow_up
from scopebot.agent.router import RouteContext
from scopebot.answer.rewrite import refers_back
from scopebot.answer.text import STOPWORDS, words
from scopebot.llm.base import Message
from scopebot.tools.query import CODE, DIMS_2D, DIMS_3D, GUI

#: How many earlier messages are passed on as history (user + assistant).
HISTORY_MESSAGES = 8
#: The longest code request a chain of follow-ups may grow to (the oldest sentences are kept: they name
#: the objects and the image; a longer chain is cut at a sentence boundary).
MAX_CODE_REQUEST_CHARS = 1200
#: Words of a tool request that ask for a tool rather than say what it is for ("which software would you
#: recommend", "does that work"): left out when a follow-up is joined to the conversation's topic.
_REQUEST_WORDS = frozenset("work works working worked recommend recommended suggest advise software tool tools "
                           "program programs coding code scripting".split())

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
    #: The last question/code/tool/forum request that stood on its own (a follow-up keeps it): what
    #: "it" in "which software would you recommend for it?" means.
    topic: str | None = None

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
        if route in ("question", "code", "tool", "forum") and (self.topic is None or not points_back(text)):
            self.topic = text

    def reset(self) -> None:
        """Forget everything (the ``/reset`` command)."""
        self.__init__()  # type: ignore[misc]


def points_back(text: str) -> bool:
    """Whether ``text`` only makes sense with an earlier turn: a short follow-up ("does it work in 3D
    too?", "and how bright is the GFP in them?") or a pronoun with no imaging term before it to point to
    ("can I do it in Fiji without coding?"; not "what is deconvolution and when should I use it?")."""
    if is_follow_up(text):
        return True
    cue = refers_back(text)
    if cue is None or cue.anchored:
        return False
    m = re.search(rf"\b{re.escape(cue.text)}\b", text, re.IGNORECASE)
    return domain_hits(text[:m.start()] if m else text) == 0


def _without_constraints(text: str) -> str:
    """``text`` without its dimensionality and interface words ("in 3D", "without coding")."""
    return GUI.sub(" ", DIMS_2D.sub(" ", DIMS_3D.sub(" ", text)))


def parse_dims(text: str) -> str | None:
    """'3d', '2d' or None when ``text`` says nothing about dimensionality."""
    if DIMS_3D.search(text):
        return "3d"
    if DIMS_2D.search(text):
        return "2d"
    return None


def parse_interface(text: str) -> str | None:
    """'gui', 'code' or None when ``text`` says nothing about how the tool is used."""
    if GUI.search(text):
        return "gui"
    if CODE.search(text):
        return "code"
    return None


def extra_words(text: str) -> str:
    """What a follow-up adds beyond fillers and dimension/interface words ("what about for EM?" → "EM")."""
    rest = _FILLER.sub(" ", GUI.sub(" ", DIMS_2D.sub(" ", DIMS_3D.sub(" ", text))))
    return " ".join(rest.split())


def resolve_tool_request(text: str, last: ToolRequest | None, *, follow_up: bool) -> ToolRequest:
    """The request to send to the recommender; a follow-up modifies the previous request."""
    dims, interface = parse_dims(text), parse_interface(text)
    if follow_up and last is not None:
        extra = extra_words(text)
        request = f"{last.request} {extra}".strip() if extra else last.request
        return ToolRequest(request=request, interface=interface or last.interface, dims=dims or last.dims)
    return ToolRequest(request=text, interface=interface or "any", dims=dims or "any")


def resolve_code_request(text: str, last_request: str | None) -> str:
    """The request for a code follow-up: the user's previous request, then the follow-up, as one request.

    Only the user's words go in ("count the nuclei and their mean area. and how bright is the GFP in
    them?"), never the previous script or reply: the planner reads every word of its request, and the
    pronoun of the follow-up finds its objects in the previous sentence.
    """
    text = text.strip()
    previous = (last_request or "").strip()
    if not previous:
        return text
    if previous[-1] not in ".?!":
        previous += "."
    joined = f"{previous} {text}"
    if len(joined) > MAX_CODE_REQUEST_CHARS:  # a long chain: keep the first request and the newest turn
        joined = f"{_first_sentence(previous)} {text}"
    return joined


def _first_sentence(text: str) -> str:
    m = re.search(r"[.?!](\s|$)", text)
    return text[:m.end()].strip() if m else text


def subject_words(text: str) -> str:
    """What a request is about: its words without stopwords and tool-asking words ("What is
    deconvolution and when should I use it?" -> "deconvolution")."""
    return " ".join(w for w in dict.fromkeys(words(text))
                    if w.lower() not in STOPWORDS and w.lower() not in _REQUEST_WORDS)


def resolve_tool_from_topic(text: str, topic: str) -> ToolRequest:
    """A tool request that points back ("which software would you recommend for it?", "can I do that in
    Fiji without coding?") joined to the conversation's topic; interface and dims come from ``text``."""
    dims, interface = parse_dims(text), parse_interface(text)
    own = subject_words(_without_constraints(text))
    about = subject_words(topic)
    request = " ".join(dict.fromkeys(f"{about} {own}".split()))
    return ToolRequest(request=request or topic, interface=interface or "any", dims=dims or "any")
