"""The fifth answers dev set (40 answerable questions, half conversational, tuned on) loads with its key facts and
expected sources, and is not a near-duplicate of any other answer set in the repo (every other ``answers_*.yaml``,
held-out ones included, and usefulness_v1). Failure messages name only ids and scores."""

from __future__ import annotations

from answer_set_helpers import DS, EXPLAIN_SOURCE_IDS, flagged_near_duplicates, other_answer_questions

from scopebot.evals.datasets import load_dataset

FILE = DS / "answers_dev_v5.yaml"


def test_dev_v5_loads_with_forty_answerable_items() -> None:
    ds = load_dataset(FILE, "answers")
    assert ds.version == "dev-v5"
    items = ds.items
    assert len(items) == 40
    assert [it.id for it in items] == [f"d5-{i:03d}" for i in range(1, 41)]
    assert all(it.answerable for it in items)
    assert all(2 <= len(it.key_facts) <= 3 and it.expected_sources for it in items)
    assert all(all(group) for it in items for group in it.key_facts)
    assert all(set(it.expected_sources) <= EXPLAIN_SOURCE_IDS for it in items)
    # every source the set was written from is used
    assert set().union(*(it.expected_sources for it in items)) == EXPLAIN_SOURCE_IDS


def test_dev_v5_is_not_a_near_duplicate_of_any_other_answer_set() -> None:
    items = load_dataset(FILE, "answers").items
    assert len({it.question for it in items}) == len(items)
    pools = other_answer_questions(FILE)
    assert {"answers_dev_v4.yaml", "answers_holdout_v8.yaml", "usefulness_v1.yaml"} <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"dev-v5 items too close to another set (id, set, jaccard): {flagged}"
