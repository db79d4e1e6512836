"""Shared by the answer-dataset tests: questions of a set, content-word Jaccard, and near-duplicate search.

Failure output names only the set under test (ids or its own texts), never another held-out set's text.
"""

from __future__ import annotations

from pathlib import Path

from scopebot.answer.text import content_set
from scopebot.evals.datasets import load_dataset
from scopebot.evals.suites.usefulness import load_usefulness_dataset
from scopebot.settings import PROJECT_ROOT

DS = PROJECT_ROOT / "evals" / "datasets"
#: Two questions at or above this content-word Jaccard are near-duplicates.
MAX_JACCARD = 0.6
#: The book and the training material: the sources the answerable questions of our answer sets are written from.
EXPLAIN_SOURCE_IDS = frozenset({"janelia-book", "carpentries-microscopy", "datacarpentry-image-processing",
                                "coba-guide", "neubias", "bioimage-notebooks"})


def jaccard(a: str, b: str) -> float:
    x, y = content_set(a), content_set(b)
    return len(x & y) / max(1, len(x | y))


def questions(name: str) -> list[str]:
    """The questions of ``evals/datasets/<name>``."""
    return [it.question for it in load_dataset(DS / name, "answers").items]


def usefulness_questions(split: str | None = None) -> list[str]:
    """The questions of usefulness_v1 (one split, or all)."""
    items = load_usefulness_dataset(DS / "usefulness_v1.yaml").items
    return [it.question for it in items if split is None or it.split == split]


def near(new: list[str], pool: list[str]) -> list[tuple[str, float]]:
    """New texts whose nearest text in ``pool`` reaches MAX_JACCARD (only the new text is reported)."""
    scores = [(t, max((jaccard(t, p) for p in pool), default=0.0)) for t in new]
    return [(t, round(s, 2)) for t, s in scores if s >= MAX_JACCARD]


def other_answer_questions(exclude: Path) -> dict[str, list[str]]:
    """Questions of every other answer set in the repo (and usefulness_v1), by file name."""
    pools = {p.name: questions(p.name) for p in sorted(DS.glob("answers_*.yaml")) if p != exclude}
    pools["usefulness_v1.yaml"] = usefulness_questions()
    return pools


def flagged_near_duplicates(items: list, pools: dict[str, list[str]]) -> list[tuple[str, str, float]]:
    """(item id, set name, score) for every item at or above MAX_JACCARD to some question of a pool."""
    flagged = []
    for it in items:
        for name, pool in pools.items():
            score = max((jaccard(it.question, q) for q in pool), default=0.0)
            if score >= MAX_JACCARD:
                flagged.append((it.id, name, round(score, 2)))
    return flagged


def held_out_groups(items: list, prefix: str) -> tuple[list, list, list]:
    """A held-out set's answerable items, its unanswerable ones (``<prefix>-u..``) and those naming invented
    things (``<prefix>-f..``)."""
    answerable = [it for it in items if it.answerable]
    unanswerable = [it for it in items if not it.answerable and it.id.startswith(f"{prefix}-u")]
    fake = [it for it in items if not it.answerable and it.id.startswith(f"{prefix}-f")]
    return answerable, unanswerable, fake
