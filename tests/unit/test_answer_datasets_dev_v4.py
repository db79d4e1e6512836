"""The fourth answers dev set (conversational questions, tuned on) loads with its three groups (answerable with key
facts, unanswerable, invented names) and is not a near-duplicate of any other answer set in the repo (every other
``answers_*.yaml``, held-out ones included, and usefulness_v1). Failure messages name only ids and scores."""

from __future__ import annotations

from answer_set_helpers import (
    DS,
    EXPLAIN_SOURCE_IDS,
    flagged_near_duplicates,
    held_out_groups,
    other_answer_questions,
)

from scopebot.evals.datasets import load_dataset

FILE = DS / "answers_dev_v4.yaml"


def test_dev_v4_loads_with_its_three_groups() -> None:
    ds = load_dataset(FILE, "answers")
    assert ds.version == "dev-v4"
    items = ds.items
    answerable, unanswerable, fake = held_out_groups(items, "d4")
    assert (len(answerable), len(unanswerable), len(fake)) == (32, 10, 6)
    assert len(answerable) + len(unanswerable) + len(fake) == len(items)
    assert len({it.id for it in items}) == len(items)
    assert all(it.id.startswith("d4-0") for it in answerable)
    assert all(2 <= len(it.key_facts) <= 3 and it.expected_sources for it in answerable)
    assert all(all(group) for it in answerable for group in it.key_facts)
    assert all(set(it.expected_sources) <= EXPLAIN_SOURCE_IDS for it in answerable)
    assert all(it.reason and not it.key_facts for it in unanswerable + fake)


def test_dev_v4_is_not_a_near_duplicate_of_any_other_answer_set() -> None:
    items = load_dataset(FILE, "answers").items
    assert len({it.question for it in items}) == len(items)
    pools = other_answer_questions(FILE)
    assert {"answers_dev_v3.yaml", "answers_holdout_v6.yaml", "usefulness_v1.yaml"} <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"dev-v4 items too close to another set (id, set, jaccard): {flagged}"
