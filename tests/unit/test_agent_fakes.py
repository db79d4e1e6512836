"""Tiny fakes of the Assistant's ports (answers, tools, code, forum) shared by the agent tests.

They return the real payload types (``Answer``, ``Recommendation``, ``CodeResult``) so rendering and
serialisation are exercised, and record every call so tests can assert on what the agent asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scopebot.agent.assistant import Assistant
from scopebot.agent.router import Example, Router
from scopebot.answer.models import Answer, AnswerEvent, CheckReport, Citation, SentenceCheck
from scopebot.citations import NOT_IN_SOURCES, make_key
from scopebot.code.assistant import CodeResult
from scopebot.errors import ScopebotRuntimeError
from scopebot.index.embeddings import HashEmbedder
from scopebot.index.models import Chunk, SearchResult
from scopebot.tools.models import ParsedRequest, Recommendation, ToolResult

KEY_A = make_key("book", "psf", "0")
KEY_B = make_key("book", "sampling", "0")
FORUM_KEY = make_key("forum", "topic-1", "0")

SMALL_EXAMPLES = [
    Example("what is a point spread function", "question"),
    Example("how does deconvolution work on a widefield stack", "question"),
    Example("write python code to segment nuclei", "code"),
    Example("count the cells in this image", "code"),
    Example("which plugin can stitch tiles", "tool"),
    Example("is there a tool for tracking cells", "tool"),
    Example("has anyone on the forum seen this error", "forum"),
    Example("hello there", "chitchat"),
    Example("what can you do", "chitchat"),
    Example("what is the weather tomorrow", "out_of_scope"),
    Example("give me a cake recipe", "out_of_scope"),
]


def small_router() -> Router:
    return Router(HashEmbedder(), SMALL_EXAMPLES)


def chunk(key: str, text: str, kind: str = "book", title: str = "Optics") -> Chunk:
    return Chunk(key=key, source_id="test-book", kind=kind, title=title, section=title + " basics",
                 breadcrumb=f"Test › {title}", url=f"https://example.org/{key}", text=text)


class FakeAnswerer:
    """Answers every question with two cited, supported sentences (or abstains when told to)."""

    def __init__(self, abstain: bool = False, stream: bool = False) -> None:
        self.abstain = abstain
        self.calls: list[dict[str, Any]] = []
        if stream:
            self.stream = self._stream  # the agent streams only when the answerer can

    def answer(self, question: str, history: Any = None, mode: Any = None, strict: Any = None,
               extra_results: Any = None) -> Answer:
        self.calls.append({"question": question, "history": list(history or []),
                           "extra_results": list(extra_results or [])})
        if self.abstain:
            return Answer(question=question, answer=NOT_IN_SOURCES, abstained=True, abstain_reason="weak evidence")
        cites = [Citation(n=1, key=KEY_A, title="Optics", section="PSF", url="https://example.org/a"),
                 Citation(n=2, key=KEY_B, title="Sampling", section="Nyquist", url="https://example.org/b")]
        sentences = [SentenceCheck(text="The PSF is the image of a point.", keys=[KEY_A], support=0.9, supported=True),
                     SentenceCheck(text="Sample at twice the frequency.", keys=[KEY_B], support=0.8, supported=True)]
        return Answer(question=question, answer="The PSF is the image of a point [1]. Sample at twice the "
                                                "frequency [2].",
                      citations=cites, sentences=sentences, checks=CheckReport(supported_fraction=1.0))

    def _stream(self, question: str, history: Any = None, extra_results: Any = None) -> Any:
        yield AnswerEvent(type="status", status="retrieving")
        yield AnswerEvent(type="delta", text="The PSF ")
        yield AnswerEvent(type="final", answer=self.answer(question, history, extra_results=extra_results))


class FakeRecommender:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def recommend(self, request: str, interface: str = "any", dims: str = "any", k: int = 5) -> Recommendation:
        self.calls.append({"request": request, "interface": interface, "dims": dims})
        result = ToolResult(name="StitchTool", kind="tool", score=0.9, why=["stitches tiles"], interface="plugin",
                            platform="Fiji", license="GPL", links={"biii": "https://example.org/stitch"})
        return Recommendation(query=request, parsed=ParsedRequest(text=request, dims=dims),  # type: ignore[arg-type]
                              results=[result], message=f"Tools for: {request}")


class FakeCoder:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, request: str, image: Path | None = None) -> CodeResult:
        self.calls.append({"request": request, "image": image})
        return CodeResult(request=request, code="labels = segment(img)\nprint(labels.max())", ran=True, ok=True,
                          stdout="12\n", figures=["/tmp/fig.png"])


class FakeForum:
    def __init__(self, reachable: bool = True, fail: bool = False) -> None:
        self.reachable = reachable
        self.fail = fail
        self.queries: list[str] = []

    def is_reachable(self) -> bool:
        return self.reachable

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        self.queries.append(query)
        if self.fail:
            raise ScopebotRuntimeError("forum answered with HTTP 500", hint="try later")
        c = chunk(FORUM_KEY, "Test › Thread\nI fixed it by updating the plugin.", kind="forum", title="Plugin crash")
        return [SearchResult(chunk=c, score=0.5, rank=1)]


def make_assistant(**kwargs: Any) -> tuple[Assistant, dict[str, Any]]:
    """An Assistant over fakes; returns it and the fakes by name."""
    fakes = {"answerer": kwargs.pop("answerer", FakeAnswerer()), "recommender": FakeRecommender(),
             "coder": FakeCoder(), "forum": kwargs.pop("forum", FakeForum())}
    assistant = Assistant(fakes["answerer"], fakes["recommender"], fakes["coder"], fakes["forum"],
                          kwargs.pop("router", small_router()), kwargs.pop("model", None), None, **kwargs)
    return assistant, fakes
