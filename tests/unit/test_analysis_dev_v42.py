"""DEV set v42 of the analysis eval: it loads, every scene generates and writes, every truth key resolves, and no
item is a near-duplicate of another analysis set (the held-out check against every dev set is in test_plan_eval)."""

from __future__ import annotations

from pathlib import Path

from plan_helpers import assert_items_write_and_resolve, request_similarity

from scopebot.evals.common import DATASETS_DIR
from scopebot.evals.suites.analysis import load_items

DEV42 = DATASETS_DIR / "analysis_dev_v42.yaml"
NOT_HERE = {"analysis_holdout_v14.yaml", "analysis_holdout_v15.yaml", DEV42.name}


def test_dev_v42_has_24_answerable_and_4_declined_items_whose_truth_resolves(tmp_path: Path) -> None:
    items = load_items(DEV42)
    assert [i.id for i in items] == [f"d42-{k:02d}" for k in range(1, 29)]
    assert sum(i.expect_declined for i in items) == 4
    assert_items_write_and_resolve(items, tmp_path)


def test_dev_v42_is_not_a_near_duplicate_of_another_analysis_set() -> None:
    others = [p for p in sorted(DATASETS_DIR.glob("analysis_*.yaml")) if p.name not in NOT_HERE]
    assert len(others) >= 40
    scores = {k: round(v, 3) for k, v in request_similarity(DEV42, others).items()}
    assert max(scores.values()) <= 0.6, scores
