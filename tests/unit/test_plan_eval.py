"""The analysis eval: datasets, the three buckets, and held-out items that are not near-duplicates."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from scopebot.answer.text import content_set
from scopebot.evals.common import DATASETS_DIR
from scopebot.evals.runner import ItemResult
from scopebot.evals.suites.analysis import AnalysisItem, judge, load_items, summarise

TUNE = DATASETS_DIR / "analysis_v1.yaml"
HELD = DATASETS_DIR / "analysis_holdout_v1.yaml"
HELD2 = DATASETS_DIR / "analysis_holdout_v2.yaml"
HELD3 = DATASETS_DIR / "analysis_holdout_v3.yaml"
HELD4 = DATASETS_DIR / "analysis_holdout_v4.yaml"


def _result(ok: bool, values: dict | None = None, columns: dict | None = None, declined: bool = False):
    return SimpleNamespace(ok=ok, values=values or {}, columns=columns or {}, figures=[], declined=declined,
                           problems=["x"])


def test_datasets_load_with_unique_ids_and_at_least_40_items() -> None:
    tune = load_items(TUNE)
    held = [i for path in (HELD, HELD2, HELD3, HELD4) for i in load_items(path)]
    ids = [i.id for i in tune + held]
    assert len(ids) == len(set(ids)) and len(tune) >= 30 and len(held) >= 40
    for item in tune + held:
        assert item.expect or item.expect_declined


def _similarity(held: Path, reference: list[Path]) -> dict[str, float]:
    """Content-word Jaccard of each held-out request with its closest request in ``reference``."""
    tune = [content_set(i.request) for path in reference for i in load_items(path)]
    out = {}
    for item in load_items(held):
        words = content_set(item.request)
        out[item.id] = max(len(words & t) / len(words | t) for t in tune)
    return out


def test_held_out_requests_are_not_near_duplicates_of_what_was_tuned_on() -> None:
    """Each held-out set against the tuning set and every set used for tuning before it was run.
    Known near-duplicates (> 0.6, reported in docs/code.md): v1 h04 ~ t03 (0.71), h23 ~ t31 (0.62);
    v3 w13 ~ t16 (0.75), w10 ~ h10 (0.67); v4 x05 ~ t04 (0.71). Everything else is at most 0.6."""
    sets = [TUNE, HELD, HELD2, HELD3, HELD4]
    known = {HELD: {"h04", "h23"}, HELD2: set(), HELD3: {"w13", "w10"}, HELD4: {"x05"}}
    for i, held in enumerate(sets[1:], start=1):
        reference = [TUNE] if held is HELD else sets[:i]
        sim = _similarity(held, reference)
        assert {k for k, v in sim.items() if v > 0.6} == known[held], (held.name, sim)
        assert max(sim.values()) < 0.8


def test_buckets() -> None:
    item = AnalysisItem.model_validate({"id": "x", "request": "r", "scene": {"name": "nuclei"},
                                        "expect": [{"summary": "count", "truth": "count"}]})
    truth = {"count": 5}
    assert judge(item, _result(True, {"count": {"value": 5, "unit": "objects"}}), truth)[0] == "right"
    assert judge(item, _result(True, {"count": {"value": 6, "unit": "objects"}}), truth)[0] == "wrong_claimed_ok"
    assert judge(item, _result(True, {}), truth)[0] == "wrong_claimed_ok"
    assert judge(item, _result(False, declined=True), truth)[0] == "declined"
    beyond = AnalysisItem.model_validate({"id": "y", "request": "r", "scene": {"name": "nuclei"},
                                          "expect_declined": True})
    assert judge(beyond, _result(False, declined=True), truth)[0] == "right"
    assert judge(beyond, _result(True), truth)[0] == "wrong_claimed_ok"
    col = AnalysisItem.model_validate({"id": "z", "request": "r", "scene": {"name": "nuclei"},
                                       "expect": [{"column": "a", "truth": "a", "tol": 0.1}]})
    assert judge(col, _result(True, columns={"a": [2.05, 0.95]}), {"a": [1, 2]})[0] == "right"
    assert judge(col, _result(True, columns={"a": [2.05]}), {"a": [1, 2]})[0] == "wrong_claimed_ok"
    metrics = summarise([ItemResult(id="a", outputs={"bucket": "right"}),
                         ItemResult(id="b", outputs={"bucket": "wrong_claimed_ok"})])
    assert metrics["right_rate"] == 0.5 and metrics["honest"] == 0.5 and metrics["wrong_claimed_ok"] == 1
