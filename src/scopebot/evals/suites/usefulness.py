"""``scopebot eval usefulness``: does the answer help? Key facts plus a rubric, and an LLM judge when configured.

Dataset ``evals/datasets/usefulness_v1.yaml``: each item has a question type, key facts, a reference
answer written by us and a ``split`` (``tune`` or ``holdout``; the held-out half is never tuned on).
Per item:

* ``key_fact_coverage`` and ``complete`` (every key fact present), 0 on an abstention;
* rubric, each 0/1: ``addresses`` (the shape asked for — both sides of a comparison named, the steps
  of a how-to, the number asked for, a definition whose first line names the subject, a tool for a
  which-tool question), ``correct`` (at least half of the key facts), ``cited`` (the answer has
  citations and every checked sentence carries one), ``useful`` (all of addresses, correct, cited);
* ``judge_score`` (0-1) from the LLM judge (``prompts/judge.md``) against the reference, with
  ``--judge-url`` / ``--judge-model``, or automatically when ``SCOPEBOT_LLM_BASE_URL`` points at an
  endpoint and the answering backend is not that endpoint's small model.

Metrics are reported for each split (``tune.*``, ``holdout.*``) and overall. Run the embedded and
generative backends separately (``--backend``, ``--mode``).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from pydantic import BaseModel, ConfigDict, Field

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
from scopebot.evals.suites.answers import fact_coverage

METRICS = ["key_fact_coverage", "complete", "addresses", "correct", "cited", "useful", "abstained", "judge_score"]
Split = Literal["tune", "holdout"]


class UsefulItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    split: Split
    qtype: Literal["definition", "howto", "comparison", "which_tool", "compute", "conceptual"]
    question: str
    key_facts: list[list[str]] = Field(min_length=1)
    reference: str
    expected_sources: list[str] = Field(default_factory=list)


class UsefulDataset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    version: str
    description: str = ""
    items: list[UsefulItem]


def load_usefulness_dataset(path: Path) -> UsefulDataset:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        for item in data.get("items", []):
            item["key_facts"] = [[str(a) for a in alts] for alts in item.get("key_facts", [])]
        return UsefulDataset.model_validate({**data, "version": str(data.get("version", "0"))})
    except (OSError, yaml.YAMLError, ValueError, AttributeError) as exc:
        raise ConfigurationError(f"Invalid usefulness dataset {path}: {exc}",
                                 hint="see evals/datasets/usefulness_v1.yaml for the format") from exc


def addresses(item: UsefulItem, answer: Any) -> bool:
    """Whether the answer has the shape the question asks for (see the module docstring)."""
    if answer.abstained:
        return False
    text = answer.answer
    low = text.lower()
    if item.qtype == "comparison":
        from scopebot.answer.qtype import comparison_sides

        sides, _ = comparison_sides(item.question)
        return bool(sides) and all(re.search(rf"\b{re.escape(s.lower())}\b", low) for s in sides)
    if item.qtype == "compute":
        return any(a.lower() in low for a in item.key_facts[0])
    if item.qtype == "howto":
        steps = re.findall(r"^\s*(?:\d+[.)]|[-*])\s+", text, re.MULTILINE)
        return len(steps) >= 2 or len(answer.citations) >= 2
    if item.qtype == "definition":
        first = text.strip().split("\n")[0].lower()
        return any(a.lower() in first for a in item.key_facts[0]) or fact_coverage(first, item.key_facts) > 0
    if item.qtype == "which_tool":
        return any(a.lower() in low for a in item.key_facts[0])
    return fact_coverage(text, item.key_facts) > 0


def score_item(pipeline: Any, item: UsefulItem, *, mode: str | None = None, judge: Any = None) -> ItemResult:
    t0 = time.perf_counter()
    answer = pipeline.answer(item.question, mode=mode)
    coverage = 0.0 if answer.abstained else fact_coverage(answer.answer, item.key_facts)
    checked = [s for s in answer.sentences if not s.removed and len(s.text.split()) > 3]
    cited = float(not answer.abstained and bool(answer.citations) and all(s.keys for s in checked
                                                                           if s.source != "computed"))
    addr = float(addresses(item, answer))
    correct = float(coverage >= 0.5)
    metrics: dict[str, float] = {"key_fact_coverage": round(coverage, 4), "complete": float(coverage >= 0.999),
                                 "addresses": addr, "correct": correct, "cited": cited,
                                 "useful": float(addr and correct and cited), "abstained": float(answer.abstained)}
    outputs: dict[str, Any] = {"answer": answer.answer, "abstained": answer.abstained,
                               "abstain_reason": answer.abstain_reason,
                               "citations": [f"{c.source_id}: {c.breadcrumb}" for c in answer.citations]}
    if judge is not None:
        verdict = judge.score(item.question, answer.answer, item.reference)
        outputs["judge"] = verdict.model_dump()
        if verdict.normalised is not None:
            metrics["judge_score"] = round(verdict.normalised, 4)
    return ItemResult(id=item.id, inputs={"question": item.question, "split": item.split, "qtype": item.qtype},
                      outputs=outputs, metrics=metrics, passed=bool(metrics["useful"]),
                      seconds=round(time.perf_counter() - t0, 4))


def summarise(results: list[ItemResult]) -> dict[str, float]:
    """Mean metrics overall and per split (``tune.useful``, ``holdout.key_fact_coverage`` ...)."""
    out = mean_metrics(results, METRICS)
    for split in ("tune", "holdout"):
        part = [r for r in results if r.inputs.get("split") == split]
        if part:
            out.update({f"{split}.{k}": v for k, v in mean_metrics(part, METRICS).items()})
    return out


def _auto_judge(settings: Any, model: Any) -> Any:
    """A judge on the configured OpenAI-compatible endpoint, when one is configured (else None)."""
    if settings.llm_base_url is None and settings.llm_api_key is None:
        return None
    from scopebot.evals.judge import build_judge

    return build_judge(settings)


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("usefulness")
    def usefulness(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
                   min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
                   split: Annotated[str, typer.Option(help="tune, holdout or all.")] = "all",
                   backend: Annotated[str | None, typer.Option(
                       help="Chat backend: embedded, openai, gguf or scripted (default: settings).")] = None,
                   mode: Annotated[str | None, typer.Option(help="extractive, generative or auto.")] = None,
                   judge_url: Annotated[str | None, typer.Option(
                       help="Grade answers with an OpenAI-compatible judge at this URL.")] = None,
                   judge_model: Annotated[str | None, typer.Option(help="Model name of the judge endpoint.")] = None,
                   no_judge: Annotated[bool, typer.Option("--no-judge", help="Key facts and rubric only.")] = False,
                   ) -> None:
        """Usefulness of answers: key facts, rubric (addresses, correct, complete, cited) and an LLM judge."""
        if split not in ("tune", "holdout", "all"):
            typer.echo("--split must be tune, holdout or all", err=True)
            raise typer.Exit(2)
        from scopebot.answer.factory import build_answer_pipeline
        from scopebot.knowledge import KnowledgeBase
        from scopebot.llm import make_chat_model

        settings = backend_settings(backend)
        with error_boundary():
            ds = load_usefulness_dataset(dataset_path(dataset, "usefulness_v1.yaml"))
            items = [it for it in ds.items if split == "all" or it.split == split]
            items = items[:limit] if limit else items
            kb = KnowledgeBase.open(settings)
            model = make_chat_model(settings)
            pipeline = build_answer_pipeline(settings, kb=kb, model=model)
            resolved = pipeline.resolve_mode(mode)
            judge = None
            if not no_judge:
                if judge_url or judge_model:
                    from scopebot.evals.judge import build_judge

                    judge = build_judge(settings, base_url=judge_url, model=judge_model)
                elif not model.is_small:
                    judge = _auto_judge(settings, model)
            target = out_dir(out, settings.home, "usefulness")
            results, secs = Runner(target, progress=not quiet, resume=resume).run(
                "usefulness", items, lambda it: score_item(pipeline, it, mode=resolved, judge=judge))
            report = new_report("usefulness", dataset=ds.name, dataset_version=ds.version,
                                backend=f"{model.name} / {resolved}", seconds=round(secs, 2),
                                config={"mode": resolved, "split": split, "judge": judge.name if judge else None,
                                        "top_k": settings.top_k, "index": kb.manifest.build_id})
            report.items = results
            report.metrics = summarise(results)
        finish(report, target, min_)
