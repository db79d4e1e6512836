"""The sentence-choice dev and train sets (issue 16) load, stay apart, and are not near-duplicates of
held-out questions. Held-out text is never printed: a failure names only our own question."""

from __future__ import annotations

from answer_set_helpers import DS, near, questions, usefulness_questions

from scopebot.evals.datasets import load_dataset


def test_dev_and_train_sets_load_with_their_groups() -> None:
    dev = load_dataset(DS / "answers_dev_v1.yaml", "answers").items
    train = load_dataset(DS / "answers_train_v1.yaml", "answers").items
    assert sum(it.answerable for it in dev) >= 30 and sum(not it.answerable for it in dev) >= 6
    assert len(train) >= 40 and all(it.answerable and it.key_facts for it in train)


def test_train_questions_are_not_near_duplicates_of_dev_questions() -> None:
    dev = questions("answers_dev_v1.yaml")
    close = [t for t, _ in near(questions("answers_train_v1.yaml"), dev)]
    assert close == []


def test_our_questions_are_not_near_duplicates_of_held_out_questions() -> None:
    held = questions("answers_holdout_v1.yaml") + questions("answers_holdout_v2.yaml") + \
        usefulness_questions("holdout")
    ours = questions("answers_dev_v1.yaml") + questions("answers_train_v1.yaml")
    close = [t for t, _ in near(ours, held)]
    assert close == [], f"{len(close)} of our questions are near-duplicates of held-out ones"
