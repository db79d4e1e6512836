"""``scopebot eval quiz``: answer third-party lesson quizzes, parsed at run time (never committed).

Items come from :mod:`scopebot.evals.quiz_parse` (NEUBIAS module assessments and Carpentries
challenge/solution blocks read from ``Settings.sources_dir``). Each question goes through the
grounded answer pipeline; per item:

* ``retrieval_hit`` — a retrieved passage comes from the quiz's own lesson file (same source id and
  ``metadata.file``), ``retrieval_mrr`` its reciprocal rank, ``source_hit`` the same source at all;
* ``cited_hit`` — a passage *cited in the answer* comes from that file;
* ``keyword_overlap`` — share of the solution's keywords in the answer (0 when scopebot abstained;
  left out for items whose solution has no content words, e.g. true/false lists);
* ``abstention_rate`` — scopebot said the answer is not in its sources (every quiz is answerable
  from its lesson, so lower is better);
* ``judge_score`` — optional LLM-as-judge grade against the solution (``--judge-url``).

The lessons are themselves indexed, so this measures "does scopebot find and use the right lesson",
not unseen-question generalisation. The report (with question and solution text) is written only to
the output directory, which is under ``SCOPEBOT_HOME`` by default.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from scopebot.clitools import error_boundary
from scopebot.evals.common import (
    LimitOpt,
    MinOpt,
    OutOpt,
    QuietOpt,
    ResumeOpt,
    backend_settings,
    finish,
    out_dir,
)
from scopebot.evals.metrics import keyword_coverage
from scopebot.evals.quiz_parse import QUIZ_SOURCES, QuizItem, load_quiz, stem_word
from scopebot.evals.runner import ItemResult, Runner, mean_metrics, new_report
from scopebot.index.models import Chunk, SearchResult

METRICS = ["retrieval_hit", "retrieval_mrr", "source_hit", "cited_hit", "keyword_overlap", "abstention_rate",
           "judge_score"]


class RecordingRetriever:
    """Wraps a retriever and remembers the results of the last search (everything else is delegated).

    The answer pipeline only hands back citation keys; recording its search lets the suite check
    where the retrieved passages came from without searching twice.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last: list[SearchResult] = []

    def search(self, query: str, k: int = 5, kinds: Any = None) -> list[SearchResult]:
        self.last = list(self.inner.search(query, k=k, kinds=kinds))
        return self.last

    def __getattr__(self, name: str) -> Any:  # embedder, get, iter_chunks ... of the real retriever
        return getattr(self.inner, name)


