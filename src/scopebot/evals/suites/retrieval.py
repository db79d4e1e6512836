"""``scopebot eval retrieval``: section-level recall@1/@5 and MRR of the hybrid index.

A retrieved passage is a hit when it comes from the expected source and the expected section
heading is on its heading path (document title or any heading above the passage), compared
after normalisation (case, punctuation, leading chapter numbers).
"""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

import typer

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
from scopebot.index.models import Chunk

_NUM = re.compile(r"^\s*(?:chapter\s+)?[0-9]+(?:\.[0-9]+)*\s*[:.]?\s*")
_NON = re.compile(r"[^a-z0-9]+")


def norm(text: str) -> str:
    return _NON.sub(" ", _NUM.sub("", text.lower())).strip()


def is_hit(chunk: Chunk, expected: list[Any]) -> bool:
    names = {norm(chunk.title), norm(chunk.section), *(norm(p) for p in chunk.path)}
    for exp in expected:
        source = exp["source"] if isinstance(exp, dict) else exp.source
        section = exp["section"] if isinstance(exp, dict) else exp.section
        if chunk.source_id == source and norm(section) in names:
            return True
    return False


def score_item(kb: Any, item: Any, k: int = 10, kinds: list[str] | None = None) -> ItemResult:
    t0 = time.perf_counter()
    results = kb.search(item.question, k=k, kinds=kinds)
    secs = time.perf_counter() - t0
    rank = next((r.rank for r in results if is_hit(r.chunk, item.expected)), None)
    return ItemResult(
        id=str(item.id), inputs={"question": item.question,
                                 "expected": [e.model_dump() if hasattr(e, "model_dump") else e for e in item.expected]},
        outputs={"rank": rank, "top": [f"{r.chunk.source_id}: {r.chunk.breadcrumb}" for r in results[:5]]},
        metrics={"recall@1": float(rank == 1), "recall@5": float(rank is not None and rank <= 5),
                 "recall@10": float(rank is not None), "mrr": 1.0 / rank if rank else 0.0},
        passed=rank is not None and rank <= 5, seconds=round(secs, 4))


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("retrieval")
    def retrieval(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
                  min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
                  mode: Annotated[str, typer.Option(help="hybrid, dense or lexical ranking.")] = "hybrid",
                  kind: Annotated[list[str] | None, typer.Option(
                      "--kind", help="Search only these source kinds (e.g. book for book-only questions).")] = None,
                  ) -> None:
        """Section-level recall@1/@5 and MRR on the retrieval dataset."""
        from scopebot.evals.datasets import load_dataset
        from scopebot.knowledge import KnowledgeBase

        weights = {"hybrid": {}, "dense": {"lexical_weight": 0.0}, "lexical": {"dense_weight": 0.0}}
        if mode not in weights:
            typer.echo("--mode must be hybrid, dense or lexical", err=True)
            raise typer.Exit(2)
        settings = get_settings(**weights[mode])
        with error_boundary():
            ds = load_dataset(dataset_path(dataset, "retrieval_v1.yaml"), "retrieval")
            items = ds.items[:limit] if limit else ds.items
            kb = KnowledgeBase.open(settings)
            target = out_dir(out, settings.home, "retrieval")
            results, secs = Runner(target, progress=not quiet, resume=resume).run(
                "retrieval", items, lambda it: score_item(kb, it, kinds=kind))
            report = new_report("retrieval", dataset=ds.name, dataset_version=ds.version,
                                backend=f"{mode} / {kb.manifest.embedder}", seconds=round(secs, 2),
                                config={"mode": mode, "kinds": kind or "all", "chunk_size": settings.chunk_size, "rrf_k": settings.rrf_k,
                                        "candidates": settings.candidates, "index": kb.manifest.build_id})
            report.items = results
            report.metrics = mean_metrics(results, ["recall@1", "recall@5", "recall@10", "mrr"])
            for source in sorted({e.source for it in items for e in it.expected}):
                sub = [r for r, it in zip(results, items, strict=True) if it.expected[0].source == source]
                if sub:
                    report.metrics[f"recall@5[{source}]"] = round(
                        sum(r.metrics.get("recall@5", 0) for r in sub) / len(sub), 4)
        finish(report, target, min_)
