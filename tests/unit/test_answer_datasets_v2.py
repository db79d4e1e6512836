"""The issue-16 datasets load, and held-out questions are not near-duplicates of tuning questions."""

from __future__ import annotations

from scopebot.answer.text import content_set
from scopebot.evals.datasets import load_dataset
from scopebot.evals.suites.hallucination import load_hallucination_dataset
from scopebot.evals.suites.usefulness import load_usefulness_dataset
from scopebot.settings import PROJECT_ROOT

DS = PROJECT_ROOT / "evals" / "datasets"
MAX_JACCARD = 0.6


def _questions(name: str) -> list[str]:
    return [it.question for it in load_dataset(DS / name, "answers").items]


def _nearest(q: str, pool: list[str]) -> float:
    a = content_set(q)
    return max((len(a & content_set(p)) / max(1, len(a | content_set(p))) for p in pool), default=0.0)


def test_datasets_load_with_the_expected_groups() -> None:
    hold = load_dataset(DS / "answers_holdout_v2.yaml", "answers").items
    assert sum(it.answerable for it in hold) == 20 and sum(not it.answerable for it in hold) == 18
    useful = load_usefulness_dataset(DS / "usefulness_v1.yaml").items
    assert {it.split for it in useful} == {"tune", "holdout"}
    assert sum(it.split == "holdout" for it in useful) * 2 == len(useful)
    assert len(load_hallucination_dataset(DS / "hallucination_holdout_v1.yaml").items) >= 12


def test_held_out_questions_are_not_near_duplicates_of_tuning_questions() -> None:
    tuning = _questions("answers_v1.yaml") + _questions("answers_entities_v1.yaml") + \
        [it.question for it in load_usefulness_dataset(DS / "usefulness_v1.yaml").items if it.split == "tune"]
    held = _questions("answers_holdout_v2.yaml") + \
        [it.question for it in load_usefulness_dataset(DS / "usefulness_v1.yaml").items if it.split == "holdout"]
    near = [(q, round(_nearest(q, tuning), 2)) for q in held if _nearest(q, tuning) >= MAX_JACCARD]
    assert near == []