def same_lesson(chunk: Chunk, item: QuizItem) -> bool:
    """The chunk comes from the quiz's file (by ``metadata.file``, else by the page name in its URL)."""
    if chunk.source_id != item.source_id:
        return False
    file = chunk.metadata.get("file")
    if file:
        return str(file) == item.file
    stem = re.escape(item.file.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    return re.search(rf"/{stem}(?:/|\.html|#|$)", chunk.url) is not None


def keyword_facts(keywords: Sequence[str]) -> list[list[str]]:
    """Each keyword as a fact with its crude stem as an alternative ('thresholds' also matches 'threshold')."""
    return [sorted({k, stem_word(k)}) for k in keywords]


def quiz_sources(manifest_path: Any) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """The quiz sources with their folders taken from the source manifest when it lists them."""
    from scopebot.errors import ConfigurationError
    from scopebot.sources.manifest import load_manifest

    try:
        specs = {s.id: s for s in load_manifest(manifest_path)}
    except ConfigurationError:
        specs = {}
    return {sid: (specs[sid].subpath if sid in specs else folder, parser, globs)
            for sid, (folder, parser, globs) in QUIZ_SOURCES.items()}


def score_item(pipeline: Any, recorder: RecordingRetriever, item: QuizItem, *, mode: str | None = None,
               judge: Any = None) -> ItemResult:
    """Ask one quiz question and measure retrieval, citations, keyword overlap and abstention."""
    t0 = time.perf_counter()
    recorder.last = []
    answer = pipeline.answer(item.prompt, mode=mode)
    secs = time.perf_counter() - t0
    retrieved = recorder.last
    rank = next((r.rank or i for i, r in enumerate(retrieved, start=1) if same_lesson(r.chunk, item)), None)
    by_key = {r.chunk.key: r.chunk for r in retrieved}
    cited = [by_key[c.key] for c in answer.citations if c.key in by_key]
    metrics: dict[str, float] = {
        "retrieval_hit": float(rank is not None), "retrieval_mrr": 1.0 / rank if rank else 0.0,
        "source_hit": float(any(r.chunk.source_id == item.source_id for r in retrieved)),
        "cited_hit": float(any(same_lesson(c, item) for c in cited)),
        "abstention_rate": float(answer.abstained)}
    if item.keywords:
        metrics["keyword_overlap"] = 0.0 if answer.abstained else round(
            keyword_coverage(answer.answer, keyword_facts(item.keywords)), 4)
    outputs: dict[str, Any] = {
        "answer": answer.answer, "abstained": answer.abstained, "rank": rank,
        "retrieved": [f"{r.chunk.source_id}:{r.chunk.metadata.get('file', '')} › {r.chunk.section}"
                      for r in retrieved],
        "citations": [f"{c.source_id}: {c.breadcrumb}" for c in answer.citations],
        "timings": answer.timings.model_dump()}
    if judge is not None:
        verdict = judge.score(item.prompt, answer.answer, item.solution)
        outputs["judge"] = verdict.model_dump()
        if verdict.normalised is not None:
            metrics["judge_score"] = verdict.normalised
    return ItemResult(id=item.id, inputs={"source": item.source_id, "file": item.file, "title": item.title,
                                          "question": item.prompt, "solution": item.solution,
                                          "keywords": item.keywords},
                      outputs=outputs, metrics=metrics,
                      passed=rank is not None and not answer.abstained, seconds=round(secs, 4))


def summarise(results: Sequence[ItemResult]) -> dict[str, float]:
    """Mean metrics plus the retrieval hit rate of each source."""
    metrics = mean_metrics(results, METRICS)
    for source in sorted({str(r.inputs.get("source")) for r in results}):
        sub = [r for r in results if r.inputs.get("source") == source]
        metrics[f"retrieval_hit[{source}]"] = round(sum(r.metrics.get("retrieval_hit", 0.0) for r in sub)
                                                    / len(sub), 4)
    return metrics


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("quiz")
    def quiz(limit: LimitOpt = None, out: OutOpt = None, min_: MinOpt = None, quiet: QuietOpt = False,
             resume: ResumeOpt = False,
             source: Annotated[list[str] | None, typer.Option(
                 "--source", help="Only these quiz sources (neubias, carpentries-microscopy, "
                                  "datacarpentry-image-processing); repeatable.")] = None,
             backend: Annotated[str | None, typer.Option(
                 help="Chat backend: embedded, openai, gguf or scripted (default: settings).")] = None,
             mode: Annotated[str | None, typer.Option(help="extractive, generative or auto.")] = None,
             k: Annotated[int | None, typer.Option("-k", min=1, max=20, help="Passages per question.")] = None,
             judge_url: Annotated[str | None, typer.Option(
                 help="Grade answers against the solutions with an OpenAI-compatible judge at this URL.")] = None,
             judge_model: Annotated[str | None, typer.Option(help="Model name of the judge endpoint.")] = None,
             ) -> None:
        """Answer the NEUBIAS and Carpentries lesson quizzes (parsed at run time) and score them."""
        from scopebot.answer.factory import build_answer_pipeline
        from scopebot.errors import ConfigurationError
        from scopebot.knowledge import KnowledgeBase
        from scopebot.llm import make_chat_model

        settings = backend_settings(backend, top_k=k)
        with error_boundary():
            items, missing = load_quiz(settings.sources_dir, quiz_sources(settings.manifest_path), only=source)
            if not items:
                raise ConfigurationError(f"No quiz items found in {settings.sources_dir}",
                                         hint="set SCOPEBOT_SOURCES_DIR to the knowledge-sources folder "
                                              "(NEUBIAS training resources, Carpentries lessons)")
            total = len(items)
            items = items[:limit] if limit else items
            kb = KnowledgeBase.open(settings)
            recorder = RecordingRetriever(kb)
            model = make_chat_model(settings)
            pipeline = build_answer_pipeline(settings, kb=recorder, model=model, embedder=kb.embedder)
            resolved = pipeline.resolve_mode(mode)
            judge = None
            if judge_url or judge_model:
                from scopebot.evals.judge import build_judge

                judge = build_judge(settings, base_url=judge_url, model=judge_model)
            target = out_dir(out, settings.home, "quiz")
            results, secs = Runner(target, progress=not quiet, resume=resume).run(
                "quiz", items, lambda it: score_item(pipeline, recorder, it, mode=resolved, judge=judge))
            report = new_report("quiz", dataset="lesson quizzes (parsed at run time)",
                                dataset_version=f"{total} items", backend=f"{model.name} / {resolved}",
                                seconds=round(secs, 2),
                                config={"mode": resolved, "top_k": settings.top_k, "sources_dir":
                                        str(settings.sources_dir), "missing_sources": missing,
                                        "judge": judge.name if judge else None, "index": kb.manifest.build_id})
            report.items = results
            report.metrics = summarise(results)
        finish(report, target, min_)
