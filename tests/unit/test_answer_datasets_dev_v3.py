"""The third answers dev set (comparisons and computed numbers, tuned on) loads with its groups and is not a
near-duplicate of the other answer sets. The held-out set being written this round is never read."""

from __future__ import annotations

from answer_set_helpers import DS, flagged_near_duplicates, questions, usefulness_questions

from scopebot.evals.datasets import load_dataset

#: Every other answer set that may be read (the blind held-out set of this round is left out on purpose).
OTHERS = ["answers_v1.yaml", "answers_train_v1.yaml", "answers_dev_v1.yaml", "answers_dev_v2.yaml",
          "answers_holdout_v1.yaml", "answers_holdout_v2.yaml", "answers_holdout_v3.yaml",
          "answers_holdout_v4.yaml", "answers_holdout_v5.yaml", "answers_abstain_train_v1.yaml"]


def test_dev_v3_has_comparisons_numbers_and_unanswerable_items() -> None:
    items = load_dataset(DS / "answers_dev_v3.yaml", "answers").items
    answerable = [it for it in items if it.answerable]
    assert len(answerable) >= 9 and all(it.key_facts for it in answerable)
    assert sum(not it.answerable for it in items) >= 2
    assert len({it.id for it in items}) == len(items)


def test_dev_v3_is_not_a_near_duplicate_of_the_other_answer_sets() -> None:
    items = load_dataset(DS / "answers_dev_v3.yaml", "answers").items
    pools = {name: questions(name) for name in OTHERS}
    pools["usefulness_v1.yaml"] = usefulness_questions()
    assert flagged_near_duplicates(items, pools) == []
