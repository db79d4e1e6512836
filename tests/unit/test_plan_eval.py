"""The analysis eval: datasets, the three buckets, and held-out items that are not near-duplicates."""

from __future__ import annotations

from types import SimpleNamespace

from plan_helpers import request_similarity

from scopebot.evals.common import DATASETS_DIR
from scopebot.evals.runner import ItemResult
from scopebot.evals.suites.analysis import AnalysisItem, judge, load_items, summarise

TUNE = DATASETS_DIR / "analysis_v1.yaml"
HELD = DATASETS_DIR / "analysis_holdout_v1.yaml"
HELD2 = DATASETS_DIR / "analysis_holdout_v2.yaml"
HELD3 = DATASETS_DIR / "analysis_holdout_v3.yaml"
HELD4 = DATASETS_DIR / "analysis_holdout_v4.yaml"
HELD_SETS = [DATASETS_DIR / f"analysis_holdout_v{i}.yaml" for i in range(1, 17)]
DEV_SETS = sorted(DATASETS_DIR.glob("analysis_dev_v*.yaml"))


def _result(ok: bool, values: dict | None = None, columns: dict | None = None, declined: bool = False):
    return SimpleNamespace(ok=ok, values=values or {}, columns=columns or {}, figures=[], declined=declined,
                           problems=["x"])


def test_datasets_load_with_unique_ids_and_at_least_40_items() -> None:
    tune = load_items(TUNE)
    held = [i for path in HELD_SETS for i in load_items(path)]
    ids = [i.id for i in tune + held]
    assert len(ids) == len(set(ids)) and len(tune) >= 30 and len(held) >= 40
    for item in tune + held:
        assert item.expect or item.expect_declined


def test_held_out_requests_are_not_near_duplicates_of_what_was_tuned_on() -> None:
    """Each held-out set against the tuning set and every set used for tuning before it was run.
    Known near-duplicates (> 0.6, reported in docs/code.md): v1 h04 ~ t03 (0.71), h23 ~ t31 (0.62);
    v3 w13 ~ t16 (0.75), w10 ~ h10 (0.67); v4 x05 ~ t04 (0.71); v6 z14 ~ t17 (1.0), z12 ~ h12 (0.71),
    z02 ~ x02 (0.67), z05 and z07 (0.63); v7 q13 (1.0), q09 and q06 (0.71), q08 (0.67); v8 r13 (0.88),
    r12 (0.71), r18, r16, r02 (0.67), r05 (0.62); v9 none; v10 none, v11 none, v12 none, v13 none, v14 none, v15 none
    and v16 none (each checked against the tuning set, every earlier held-out set and every dev set). Everything else
    is at most 0.6."""
    sets = [TUNE, *HELD_SETS]
    known = {1: {"h04", "h23"}, 2: set(), 3: {"w13", "w10"}, 4: {"x05"}, 5: set(), 6: {"z14", "z12", "z02", "z05", "z07"},
             7: {"q13", "q09", "q06", "q08"}, 8: {"r13", "r12", "r18", "r16", "r02", "r05"}, 9: set(), 10: set(),
             11: set(), 12: set(), 13: set(), 14: set(), 15: set(), 16: set()}
    for i, held in enumerate(HELD_SETS, start=1):
        reference = [TUNE] if i == 1 else sets[:i] + (DEV_SETS if i >= 10 else [])
        sim = request_similarity(held, reference)
        assert {k for k, v in sim.items() if v > 0.6} == known[i], (held.name, sim)


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
