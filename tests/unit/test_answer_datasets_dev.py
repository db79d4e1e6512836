"""The sentence-choice dev and train sets (issue 16) load, stay apart, and are not near-duplicates of
held-out questions. Held-out text is never printed: a failure names only our own question."""

from __future__ import annotations

from scopebot.answer.text import content_set
from scopebot.evals.datasets import load_dataset
from scopebot.evals.suites.usefulness import load_usefulness_dataset
from scopebot.settings import PROJECT_ROOT

DS = PROJECT_ROOT / "evals" / "datasets"
MAX_JACCARD = 0.6


def _questions(name: str) -> list[str]:
    return [it.question for it in load_dataset(DS / name, "answers").items]


def _jaccard(a: str, b: str) -> float:
    x, y = content_set(a), content_set(b)
    return len(x & y) / max(1, len(x | y))


def test_dev_and_train_sets_load_with_their_groups() -> None:
    dev = load_dataset(DS / "answers_dev_v1.yaml", "answers").items
    train = load_dataset(DS / "answers_train_v1.yaml", "answers").items
    assert sum(it.answerable for it in dev) >= 30 and sum(not it.answerable for it in dev) >= 6
    assert len(train) >= 40 and all(it.answerable and it.key_facts for it in train)


def test_train_questions_are_not_near_duplicates_of_dev_questions() -> None:
    dev = _questions("answers_dev_v1.yaml")
    near = [q for q in _questions("answers_train_v1.yaml") if max(_jaccard(q, d) for d in dev) >= MAX_JACCARD]
    assert near == []


def test_our_questions_are_not_near_duplicates_of_held_out_questions() -> None:
    held = _questions("answers_holdout_v1.yaml") + _questions("answers_holdout_v2.yaml") + \
        [it.question for it in load_usefulness_dataset(DS / "usefulness_v1.yaml").items if it.split == "holdout"]
    ours = _questions("answers_dev_v1.yaml") + _questions("answers_train_v1.yaml")
    near = [q for q in ours if max(_jaccard(q, h) for h in held) >= MAX_JACCARD]
    assert near == [], f"{len(near)} of our questions are near-duplicates of held-out ones"
