"""The second abstention training set (answers_abstain_train_v2) loads with both labels and is not a
near-duplicate of the seen held-out answer sets, the dev sets or the first training set. Held-out text is
never printed: a failure names only our own questions. (answers_holdout_v6 is not read: it is the blind set.)"""

from __future__ import annotations

from answer_set_helpers import DS, near, questions, usefulness_questions

from scopebot.evals.datasets import load_dataset

NAME = "answers_abstain_train_v2.yaml"


def test_both_labels_are_well_represented() -> None:
    items = load_dataset(DS / NAME, "answers").items
    assert sum(it.answerable for it in items) >= 30 and sum(not it.answerable for it in items) >= 30
    assert all(it.key_facts and it.expected_sources for it in items if it.answerable)
    assert len({it.id for it in items}) == len(items)


def test_it_is_apart_from_the_held_out_and_dev_questions() -> None:
    others = [q for n in ("answers_holdout_v1.yaml", "answers_holdout_v2.yaml", "answers_holdout_v3.yaml",
                          "answers_holdout_v4.yaml", "answers_holdout_v5.yaml", "answers_dev_v1.yaml",
                          "answers_dev_v2.yaml") for q in questions(n)] + usefulness_questions()
    close = [t for t, _ in near(questions(NAME), others)]
    assert close == [], f"near-duplicates of held-out or dev questions: {close}"


def test_it_is_apart_from_the_other_training_sets() -> None:
    tuning = questions("answers_abstain_train_v1.yaml") + questions("answers_train_v1.yaml") + \
        questions("answers_v1.yaml")
    close = [t for t, _ in near(questions(NAME), tuning)]
    assert close == [], close
