"""A self-contained demo backend for the UI: canned, deterministic turns with real payload models.

:class:`DemoServices` implements :class:`~scopebot.ui.services.UIServices` without an index, a model
or a sandbox: :class:`DemoAssistant` routes by keywords and answers with a cited ``Answer``, a
``CodeResult`` with a real PNG figure, or a ``Recommendation`` with tool cards. It is what the
browser tests and the UI load benchmark drive, and ``scopebot serve --demo`` shows the page on a
machine with nothing installed. Every text here is written for scopebot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scopebot.agent.models import AgentEvent, TraceStep, TurnResult
from scopebot.answer.models import Answer, CheckReport, Citation, SentenceCheck, Timings
from scopebot.settings import Settings
from scopebot.ui.services import SessionSettings

_CODE = """import numpy as np
import matplotlib.pyplot as plt
from skimage import filters, io, measure

image = io.imread(IMAGE_PATH)
mask = image > filters.threshold_otsu(image)
labels = measure.label(mask)
print(f"objects: {labels.max()}")
plt.imshow(labels, cmap="nipy_spectral")
plt.title("labelled objects")
plt.savefig("labels.png")
"""

_PASSAGES = [
    ("bk-demo0001", "Thresholding", "Global thresholds", "Demo book › Segmentation › Global thresholds",
     "A global threshold splits pixels into foreground and background with one intensity value. "
     "Automatic methods such as Otsu pick the value from the histogram."),
    ("bk-demo0002", "Thresholding", "Choosing a method", "Demo book › Segmentation › Choosing a method",
     "Inspect the histogram first: a clear valley between two peaks suits Otsu, while a dim, "
     "skewed foreground is better served by a triangle or percentile method."),
]


def write_demo_figure(path: Path, seed: int = 0) -> Path:
    """A small PNG with bright discs on a dark background (a stand-in for a labelled nuclei plot)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:160, 0:240]
    img = np.zeros((160, 240, 3), dtype=np.uint8)
    for i in range(9):
        cy, cx, r = rng.integers(20, 140), rng.integers(20, 220), rng.integers(8, 16)
        colour = np.array([(60 + 40 * i) % 255, (200 - 20 * i) % 255, (90 + 70 * i) % 255], dtype=np.uint8)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = colour
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


def demo_answer(question: str) -> Answer:
    cites = [Citation(n=i + 1, key=k, title=t, section=s, breadcrumb=b, url=f"http://127.0.0.1/demo#{k}",
                      snippet=txt[:80]) for i, (k, t, s, b, txt) in enumerate(_PASSAGES)]
    sentences = [
        SentenceCheck(text="A global threshold separates foreground from background with one value.",
                      keys=["bk-demo0001"], support=0.92, supported=True, source="extractive"),
        SentenceCheck(text="Look at the histogram before choosing the method.", keys=["bk-demo0002"],
                      support=0.81, supported=True, source="extractive"),
        SentenceCheck(text="The MagicSegmenter3000 plugin always picks the best threshold.", keys=[],
                      support=0.12, supported=False, source="model"),
    ]
    text = ("A global threshold separates foreground from background with one value [1]. "
            "Look at the histogram before choosing the method [2]. "
            "The MagicSegmenter3000 plugin always picks the best threshold.")
    checks = CheckReport(supported_fraction=2 / 3, unsupported_sentences=[sentences[2].text],
                         unknown_entities=["MagicSegmenter3000"], evidence=0.8)
    return Answer(question=question, answer=text, citations=cites, sentences=sentences, checks=checks,
                  backend="demo", mode="extractive", timings=Timings(total_ms=5.0))


def demo_code_result(request: str, figure: Path) -> Any:
    from scopebot.code.assistant import CodeResult, Round
    from scopebot.code.checks import CodeCheckReport
    from scopebot.sandbox.models import RunResult

    failed = RunResult(ok=False, error="NameError: name 'filter' is not defined", duration_s=0.1)
    ok_run = RunResult(ok=True, stdout="objects: 9\n", figures=[str(figure)], duration_s=0.4)
    rounds = [Round(index=0, source="model", code=_CODE.replace("filters.", "filter."),
                    checks=CodeCheckReport(ok=True), run=failed, error=failed.error),
              Round(index=1, source="repair", code=_CODE, checks=CodeCheckReport(ok=True), run=ok_run)]
    return CodeResult(request=request, code=_CODE, ran=True, ok=True, stdout=ok_run.stdout,
                      figures=[str(figure)], rounds=rounds, checks=CodeCheckReport(ok=True),
                      notes=["demo backend: canned code, run on a synthetic image"])


