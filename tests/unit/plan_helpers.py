"""Shared by the planner tests."""

from __future__ import annotations

from pathlib import Path

from scopebot.answer.text import content_set
from scopebot.code.plan import AnalysisPlan
from scopebot.evals.suites.analysis import load_items


def plan_core(plan: AnalysisPlan) -> dict:
    """The plan without its explanation lists: what runs and what is promised."""
    data = plan.model_dump()
    data.pop("understood"), data.pop("not_understood"), data.pop("not_used")
    return data


def request_similarity(dataset: Path, reference: list[Path]) -> dict[str, float]:
    """Content-word Jaccard of each request of ``dataset`` with its closest request in the ``reference`` sets."""
    tune = [content_set(i.request) for path in reference for i in load_items(path)]
    out = {}
    for item in load_items(dataset):
        words = content_set(item.request)
        out[item.id] = max(len(words & t) / len(words | t) for t in tune)
    return out
