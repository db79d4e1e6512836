"""The Assistant: one conversation that routes each turn and uses scopebot's capabilities.

``Assistant.turn(text, image=None, force_route=None)`` routes the turn (:mod:`scopebot.agent.router`),
hands it to the matching capability — grounded answer, code run in the sandbox, tool
recommendation, live forum search, a fixed chit-chat reply or a polite refusal — and returns a
:class:`TurnResult` with the typed payload, a markdown rendering and the trace of what it did.
With a tool-calling backend (and ``tool_loop`` on) in-scope turns are instead planned by the model in
a bounded tool loop (:mod:`scopebot.agent.toolloop`).

:meth:`Assistant.stream_turn` yields progress events (``status``, ``delta`` text) and then the final
result; :meth:`turn` is the same run collected. Conversation state (earlier turns, the uploaded
image, the last code result and tool request) lets follow-ups build on earlier turns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from scopebot.agent.models import (
    AgentEvent,
    ChitChatReply,
    Clarification,
    ForumHit,
    ForumResult,
    Refusal,
    Route,
    TraceStep,
    TurnResult,
)
from scopebot.agent.ports import (
    Answerer,
    Coder,
    ForumSearch,
    ImageInspector,
    NameCheck,
    Searcher,
    ToolRecommender,
)
from scopebot.agent.render import payload_markdown
from scopebot.agent.router import Router
from scopebot.agent.state import (
    Conversation,
    points_back,
    resolve_code_request,
    resolve_tool_from_topic,
    resolve_tool_request,
    subject_words,
)
from scopebot.errors import ConfigurationError, ScopebotError
from scopebot.llm.base import ChatModel

Handler = Generator[AgentEvent, None, tuple[str, Any]]

CAPABILITIES = (
    "I'm scopebot, an assistant for microscopy and bioimage analysis. I can:\n"
    "- answer questions from my sources, with numbered citations and checks on every sentence;\n"
    "- recommend tools, plugins and pretrained models (BIII, the BioImage Model Zoo);\n"
    "- write Python analysis code and run it in a sandbox, on an image you upload;\n"
    "- search the image.sc forum when it is reachable.\n"
    "Ask a question, or type /image PATH to upload an image.")
THANKS_REPLY = "You're welcome! "
GREETING_REPLY = "Hello! "
REFUSAL = ("Sorry, that is outside what I can help with: I only cover microscopy and bioimage analysis "
           "(imaging, image processing and analysis, and the tools for them). If your question has an "
           "imaging side, please rephrase it around that.")
#: How the recommender says it found no task, object or tool word in a request (a question back, in a chat).
NOT_UNDERSTOOD = "I could not understand the request"
FORUM_UNREACHABLE = ("The image.sc forum is not reachable right now, so this answer comes from the offline "
                     "index only.")
#: Routes the tool loop may take over (chit-chat and refusals never go to the model).
LOOP_ROUTES = ("question", "code", "tool", "forum")
NO_ANTECEDENT = ("Which task or method do you mean? \"{text}\" points back to something, but nothing earlier "
                 "in this conversation says what. Name it, for example \"Which software would you recommend for "
                 "deconvolution of 3D widefield stacks?\"")
UNKNOWN_NAME_IN_CODE = ("{names} is named in your request, but none of my sources, the tool registries or the "
                        "installed packages know it; the analysis below uses scopebot's own tested steps, not {it}.")


class Assistant:
    """Owns one conversation; see the module docstring."""

    def __init__(self, answerer: Answerer, recommender: ToolRecommender | None, coder: Coder | None,
                 forum: ForumSearch | None, router: Router, model: ChatModel | None = None,
                 settings: Any = None, clock: Callable[[], float] = time.perf_counter, *,
                 searcher: Searcher | None = None, inspector: ImageInspector | None = None,
                 tool_loop: bool | None = None, max_steps: int | None = None, forum_k: int = 5,
                 names: NameCheck | None = None) -> None:
        self.answerer = answerer
        self.recommender = recommender
        self.coder = coder
        self.forum = forum
        self.router = router
        self.model = model
        self.settings = settings
        self.clock = clock
        self.searcher = searcher
        self.inspector = inspector
        wanted = tool_loop if tool_loop is not None else bool(getattr(settings, "agent_tool_loop", False))
        self.max_steps = max_steps or int(getattr(settings, "agent_max_steps", 5) or 5)
        self.tool_loop = bool(wanted and model is not None and model.supports_tools and not model.is_small)
        self.forum_k = forum_k
        #: The answer route's unknown-name check, applied on the tool and code routes too (by default the
        #: answerer's own, when it has one).
        self.names = names if names is not None else (answerer if callable(getattr(answerer, "unknown_names", None))
                                                      else None)
        self.state = Conversation()
        self._warnings: list[str] = []
        self._names_seen: tuple[str, list[str]] | None = None

    # -- public ------------------------------------------------------------------------------------
    def turn(self, text: str, image: Path | str | None = None, force_route: str | None = None) -> TurnResult:
        """Run one user turn to the end and return its result."""
        result: TurnResult | None = None
        for event in self.stream_turn(text, image, force_route):
            if event.type == "final":
                result = event.result
        assert result is not None
        return result

    def stream_turn(self, text: str, image: Path | str | None = None,
                    force_route: str | None = None) -> Iterator[AgentEvent]:
        """Yield ``status`` and ``delta`` events while the turn runs, then one ``final`` event."""
        start = self.clock()
        text = (text or "").strip()
        image_path = Path(image) if image else None
        if not text and image_path is None:
            raise ConfigurationError("empty message", hint="type a question or a request")
        if image_path is not None:
            if not image_path.is_file():
                raise ConfigurationError(f"image not found: {image_path}", hint="check the path of the image")
            self.state.last_image = image_path
        if not text:
            text = "Describe this image."
        self._warnings, self._names_seen = [], None
        trace: list[TraceStep] = []
        t0 = self.clock()
        route = self.router.route(text, self.state.context(has_image=image_path is not None), force=force_route,
                                  has_image=image_path is not None)
        trace.append(TraceStep(name="route", inputs={"text": text, "force": force_route},
                               outputs={"label": route.label, "confidence": route.confidence,
                                        "inherited": route.inherited, "reasons": route.reasons[:6]},
                               seconds=round(self.clock() - t0, 4)))
        yield AgentEvent(type="status", text=f"route: {route.label} ({route.confidence:.2f})")
        if self.tool_loop and route.label in LOOP_ROUTES and not route.forced:
            unknown = self._unknown_names(text, trace)  # the model never gets to describe an invented tool
            if unknown and route.label != "code":
                handler = self._answer(text, trace)
            else:
                self._warn_unknown(unknown)
                handler = self._tool_loop(text, route, trace)
        else:
            handler = getattr(self, f"_on_{route.label}")(text, route, trace)
        kind, payload = yield from handler
        markdown = payload_markdown(kind, payload)
        extras: dict[str, Any] = {}
        if not route.forced and not (self.tool_loop and route.label in LOOP_ROUTES) \
                and {"question", "tool"} <= {route.label, *route.also} and not (route.label == "tool" and kind != "tools"):
            # (a tool turn that ended in the answer route's abstention, or a clarification, has nothing to add)
            extras = yield from self._runner_up(text, route, trace)
            markdown += "".join(f"\n\n{payload_markdown(k, v)}" for k, v in extras.items())
        if self._warnings:
            markdown = "".join(f"**Note:** {w}\n\n" for w in self._warnings) + markdown
        self.state.record(text, route.label, _plain(payload, markdown))
        result = TurnResult(text=text, route=route.label, confidence=route.confidence, kind=kind,  # type: ignore[arg-type]
                            payload=payload, markdown=markdown, trace=trace, also=route.also, extras=extras,
                            warnings=list(self._warnings),
                            image=str(self.state.last_image) if self.state.last_image else None,
                            seconds=round(self.clock() - start, 4))
        yield AgentEvent(type="final", result=result)

    def reset(self) -> None:
        """Start a new conversation (forget turns, image, code and tool requests)."""
        self.state.reset()

    # -- helpers ------------------------------------------------------------------------------------
    def _timed(self, trace: list[TraceStep], name: str, inputs: dict[str, Any], fn: Callable[[], Any],
               summary: Callable[[Any], dict[str, Any]] = lambda _: {}) -> Any:
        t0 = self.clock()
        try:
            value = fn()
        except Exception as exc:
            trace.append(TraceStep(name=name, inputs=inputs, seconds=round(self.clock() - t0, 4),
                                   error=f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"))
            raise
        trace.append(TraceStep(name=name, inputs=inputs, outputs=summary(value), seconds=round(self.clock() - t0, 4)))
        return value

    def _answer(self, question: str, trace: list[TraceStep], extra: list[Any] | None = None) -> Handler:
        """Ask the answer pipeline, streaming its deltas when it can stream."""
        history = self.state.history()
        stream = getattr(self.answerer, "stream", None)
        t0 = self.clock()
        answer = None
        try:
            if callable(stream):
                for event in stream(question, history=history, extra_results=extra):
                    etype = getattr(event, "type", None)
                    if etype == "delta" and getattr(event, "text", ""):
                        yield AgentEvent(type="delta", text=event.text)
                    elif etype == "status":
                        yield AgentEvent(type="status", text=str(getattr(event, "status", "") or ""))
                    elif etype == "final":
                        answer = event.answer
            else:
                answer = self.answerer.answer(question, history=history, extra_results=extra)
        except Exception as exc:
            trace.append(TraceStep(name="answer", inputs={"question": question}, seconds=round(self.clock() - t0, 4),
                                   error=f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"))
            raise
        checks = getattr(answer, "checks", None)
        trace.append(TraceStep(name="answer", inputs={"question": question, "history": len(history),
                                                      "extra_results": len(extra or [])},
                               outputs={"abstained": getattr(answer, "abstained", False),
                                        "citations": len(getattr(answer, "citations", []) or []),
                                        "supported_fraction": getattr(checks, "supported_fraction", None),
                                        "invalid_citations": getattr(checks, "invalid_citations", None)},
                               seconds=round(self.clock() - t0, 4)))
        self.state.last_question = question
        return ("abstention" if getattr(answer, "abstained", False) else "answer"), answer

    def _warn_unknown(self, unknown: list[str]) -> None:
        """The note, once per turn, that the analysis does not use the names no source knows."""
        note = UNKNOWN_NAME_IN_CODE.format(names=", ".join(f"'{n}'" for n in unknown),
                                           it="it" if len(unknown) == 1 else "them") if unknown else ""
        if note and note not in self._warnings:
            self._warnings.append(note)

    def _unknown_names(self, text: str, trace: list[TraceStep]) -> list[str]:
        """The answer route's check for invented names, once per turn (traced; a failure only skips it)."""
        if self.names is None:
            return []
        if self._names_seen is not None and self._names_seen[0] == text:
            return self._names_seen[1]
        t0 = self.clock()
        try:
            found = list(self.names.unknown_names(text))
        except ScopebotError as exc:
            trace.append(TraceStep(name="names", inputs={"text": text[:300]}, error=exc.message,
                                   seconds=round(self.clock() - t0, 4)))
            found = []
        else:
            trace.append(TraceStep(name="names", inputs={"text": text[:300]}, outputs={"unknown": found},
                                   seconds=round(self.clock() - t0, 4)))
        self._names_seen = (text, found)
        return found

    # -- routes ---------------------------------------------------------------------------------------
    def _on_question(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        yield AgentEvent(type="status", text="searching the sources")
        return (yield from self._answer(text, trace))

    def _on_code(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        if self.coder is None:
            raise ConfigurationError("code execution is switched off",
                                     hint="set SCOPEBOT_ALLOW_CODE_EXECUTION=true to write and run code")
        # a follow-up is rewritten from the user's previous request, never from the previous script or reply
        follow = self.state.last_code_request is not None and (
            route.inherited or "follow-up" in " ".join(route.reasons) or points_back(text))
        request = resolve_code_request(text, self.state.last_code_request) if follow else text
        image = self.state.last_image
        self._warn_unknown(self._unknown_names(text, trace))
        yield AgentEvent(type="status", text="writing and running code")
        result = self._timed(trace, "code", {"request": request[:300], "image": str(image) if image else None,
                                             "builds_on_previous": follow,
                                             "previous_request": self.state.last_code_request if follow else None},
                             lambda: self.coder.run(request, image=image),  # type: ignore[union-attr]
                             lambda r: {"ran": getattr(r, "ran", None), "ok": getattr(r, "ok", None),
                                        "error": (getattr(r, "error", None) or "")[:200],
                                        "figures": len(getattr(r, "figures", []) or [])})
        self.state.last_code = result
        self.state.last_code_request = request
        return "code", result

    def _on_tool(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        if self.recommender is None:
            raise ConfigurationError("tool recommendations are not available", hint="run `scopebot ingest` first")
        if self._unknown_names(text, trace):  # "what is the DeepBlobby3D plugin good for?": as `scopebot ask` does
            yield AgentEvent(type="status", text="checking the names in the question")
            return (yield from self._answer(text, trace))
        inherited = route.inherited and self.state.last_tool is not None
        if not inherited and points_back(text) and self.state.topic:  # "which software would you recommend for it?"
            req = resolve_tool_from_topic(text, self.state.topic)
        else:
            req = resolve_tool_request(text, self.state.last_tool, follow_up=route.inherited)
        if not inherited and points_back(text) and not self.state.topic and not subject_words(req.request):
            trace.append(TraceStep(name="clarify", inputs={"text": text}, outputs={"reason": "no antecedent"}))
            return "clarification", Clarification(text=NO_ANTECEDENT.format(text=text), reason="no antecedent")
        yield AgentEvent(type="status", text="ranking tools")
        try:
            rec = self._timed(trace, "recommend", {"request": req.request, "interface": req.interface,
                                                   "dims": req.dims},
                              lambda: self.recommender.recommend(req.request, interface=req.interface,  # type: ignore[union-attr]
                                                                 dims=req.dims, k=5),
                              lambda r: {"results": [x.name for x in getattr(r, "results", [])][:5],
                                         "nothing_fits": getattr(r, "nothing_fits", False)})
        except ConfigurationError as exc:
            if not exc.message.startswith(NOT_UNDERSTOOD):
                raise
            # a chat turn the recommender cannot parse gets a question back, not an error
            return "clarification", Clarification(text=f"{exc.message}. {exc.hint or ''}".strip(),
                                                  reason="request not understood")
        self.state.last_tool = req
        return "tools", rec

    def _on_forum(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        hits: list[Any] = []
        message = ""
        reachable = False
        t0 = self.clock()
        yield AgentEvent(type="status", text="searching the image.sc forum")
        try:
            reachable = self.forum is not None and self.forum.is_reachable()
            if reachable:
                hits = self.forum.search(text, self.forum_k)  # type: ignore[union-attr]
        except ScopebotError as exc:
            reachable, error = False, exc.message
        else:
            error = None
        if not reachable:
            message = FORUM_UNREACHABLE
        trace.append(TraceStep(name="forum", inputs={"query": text, "k": self.forum_k},
                               outputs={"reachable": reachable, "hits": len(hits)},
                               seconds=round(self.clock() - t0, 4), error=error))
        _, answer = yield from self._answer(text, trace, extra=hits or None)
        shown = [ForumHit(key=h.chunk.key, title=h.chunk.title, url=h.chunk.url, snippet=h.chunk.body[:200])
                 for h in hits]
        return "forum", ForumResult(query=text, reachable=reachable, message=message, hits=shown, answer=answer)

    def _runner_up(self, text: str, route: Route, trace: list[TraceStep]) -> Generator[AgentEvent, None, dict[str, Any]]:
        """Question and tool were close: serve the other one too (tool cards beside an answer, or an answer
        beside tool cards). A failure here is traced and never loses the main reply."""
        try:
            if route.label == "question" and self.recommender is not None:
                if self._unknown_names(text, trace):
                    return {}  # no cards for a name no source knows (the answer above says so)
                kind, rec = yield from self._on_tool(text, route, trace)
                return {"tools": rec} if kind == "tools" else {}  # no cards for a name no source knows
            if route.label == "tool":
                kind, answer = yield from self._answer(text, trace)
                return {kind: answer}
        except ScopebotError as exc:
            trace.append(TraceStep(name="runner_up", error=exc.message))
        return {}

    def _on_chitchat(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        lowered = text.lower()
        prefix = THANKS_REPLY if any(w in lowered for w in ("thank", "thx", "cheers")) else \
            GREETING_REPLY if any(lowered.startswith(w) for w in ("hi", "hello", "hey", "good ")) else ""
        trace.append(TraceStep(name="chitchat", outputs={"fixed_reply": True}))
        return "chitchat", ChitChatReply(text=prefix + CAPABILITIES)
        yield  # pragma: no cover - makes this a generator

    def _on_out_of_scope(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        trace.append(TraceStep(name="refusal", outputs={"reason": "out_of_scope"}))
        return "refusal", Refusal(text=REFUSAL)
        yield  # pragma: no cover - makes this a generator

    def _tool_loop(self, text: str, route: Route, trace: list[TraceStep]) -> Handler:
        from scopebot.agent.toolloop import ToolLoop, route_hint

        yield AgentEvent(type="status", text="planning with tools")
        loop = ToolLoop(self.model, searcher=self.searcher, recommender=self.recommender,  # type: ignore[arg-type]
                        forum=self.forum, coder=self.coder, inspector=self.inspector, max_steps=self.max_steps,
                        system_prompt=self._loop_prompt(), clock=self.clock,
                        support_threshold=float(getattr(self.settings, "support_threshold", 0.5)),
                        hint=route_hint(route.label, route.confidence, route.also))
        answer = loop.run(text, history=self.state.history(), image=self.state.last_image, trace=trace)
        for res in answer.tool_results:
            if hasattr(res, "code") and hasattr(res, "ran"):
                self.state.last_code = res
        return ("abstention" if answer.abstained else "answer"), answer

    def _loop_prompt(self) -> Callable[[str, int], list[Any]] | None:
        prompts_dir = getattr(self.settings, "prompts_dir", None)
        if prompts_dir is None or not (Path(prompts_dir) / "agent_toolloop.md").is_file():
            return None
        from scopebot.prompts import PromptLibrary

        library = PromptLibrary(Path(prompts_dir))
        return lambda note, steps: library.messages("agent_toolloop", image_note=note, max_steps=steps)


def _plain(payload: Any, markdown: str) -> str:
    """What is kept as the assistant's message in the history (answers without references; for code, what
    it answered or why not, never the script: a follow-up is rewritten from the user's words, not from code)."""
    text = getattr(payload, "answer", None)
    if isinstance(text, str) and text:
        return text
    if hasattr(payload, "code") and hasattr(payload, "ran"):
        found = [str(a) for a in getattr(payload, "answer", None) or []]
        error = str(getattr(payload, "error", "") or "")
        if found:
            return "; ".join(found)
        return error.splitlines()[0] if error.strip() else "The analysis ran."
    return markdown
