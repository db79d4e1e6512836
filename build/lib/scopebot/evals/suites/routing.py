"""``scopebot eval routing``: accuracy of the turn router on labelled turns (with follow-up history).

Every item is routed with the real router (rules + the packaged MiniLM embedder by default) in the
context of its ``history``. The report gives accuracy, per-label precision/recall/F1 and the
confusion matrix (``report.json`` ``config.confusion`` and ``confusion.md`` beside it).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from scopebot.agent.models import ROUTES
from scopebot.agent.router import Router, context_from_history
from scopebot.clitools import error_boundary, get_settings
from scopebot.evals.common import (
    DatasetOpt,
    LimitOpt,
    MinOpt,
    OutOpt,
    QuietOpt,
    ResumeOpt,
    dataset_path,
    finish,
    out_dir,
)
from scopebot.evals.runner import ItemResult, Runner, mean_metrics, new_report


def score_item(router: Router, item: Any) -> ItemResult:
    """Route one item in the context of its history and compare with its label."""
    t0 = time.perf_counter()
    route = router.route(item.text, context_from_history(getattr(item, "history", []) or []))
    secs = time.perf_counter() - t0
    ok = route.label == item.label
    return ItemResult(id=str(item.id), inputs={"text": item.text, "label": item.label,
                                               "history": len(getattr(item, "history", []) or [])},
                      outputs={"route": route.label, "confidence": route.confidence,
                               "inherited": route.inherited, "reasons": route.reasons[:4]},
                      metrics={"accuracy": float(ok)}, passed=ok, seconds=round(secs, 4))


def confusion(results: Sequence[ItemResult]) -> dict[str, dict[str, int]]:
    """``matrix[expected][predicted]`` counts over the routes."""
    matrix = {e: dict.fromkeys(ROUTES, 0) for e in ROUTES}
    for r in results:
        expected, predicted = r.inputs.get("label"), r.outputs.get("route")
        if expected in matrix and predicted in matrix[expected]:
            matrix[expected][predicted] += 1
    return matrix


def per_label(matrix: dict[str, dict[str, int]]) -> dict[str, float]:
    """Precision, recall and F1 of each route that occurs in the data or the predictions."""
    out: dict[str, float] = {}
    for label in ROUTES:
        tp = matrix[label][label]
        support = sum(matrix[label].values())
        predicted = sum(matrix[e][label] for e in ROUTES)
        if not support and not predicted:
            continue
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        out[f"precision:{label}"] = round(p, 4)
        out[f"recall:{label}"] = round(r, 4)
        out[f"f1:{label}"] = round(2 * p * r / (p + r), 4) if p + r else 0.0
    return out


def confusion_markdown(matrix: dict[str, dict[str, int]]) -> str:
    """The confusion matrix as a markdown table (rows: expected, columns: predicted)."""
    lines = ["| expected \\ predicted | " + " | ".join(ROUTES) + " |",
             "|---|" + "---|" * len(ROUTES)]
    lines += [f"| {e} | " + " | ".join(str(matrix[e][p]) for p in ROUTES) + " |" for e in ROUTES]
    return "\n".join(lines) + "\n"


def run_routing(items: Sequence[Any], router: Router, target: Path, *, progress: bool = False,
                resume: bool = False) -> tuple[list[ItemResult], dict[str, float], dict[str, dict[str, int]], float]:
    """Score ``items``; return the results, the metrics, the confusion matrix and the seconds taken."""
    results, secs = Runner(target, progress=progress, resume=resume).run(
        "routing", items, lambda it: score_item(router, it))
    matrix = confusion(results)
    metrics = mean_metrics(results, ["accuracy"])
    metrics.update(per_label(matrix))
    metrics["follow_up_accuracy"] = round(
        sum(r.metrics.get("accuracy", 0.0) for r in results if r.inputs.get("history"))
        / max(1, sum(1 for r in results if r.inputs.get("history"))), 4)
    return results, metrics, matrix, secs


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("routing")
    def routing(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
                min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
                embedder: Annotated[str | None, typer.Option(
                    help="Embedder for the similarity vote: minilm (default), hash, or a model folder.")] = None,
                ) -> None:
        """Route accuracy, per-label precision/recall and the confusion matrix on routing_v1."""
        from scopebot.evals.datasets import load_dataset
        from scopebot.index.embeddings import make_embedder

        settings = get_settings(embedding_model=embedder)
        with error_boundary():
            ds = load_dataset(dataset_path(dataset, "routing_v1.yaml"), "routing")
            items = ds.items[:limit] if limit else ds.items
            emb = make_embedder(settings)
            router = Router(emb)
            target = out_dir(out, settings.home, "routing")
            results, metrics, matrix, secs = run_routing(items, router, target, progress=not quiet, resume=resume)
            report = new_report("routing", dataset=ds.name, dataset_version=ds.version, backend=f"rules + {emb.name}",
                                seconds=round(secs, 2),
                                config={"embedder": emb.name, "examples": len(router.examples), "k": router.k,
                                        "rule_weight": router.rule_weight, "confusion": matrix})
            report.items = results
            report.metrics = metrics
            target.mkdir(parents=True, exist_ok=True)
            (target / "confusion.md").write_text(confusion_markdown(matrix), encoding="utf-8")
            if not quiet:
                typer.echo(confusion_markdown(matrix))
        finish(report, target, min_)
