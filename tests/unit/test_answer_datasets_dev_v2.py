"""The second answers dev set (issue 16 follow-up) loads with its groups and is not a near-duplicate of the
held-out answer sets. Held-out text is never printed: a failure names only our own questions."""

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


def test_dev_v2_has_its_three_groups() -> None:
    items = load_dataset(DS / "answers_dev_v2.yaml", "answers").items
    answerable = [it for it in items if it.answerable]
    assert len(answerable) >= 30 and all(it.key_facts for it in answerable)
    assert sum(not it.answerable for it in items) >= 15
    assert len({it.id for it in items}) == len(items)


def test_dev_v2_is_not_a_near_duplicate_of_held_out_questions() -> None:
    held = _questions("answers_holdout_v1.yaml") + _questions("answers_holdout_v2.yaml") + \
        _questions("answers_holdout_v3.yaml") + \
        [it.question for it in load_usefulness_dataset(DS / "usefulness_v1.yaml").items if it.split == "holdout"]
    ours = _questions("answers_dev_v2.yaml")
    near = [q for q in ours if max(_jaccard(q, h) for h in held) >= MAX_JACCARD]
    assert near == [], f"near-duplicates of held-out questions: {near}"


def test_dev_v2_is_apart_from_the_other_tuning_sets() -> None:
    tuning = _questions("answers_dev_v1.yaml") + _questions("answers_train_v1.yaml") + _questions("answers_v1.yaml")
    near = [q for q in _questions("answers_dev_v2.yaml") if max(_jaccard(q, t) for t in tuning) >= MAX_JACCARD]
    assert near == [], near


def test_abstention_training_set_is_apart_from_held_out_and_dev_questions() -> None:
    items = load_dataset(DS / "answers_abstain_train_v1.yaml", "answers").items
    assert sum(it.answerable for it in items) >= 20 and sum(not it.answerable for it in items) >= 20
    others = _questions("answers_holdout_v1.yaml") + _questions("answers_holdout_v2.yaml") + \
        _questions("answers_holdout_v3.yaml") + _questions("answers_dev_v2.yaml")
    near = [it.question for it in items if max(_jaccard(it.question, o) for o in others) >= MAX_JACCARD]
    assert near == [], near
