"""The bounded tool-calling loop for backends with native tool calling.

The model gets scopebot's capabilities as tools (``search_knowledge``, ``recommend_tools``,
``search_forum``, ``write_and_run_code``, ``inspect_image``) and plans with them for at most
``max_steps`` rounds. Every call and its result (or error) is a :class:`TraceStep`; an exception in a
tool goes back to the model as the tool message (``{"error": ...}``) so it can recover; reaching the
step limit asks the model for a final answer without tools and adds a note saying so.

The final text is checked like any answer: citation markers whose key was not returned by a tool
during the loop are removed and counted, and every sentence is scored for support against the
passages gathered (``scopebot.answer.citations_check`` and ``scopebot.answer.support``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scopebot.agent.models import LoopAnswer, LoopChecks, TraceStep
from scopebot.agent.ports import Coder, ForumSearch, ImageInspector, Searcher, ToolRecommender
from scopebot.citations import NOT_IN_SOURCES, find_citations
from scopebot.errors import ConfigurationError, ScopebotRuntimeError
from scopebot.index.models import Chunk
from scopebot.llm.base import ChatModel, Message, ToolCall, ToolSpec

MAX_TOOL_MESSAGE_CHARS = 6000
STEP_LIMIT_NOTE = ("Stopped after {n} rounds of tool calls (the step limit); "
                   "the answer uses only what was gathered until then.")

TOOL_SPECS: list[ToolSpec] = [
    ToolSpec(name="search_knowledge",
             description="Search scopebot's microscopy and bioimage-analysis sources. Returns passages with keys.",
             parameters={"type": "object", "required": ["query"], "properties": {
                 "query": {"type": "string", "description": "What to look for."},
                 "k": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5}}}),
    ToolSpec(name="recommend_tools",
             description="Rank software, plugins and pretrained models for an image-analysis task.",
             parameters={"type": "object", "required": ["request"], "properties": {
                 "request": {"type": "string", "description": "The task, e.g. 'segment nuclei in 3D'."},
                 "interface": {"type": "string", "enum": ["gui", "code", "any"], "default": "any"},
                 "dims": {"type": "string", "enum": ["2d", "3d", "any"], "default": "any"}}}),
    ToolSpec(name="search_forum",
             description="Search image.sc forum discussions. Returns passages with keys; may be unreachable.",
             parameters={"type": "object", "required": ["query"], "properties": {
                 "query": {"type": "string"}}}),
    ToolSpec(name="write_and_run_code",
             description="Write Python analysis code for a request and run it in a sandbox on the uploaded "
                         "image (or a synthetic one). Returns the code, its output and any error.",
             parameters={"type": "object", "required": ["request"], "properties": {
                 "request": {"type": "string", "description": "The analysis to perform."}}}),
    ToolSpec(name="inspect_image",
             description="Shape, data type, axes and intensity range of the image the user uploaded.",
             parameters={"type": "object", "properties": {}}),
]


#: The tool that serves each route, for the router's hint and for scoring the model's first choice.
ROUTE_TOOLS: dict[str, str] = {"question": "search_knowledge", "tool": "recommend_tools",
                               "code": "write_and_run_code", "forum": "search_forum"}


def route_hint(label: str, confidence: float, also: Sequence[str] = ()) -> str:
    """The router's verdict as a hint for a tool-calling model (it still chooses the tools)."""
    tools = [ROUTE_TOOLS[r] for r in (label, *also) if r in ROUTE_TOOLS]
    text = f"Routing hint: this turn looks like a {label} request (confidence {confidence:.2f})"
    if also:
        text += f", possibly also {', '.join(also)}"
    if tools:
        text += f"; {' and '.join(tools)} would fit"
    return text + ". Choose the tools that fit the request; the hint may be wrong."


