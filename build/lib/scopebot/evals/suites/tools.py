"""``scopebot eval tools``: hit@1, hit@5 and MRR of tool recommendations.

Each item is a request (with optional interface/dims constraints) and the tools that are acceptable
answers. A recommendation is a hit at rank r when the r-th result's name equals an acceptable name
after normalisation (case, accents, punctuation and '(EBImage)'-style suffixes ignored). Requests
for which the recommender says nothing fits count as misses.
"""

from __future__ import annotations

import time
from typing import Any

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
from scopebot.tools.catalog import normalise_name

K = 5


def hit_rank(names: list[str], acceptable: list[str]) -> int | None:
    """1-based rank of the first result whose normalised name is acceptable, or None."""
    wanted = {normalise_name(a) for a in acceptable}
    for rank, name in enumerate(names, start=1):
        if normalise_name(name) in wanted:
            return rank
    return None


def score_item(recommender: Any, item: Any, k: int = K) -> ItemResult:
    """Run one request and score it."""
    t0 = time.perf_counter()
    rec = recommender.recommend(item.request, interface=item.interface, dims=item.dims, k=k,
                                with_citations=False)
    secs = time.perf_counter() - t0
    names = [r.name for r in rec.results]
    rank = hit_rank(names, list(item.acceptable))
    missing = [a for a in item.acceptable if recommender.catalog.by_name(a) is None]
    return ItemResult(
        id=str(item.id),
        inputs={"request": item.request, "interface": item.interface, "dims": item.dims,
                "acceptable": list(item.acceptable)},
        outputs={"rank": rank, "results": names, "nothing_fits": rec.nothing_fits,
                 "parsed_tasks": rec.parsed.tasks, "acceptable_not_in_index": missing},
        metrics={"hit@1": float(rank == 1), "hit@5": float(rank is not None and rank <= 5),
                 "mrr": 1.0 / rank if rank else 0.0},
        passed=rank is not None and rank <= 5, seconds=round(secs, 4))


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("tools")
    def tools(dataset: DatasetOpt = None, limit: LimitOpt = None, out: OutOpt = None,
              min_: MinOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False) -> None:
        """hit@1, hit@5 and MRR of `scopebot recommend` on the tools dataset."""
        from scopebot.evals.datasets import load_dataset
        from scopebot.tools.factory import build_recommender

        settings = get_settings()
        with error_boundary():
            ds = load_dataset(dataset_path(dataset, "tools_v1.yaml"), "tools")
            items = ds.items[:limit] if limit else ds.items
            recommender = build_recommender(settings)
            target = out_dir(out, settings.home, "tools")
            results, secs = Runner(target, progress=not quiet, resume=resume).run(
                "tools", items, lambda it: score_item(recommender, it))
            report = new_report("tools", dataset=ds.name, dataset_version=ds.version,
                                backend="rules + hybrid retrieval", seconds=round(secs, 2),
                                config={"k": K, "catalog_records": len(recommender.catalog),
                                        "weights": recommender.weights.__dict__})
            report.items = results
            report.metrics = mean_metrics(results, ["hit@1", "hit@5", "mrr"])
            report.metrics["nothing_fits"] = float(sum(1 for r in results if r.outputs.get("nothing_fits")))
            report.metrics["acceptable_missing"] = float(
                sum(1 for r in results if r.outputs.get("acceptable_not_in_index")))
        finish(report, target, min_)
