"""Shared by the planner tests."""

from __future__ import annotations

from pathlib import Path

from scopebot.answer.text import content_set
from scopebot.code.plan import AnalysisPlan
from scopebot.code.scenes import make_scene, write_scene
from scopebot.evals.suites.analysis import AnalysisItem, load_items


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


def assert_items_write_and_resolve(items: list[AnalysisItem], tmp_path: Path) -> None:
    """Each item either expects numbers or is to be declined; its scene generates and writes in its format, and
    every expectation names one summary or column whose truth key the scene has (or a literal value)."""
    for item in items:
        assert bool(item.expect) != item.expect_declined, item.id
        scene = make_scene(item.scene.name, seed=item.scene.seed, **item.scene.params)
        suffix = ".ome.tif" if item.scene.format == "ome" else ".tif"
        assert write_scene(scene, tmp_path / f"{item.id}{suffix}", item.scene.format).stat().st_size > 0  # type: ignore[arg-type]
        for e in item.expect:
            assert (e.summary is None) != (e.column is None), item.id
            assert e.value is not None or e.truth in scene.truth, (item.id, e.truth)