class ToolLoop:
    """Runs one question through the model's tool calls (see the module docstring)."""

    def __init__(self, model: ChatModel, *, searcher: Searcher | None = None,
                 recommender: ToolRecommender | None = None, forum: ForumSearch | None = None,
                 coder: Coder | None = None, inspector: ImageInspector | None = None, max_steps: int = 5,
                 system_prompt: Callable[[str, int], list[Message]] | None = None, support_threshold: float = 0.5,
                 clock: Callable[[], float] = time.perf_counter, hint: str | None = None) -> None:
        if max_steps < 1:
            raise ConfigurationError("the tool loop needs at least one step", hint="set max_steps >= 1")
        self.model = model
        self.searcher = searcher
        self.recommender = recommender
        self.forum = forum
        self.coder = coder
        self.inspector = inspector
        self.max_steps = max_steps
        self.system_prompt = system_prompt
        self.support_threshold = support_threshold
        self.clock = clock
        self.hint = hint

    # -- the loop ------------------------------------------------------------------------------------
    def run(self, question: str, *, history: Sequence[Message] = (), image: Path | None = None,
            trace: list[TraceStep] | None = None) -> LoopAnswer:
        """Plan with tools, answer, and check the answer against the passages gathered."""
        trace = trace if trace is not None else []
        self._gathered: dict[str, Chunk] = {}
        self._results: list[Any] = []
        self._image = image
        image_note = (f"The user uploaded an image ({image.name})." if image
                      else "No image has been uploaded.")
        hint = [Message(role="system", content=self.hint)] if self.hint else []
        messages = [*self._system(image_note), *hint, *history, Message(role="user", content=question)]
        final: str | None = None
        steps = 0
        while steps < self.max_steps:
            t0 = self.clock()
            response = self.model.complete(messages, tools=TOOL_SPECS)
            trace.append(TraceStep(name="model", inputs={"messages": len(messages)},
                                   outputs={"tool_calls": [c.name for c in response.tool_calls],
                                            "text": response.text[:200]}, seconds=round(self.clock() - t0, 4)))
            if not response.tool_calls:
                final = response.text
                break
            steps += 1
            messages.append(Message(role="assistant", content=response.text, tool_calls=response.tool_calls))
            for call in response.tool_calls:
                messages.append(self._call(call, trace))
        note = ""
        stopped = "final"
        if final is None:
            stopped, note = "step_limit", STEP_LIMIT_NOTE.format(n=self.max_steps)
            messages.append(Message(role="user", content="The tool step limit is reached. Answer now from the "
                                                         "tool results above, without calling tools."))
            t0 = self.clock()
            final = self.model.complete(messages).text
            trace.append(TraceStep(name="model", inputs={"messages": len(messages), "tools": False},
                                   outputs={"text": final[:200], "step_limit": True},
                                   seconds=round(self.clock() - t0, 4)))
        answer = self._checked(question, final or "", trace)
        answer.steps, answer.stopped, answer.note = steps, stopped, note  # type: ignore[assignment]
        answer.tool_results = list(self._results)
        answer.backend = getattr(self.model, "name", "")
        return answer

    def _system(self, image_note: str) -> list[Message]:
        if self.system_prompt is not None:
            return self.system_prompt(image_note, self.max_steps)
        return [Message(role="system", content=(
            "You are scopebot, an assistant for microscopy and bioimage analysis. Use the tools, then answer "
            f"briefly, citing passage keys like [bk-0123abcd]. {image_note} If nothing answers the question, "
            f"reply exactly: {NOT_IN_SOURCES}"))]

    # -- tools -----------------------------------------------------------------------------------------
    def _call(self, call: ToolCall, trace: list[TraceStep]) -> Message:
        t0 = self.clock()
        error: str | None = None
        try:
            handler = getattr(self, f"_tool_{call.name}", None)
            if handler is None:
                raise ConfigurationError(f"unknown tool {call.name!r}",
                                         hint="use one of: " + ", ".join(s.name for s in TOOL_SPECS))
            result = handler(**(call.arguments or {}))
        except TypeError as exc:  # wrong or missing arguments
            error = f"bad arguments for {call.name}: {exc}"
            result = {"error": error}
        except Exception as exc:  # noqa: BLE001 - every tool failure goes back to the model
            error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
            result = {"error": error}
        content = json.dumps(result, ensure_ascii=False, default=str)
        if len(content) > MAX_TOOL_MESSAGE_CHARS:
            content = content[:MAX_TOOL_MESSAGE_CHARS] + "…(truncated)"
        trace.append(TraceStep(name=f"tool:{call.name}", inputs=dict(call.arguments or {}),
                               outputs=_summary(result), seconds=round(self.clock() - t0, 4), error=error))
        return Message(role="tool", content=content, name=call.name, tool_call_id=call.id)

    def _passages(self, results: Sequence[Any]) -> list[dict[str, Any]]:
        out = []
        for r in results:
            chunk = r.chunk
            self._gathered[chunk.key] = chunk
            out.append({"key": chunk.key, "title": chunk.title, "section": chunk.section,
                        "text": chunk.body[:700]})
        return out

    def _tool_search_knowledge(self, query: str, k: int = 5) -> dict[str, Any]:
        if self.searcher is None:
            raise ScopebotRuntimeError("the knowledge index is not available", hint="run `scopebot ingest`")
        return {"passages": self._passages(self.searcher.search(query, k=max(1, min(int(k), 10))))}

    def _tool_recommend_tools(self, request: str, interface: str = "any", dims: str = "any") -> dict[str, Any]:
        if self.recommender is None:
            raise ScopebotRuntimeError("tool recommendations are not available", hint="run `scopebot ingest`")
        rec = self.recommender.recommend(request, interface=interface, dims=dims, k=5)
        self._results.append(rec)
        results = rec.results or rec.nearest
        getter = getattr(self.searcher, "get", None)
        for r in results:
            for c in getattr(r, "citations", []) or []:
                chunk = getter(c.key) if callable(getter) else None
                if chunk is not None:
                    self._gathered[chunk.key] = chunk
        return {"nothing_fits": rec.nothing_fits, "message": rec.message,
                "tools": [{"name": r.name, "kind": r.kind, "why": r.why, "interface": r.interface,
                           "license": r.license, "links": r.links,
                           "passages": [c.key for c in r.citations]} for r in results]}

    def _tool_search_forum(self, query: str) -> dict[str, Any]:
        if self.forum is None or not self.forum.is_reachable():
            raise ScopebotRuntimeError("the image.sc forum is not reachable", hint="use search_knowledge instead")
        return {"passages": self._passages(self.forum.search(query, 5))}

    def _tool_write_and_run_code(self, request: str) -> dict[str, Any]:
        if self.coder is None:
            raise ScopebotRuntimeError("code execution is not available", hint="enable the sandbox")
        result = self.coder.run(request, image=self._image)
        self._results.append(result)
        return {"ran": getattr(result, "ran", False), "ok": getattr(result, "ok", False),
                "code": str(getattr(result, "code", ""))[:3000], "stdout": str(getattr(result, "stdout", ""))[-1500:],
                "error": getattr(result, "error", None), "figures": len(getattr(result, "figures", []) or [])}

    def _tool_inspect_image(self) -> dict[str, Any]:
        if self._image is None:
            raise ConfigurationError("no image has been uploaded", hint="ask the user to upload an image")
        if self.inspector is None:
            raise ScopebotRuntimeError("image inspection is not available", hint="install tifffile and Pillow")
        return self.inspector.inspect(self._image)

    # -- checks ----------------------------------------------------------------------------------------
    def _checked(self, question: str, text: str, trace: list[TraceStep]) -> LoopAnswer:
        from scopebot.answer.citations_check import check_citations
        from scopebot.answer.support import SupportScorer, check_sentences

        t0 = self.clock()
        cited = check_citations(text.strip(), self._gathered.keys())
        context = {k: c.body for k, c in self._gathered.items()}
        abstained = not cited.text or cited.text.startswith(NOT_IN_SOURCES)
        sentences = [] if abstained else check_sentences(cited.text, context, SupportScorer(None, self.support_threshold))
        scored = [s for s in sentences if s.support < 1.0 or s.keys]
        unsupported = [s.text for s in sentences if not s.supported]
        checks = LoopChecks(invalid_citations=len(cited.invalid_keys), removed_citations=cited.invalid_keys,
                            supported_fraction=round(1 - len(unsupported) / len(scored), 4) if scored else 1.0,
                            unsupported_sentences=unsupported, sentences=len(sentences))
        numbered, citations = _number(cited.text, self._gathered)
        trace.append(TraceStep(name="checks", inputs={"gathered": len(self._gathered)},
                               outputs=checks.model_dump(exclude={"unsupported_sentences"}),
                               seconds=round(self.clock() - t0, 4)))
        return LoopAnswer(question=question, answer=numbered if not abstained else (cited.text or NOT_IN_SOURCES),
                          answer_keys=cited.text, abstained=abstained, citations=citations, checks=checks)


def _number(text: str, gathered: dict[str, Chunk]) -> tuple[str, list[dict[str, Any]]]:
    """Replace ``[key]`` markers by ``[n]`` in order of first use; return the reference list."""
    order: dict[str, int] = {}
    for key in find_citations(text):
        if key in gathered and key not in order:
            order[key] = len(order) + 1
    for key, n in order.items():
        text = text.replace(f"[{key}]", f"[{n}]")
    refs = [{"n": n, "key": k, "title": gathered[k].title, "section": gathered[k].section,
             "breadcrumb": gathered[k].breadcrumb, "url": gathered[k].url} for k, n in order.items()]
    return text, refs


def _summary(result: Any) -> dict[str, Any]:
    """A short summary of a tool result for the trace."""
    if not isinstance(result, dict):
        return {"result": str(result)[:200]}
    out: dict[str, Any] = {}
    for key, value in result.items():
        if isinstance(value, list):
            out[key] = len(value)
            if value and isinstance(value[0], dict):
                out[f"{key}_ids"] = [v.get("key") or v.get("name") for v in value[:5]]
        elif isinstance(value, str):
            out[key] = value[:200]
        else:
            out[key] = value
    return out
