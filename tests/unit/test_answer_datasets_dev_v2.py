"""The second answers dev set (issue 16 follow-up) loads with its groups and is not a near-duplicate of the
held-out answer sets. Held-out text is never printed: a failure names only our own questions."""

from __future__ import annotations

from answer_set_helpers import DS, near, questions, usefulness_questions

from scopebot.evals.datasets import load_dataset


def test_dev_v2_has_its_three_groups() -> None:
    items = load_dataset(DS / "answers_dev_v2.yaml", "answers").items
    answerable = [it for it in items if it.answerable]
    assert len(answerable) >= 30 and all(it.key_facts for it in answerable)
    assert sum(not it.answerable for it in items) >= 15
    assert len({it.id for it in items}) == len(items)


def test_dev_v2_is_not_a_near_duplicate_of_held_out_questions() -> None:
    held = questions("answers_holdout_v1.yaml") + questions("answers_holdout_v2.yaml") + \
        questions("answers_holdout_v3.yaml") + \
        usefulness_questions("holdout")
    ours = questions("answers_dev_v2.yaml")
    close = [t for t, _ in near(ours, held)]
    assert close == [], f"near-duplicates of held-out questions: {close}"


def test_dev_v2_is_apart_from_the_other_tuning_sets() -> None:
    tuning = questions("answers_dev_v1.yaml") + questions("answers_train_v1.yaml") + questions("answers_v1.yaml")
    close = [t for t, _ in near(questions("answers_dev_v2.yaml"), tuning)]
    assert close == [], close


def test_abstention_training_set_is_apart_from_held_out_and_dev_questions() -> None:
    items = load_dataset(DS / "answers_abstain_train_v1.yaml", "answers").items
    assert sum(it.answerable for it in items) >= 20 and sum(not it.answerable for it in items) >= 20
    others = questions("answers_holdout_v1.yaml") + questions("answers_holdout_v2.yaml") + \
        questions("answers_holdout_v3.yaml") + questions("answers_dev_v2.yaml")
    close = [t for t, _ in near([it.question for it in items], others)]
    assert close == [], close
