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


def _result(ok: bool, values: dict | None = None, columns: dict | None = None, declined: bool = False):
    return SimpleNamespace(ok=ok, values=values or {}, columns=columns or {}, figures=[], declined=declined,
                           problems=["x"])


def test_datasets_load_with_unique_ids_and_at_least_40_items() -> None:
    tune, held = load_items(TUNE), load_items(HELD) + load_items(HELD2)
    ids = [i.id for i in tune + held]
    assert len(ids) == len(set(ids)) and len(tune) >= 30 and len(held) >= 40
    for item in tune + held:
        assert item.expect or item.expect_declined


def _similarity(held: Path) -> dict[str, float]:
    """Content-word Jaccard of each held-out request with its closest tuning request."""
    tune = [content_set(i.request) for i in load_items(TUNE)]
    out = {}
    for item in load_items(held):
        words = content_set(item.request)
        out[item.id] = max(len(words & t) / len(words | t) for t in tune)
    return out


def test_held_out_requests_are_not_near_duplicates_of_tuning_requests() -> None:
    """v2 (the clean held-out set): every request at most 0.6 from the tuning half (max 0.57).
    v1: two known near-duplicates above 0.6 (h04 ~ t03 0.71, h23 ~ t31 0.62; t31 was written after
    v1's first run), reported in docs/code.md."""
    v2 = _similarity(HELD2)
    assert max(v2.values()) <= 0.6, v2
    v1 = _similarity(HELD)
    assert {k for k, v in v1.items() if v > 0.6} == {"h04", "h23"}, v1


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
