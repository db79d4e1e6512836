"""DEV set v43 of the analysis eval: it loads, every scene generates and writes, every truth key resolves, and no
item is a near-duplicate of another analysis set, held-out v1..v15 included (only scores are compared; the held-out
check against every dev set is in test_plan_eval)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from plan_helpers import assert_items_write_and_resolve, request_similarity

from scopebot.answer.text import content_set
from scopebot.evals.common import DATASETS_DIR
from scopebot.evals.suites.analysis import load_items

DEV43 = DATASETS_DIR / "analysis_dev_v43.yaml"
NOT_HERE = {"analysis_holdout_v16.yaml", DEV43.name}  # v16 is being written blind this round


def test_dev_v43_has_26_answerable_and_4_declined_items_whose_truth_resolves(tmp_path: Path) -> None:
    items = load_items(DEV43)
    assert [i.id for i in items] == [f"d43-{k:02d}" for k in range(1, 31)]
    assert sum(i.expect_declined for i in items) == 4
    assert_items_write_and_resolve(items, tmp_path)


def test_dev_v43_is_not_a_near_duplicate_of_another_analysis_set_or_of_itself() -> None:
    others = [p for p in sorted(DATASETS_DIR.glob("analysis_*.yaml")) if p.name not in NOT_HERE]
    assert len(others) >= 46 and DATASETS_DIR / "analysis_holdout_v15.yaml" in others
    scores = {k: round(v, 3) for k, v in request_similarity(DEV43, others).items()}
    assert max(scores.values()) <= 0.6, scores
    words = {i.id: content_set(i.request) for i in load_items(DEV43)}
    pairs = {(a, b): len(words[a] & words[b]) / len(words[a] | words[b]) for a, b in combinations(words, 2)}
    assert max(pairs.values()) <= 0.6, max(pairs.items(), key=lambda kv: kv[1])
