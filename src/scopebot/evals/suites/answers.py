"""``scopebot eval answers``: key-fact coverage, abstention and citation validity of grounded answers.

Per item (dataset ``evals/datasets/answers_v1.yaml``):

* answerable items: ``key_fact_coverage`` (share of key facts whose keyword alternatives appear in
  the answer; 0 when scopebot abstained), ``false_abstention`` (1 when it abstained),
  ``source_hit`` (an expected source is cited), ``supported_fraction``;
* unanswerable items: ``abstain_unanswerable`` (1 when it abstained);
* every item: ``invalid_citations`` (citation keys in the *output* that were not in the context —
  the target is 0) and ``invalid_citations_removed`` (invented keys the checks caught).

Targets with the embedded backend: abstain_unanswerable ≥ 0.9, false_abstention ≤ 0.1,
invalid_citations = 0. Gates are minimums, so ``answer_rate`` (1 − false abstention) and
``citations_valid`` (1 when no invalid citation reached an answer) exist for ``--min``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from scopebot.clitools import error_boundary
from scopebot.errors import ConfigurationError
from scopebot.evals.common import (
    DatasetOpt,
    LimitOpt,
    MinOpt,
    OutOpt,
    QuietOpt,
    ResumeOpt,
    backend_settings,
    dataset_path,
    finish,
    out_dir,
)
from scopebot.evals.runner import ItemResult, Runner, mean_metrics, new_report

METRICS = ["key_fact_coverage", "source_hit", "false_abstention", "abstain_unanswerable", "supported_fraction",
           "invalid_citations", "invalid_citations_removed", "unknown_entities"]


def fact_coverage(answer_text: str, key_facts: list[list[str]]) -> float:
    """Share of facts with at least one keyword alternative in the answer (case-insensitive)."""
    if not key_facts:
        return 0.0
    low = answer_text.lower()
    return sum(1 for alts in key_facts if any(a.lower() in low for a in alts)) / len(key_facts)


def score_item(pipeline: Any, item: Any, *, mode: str | None = None, strict: bool | None = None) -> ItemResult:
    """Answer one dataset item and measure it."""
    from scopebot.citations import find_citations

    t0 = time.perf_counter()
    answer = pipeline.answer(item.question, mode=mode, strict=strict)
    secs = time.perf_counter() - t0
    output_invalid = [k for k in find_citations(answer.answer_keys) if k not in set(answer.context_keys)]
    metrics: dict[str, float] = {"invalid_citations": float(len(output_invalid)),
                                 "invalid_citations_removed": float(answer.checks.invalid_citations),
                                 "unknown_entities": float(len(answer.checks.unknown_entities))}
    if item.answerable:
        coverage = 0.0 if answer.abstained else fact_coverage(answer.answer, item.key_facts)
        cited_sources = {c.source_id for c in answer.citations}
        metrics.update({"key_fact_coverage": round(coverage, 4), "false_abstention": float(answer.abstained),
                        "source_hit": float(bool(cited_sources & set(item.expected_sources)))})
        if not answer.abstained:
            metrics["supported_fraction"] = answer.checks.supported_fraction
        passed = not answer.abstained and coverage >= 0.5 and not output_invalid
    else:
        metrics["abstain_unanswerable"] = float(answer.abstained)
        passed = answer.abstained and not output_invalid
    return ItemResult(
        id=str(item.id),
        inputs={"question": item.question, "answerable": item.answerable},
        outputs={"answer": answer.answer, "abstained": answer.abstained, "abstain_reason": answer.abstain_reason,
                 "evidence": answer.checks.evidence, "query": answer.query,
                 "citations": [f"{c.source_id}: {c.breadcrumb}" for c in answer.citations],
                 "unknown_entities": answer.checks.unknown_entities, "timings": answer.timings.model_dump()},
        metrics=metrics, passed=passed, seconds=round(secs, 4))


def summarise(results: list[ItemResult]) -> dict[str, float]:
    """Mean metrics plus the gateable forms of the targets."""
    metrics = mean_metrics(results, METRICS)
    invalid_total = sum(r.metrics.get("invalid_citations", 0.0) for r in results)
    metrics["invalid_citations_total"] = invalid_total
    metrics["citations_valid"] = float(invalid_total == 0)
    if "false_abstention" in metrics:
        metrics["answer_rate"] = round(1.0 - metrics["false_abstention"], 4)
    return metrics


def _scrub_body(request: Any) -> Any:
    import hashlib

    body = request.body or b""
    raw = body if isinstance(body, bytes) else str(body).encode()
    request.body = f"<{len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()[:16]}>".encode()
    return request


@contextmanager
def http_cassette(path: Path | None, *, record: bool = False, sources_dir: Path | None = None) -> Iterator[None]:
    """Replay (or record) the chat endpoint's HTTP traffic with vcrpy; a no-op without a path.

    Requests are matched on method and path in order, so a replay does not depend on the exact
    prompt bytes (which change when the index is rebuilt). Auth headers are never written, and
    request bodies are replaced by their length and hash: prompts carry source passages, which are
    third-party text that must not be committed. For the same reason, after recording, runs of words
    that the model quoted from the sources are redacted (:mod:`scopebot.evals.cassettes`).
    """
    if path is None:
        yield
        return
    import vcr

    if not record and not path.is_file():
        raise ConfigurationError(f"Cassette not found: {path}", hint="record it with --record against a live endpoint")
    recorder = vcr.VCR(record_mode="all" if record else "none", match_on=["method", "path"],
                       filter_headers=["authorization", "api-key", "x-api-key", "openai-organization"],
                       decode_compressed_response=True, before_record_request=_scrub_body)
    with recorder.use_cassette(str(path), allow_playback_repeats=False):
        yield
    if record and sources_dir is not None and sources_dir.is_dir():
        from scopebot.evals.cassettes import redact_cassette, source_texts

        redact_cassette(path, source_texts(sources_dir))


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("answers")
    def answers(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
                min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
                backend: Annotated[str | None, typer.Option(
                    help="Chat backend: embedded, openai, gguf or scripted (default: settings).")] = None,
                mode: Annotated[str | None, typer.Option(help="extractive, generative or auto.")] = None,
                strict: Annotated[bool | None, typer.Option("--strict/--no-strict")] = None,
                k: Annotated[int | None, typer.Option("-k", min=1, max=20, help="Passages per question.")] = None,
                lead: Annotated[bool, typer.Option("--lead/--no-lead", help="Model-written lead (extractive).")] = False,
                cassette: Annotated[Path | None, typer.Option(
                    help="Replay the endpoint's HTTP answers from this vcrpy cassette (no server or key needed).")] = None,
                record: Annotated[bool, typer.Option(
                    help="With --cassette: record it against the live endpoint instead of replaying.")] = False,
                ) -> None:
        """Key-fact coverage, abstention and citation validity of grounded answers."""
        from scopebot.answer.factory import build_answer_pipeline
        from scopebot.evals.datasets import load_dataset
        from scopebot.knowledge import KnowledgeBase
        from scopebot.llm import make_chat_model

        settings = backend_settings(backend, top_k=k)
        with error_boundary():
            ds = load_dataset(dataset_path(dataset, "answers_v1.yaml"), "answers")
            items = ds.items[:limit] if limit else ds.items
            kb = KnowledgeBase.open(settings)
            model = make_chat_model(settings)
            pipeline = build_answer_pipeline(settings, kb=kb, model=model, lead=lead)
            resolved = pipeline.resolve_mode(mode)
            target = out_dir(out, settings.home, "answers")
            with http_cassette(cassette, record=record, sources_dir=settings.sources_dir):
                results, secs = Runner(target, progress=not quiet, resume=resume).run(
                    "answers", items, lambda it: score_item(pipeline, it, mode=resolved, strict=strict))
            report = new_report("answers", dataset=ds.name, dataset_version=ds.version,
                                backend=f"{model.name} / {resolved}", seconds=round(secs, 2),
                                config={"mode": resolved, "strict": settings.strict if strict is None else strict,
                                        "top_k": settings.top_k, "abstain_threshold": settings.abstain_threshold,
                                        "support_threshold": settings.support_threshold, "lead": lead,
                                        "index": kb.manifest.build_id})
            report.items = results
            report.metrics = summarise(results)
        finish(report, target, min_)