def demo_recommendation(request: str) -> Any:
    from scopebot.tools.models import Citation as ToolCitation
    from scopebot.tools.models import ParsedRequest, Recommendation, ToolResult

    results = [
        ToolResult(name="Fiji", kind="tool", score=0.91, interface="gui", license="GPL",
                   why=["point-and-click segmentation", "large plugin ecosystem"],
                   links={"homepage": "https://fiji.sc", "biii": "https://biii.eu/fiji"},
                   description="An image analysis application with many bundled plugins.",
                   citations=[ToolCitation(key="bk-demo0001", title="Thresholding", section="Global thresholds",
                                           url="http://127.0.0.1/demo#bk-demo0001")]),
        ToolResult(name="napari", kind="tool", score=0.84, interface="gui", license="BSD-3-Clause",
                   why=["n-dimensional viewer", "Python plugins"],
                   links={"homepage": "https://napari.org"},
                   description="A multi-dimensional image viewer for Python."),
    ]
    return Recommendation(query=request, parsed=ParsedRequest(text=request, tasks=["segmentation"]),
                          results=results)


class DemoAssistant:
    """Keyword-routed canned turns, streamed like the real ``Assistant`` (status, deltas, final)."""

    def __init__(self, workdir: Path, delay_s: float = 0.0) -> None:
        self.workdir = workdir
        self.delay_s = delay_s
        self.turns = 0

    def _route(self, text: str, force: str | None) -> str:
        if force:
            return force
        low = text.lower()
        if any(w in low for w in ("code", "script", "python", "count", "segment this")):
            return "code"
        if any(w in low for w in ("tool", "plugin", "software", "recommend")):
            return "tool"
        return "question"

    def stream_turn(self, text: str, image: Path | None = None,
                    force_route: str | None = None) -> Iterator[AgentEvent]:
        started = time.perf_counter()
        self.turns += 1
        route = self._route(text, force_route)
        trace = [TraceStep(name="route", outputs={"label": route, "forced": force_route is not None})]
        yield AgentEvent(type="status", text="retrieving passages")
        time.sleep(self.delay_s / 2)
        if route == "code":
            yield AgentEvent(type="status", text="running the code in the sandbox")
            fig = write_demo_figure(self.workdir / f"fig-{id(self)}-{self.turns}.png", seed=self.turns)
            payload: Any = demo_code_result(text, fig)
            kind, md = "code", "Here is code for that."
        elif route == "tool":
            payload, kind, md = demo_recommendation(text), "tools", ""
        else:
            yield AgentEvent(type="status", text="generating the answer")
            payload = demo_answer(text)
            for word in payload.answer.split(" ")[:6]:
                yield AgentEvent(type="delta", text=word + " ")
            kind, md = "answer", payload.answer
        time.sleep(self.delay_s / 2)
        result = TurnResult(text=text, route=route, confidence=1.0 if force_route else 0.9, kind=kind,
                            payload=payload, markdown=md, trace=trace, image=str(image) if image else None,
                            seconds=time.perf_counter() - started)
        yield AgentEvent(type="final", result=result)

    def turn(self, text: str, image: Path | None = None, force_route: str | None = None) -> TurnResult:
        final = None
        for event in self.stream_turn(text, image, force_route):
            final = event.result if event.type == "final" else final
        assert final is not None
        return final


class DemoServices:
    """:class:`~scopebot.ui.services.UIServices` for the demo: no index, model or sandbox needed.

    ``sandbox`` (optional) is a real :class:`~scopebot.sandbox.Sandbox` for the Run button; without
    it a run returns a canned result with a freshly drawn figure.
    """

    def __init__(self, settings: Settings, *, delay_s: float = 0.0, sandbox: Any = None,
                 code_execution: bool = True) -> None:
        self.settings = settings
        self.delay_s = delay_s
        self.sandbox = sandbox
        self._code_execution = code_execution
        self.workdir = settings.home / "demo"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.assistants: list[tuple[SessionSettings, DemoAssistant]] = []
        self._lock = threading.Lock()
        self._runs = 0

    @property
    def code_execution(self) -> bool:
        return self._code_execution

    def make_assistant(self, session: SessionSettings) -> DemoAssistant:
        assistant = DemoAssistant(self.workdir, self.delay_s)
        with self._lock:
            self.assistants.append((session, assistant))
        return assistant

    def run_code(self, code: str, image: Path | None = None) -> Any:
        from scopebot.sandbox.models import RunResult

        if self.sandbox is not None:
            from scopebot.ui.services import _input_image

            with _input_image(image) as (name, path):
                return self.sandbox.run(code, files={name: path}, globals={"IMAGE_PATH": name})
        with self._lock:
            self._runs += 1
            n = self._runs
        fig = write_demo_figure(self.workdir / f"run-{n}.png", seed=100 + n)
        return RunResult(ok=True, stdout=f"objects: 9\n(demo run {n})\n", figures=[str(fig)], duration_s=0.05)

    def passage_text(self, key: str) -> str | None:
        return next((txt for k, *_rest, txt in _PASSAGES if k == key), None)
