"""The seventh held-out answer set (issue 16) loads with its three groups, and it is not a near-duplicate of any
other answer set in the repo (every other ``answers_*.yaml`` and both splits of usefulness_v1).

Failure messages name only item ids and scores, never question text, so a failing run does not show held-out
text to anyone.
"""

from __future__ import annotations

from answer_set_helpers import DS, flagged_near_duplicates, other_answer_questions

from scopebot.evals.datasets import load_dataset

ANSWERS_V7 = DS / "answers_holdout_v7.yaml"
SOURCE_IDS = {"janelia-book", "carpentries-microscopy", "datacarpentry-image-processing", "coba-guide",
              "neubias", "bioimage-notebooks"}


def _v7_items():  # noqa: ANN202 - list of AnswerItem
    return load_dataset(ANSWERS_V7, "answers").items


def test_answers_v7_loads_with_its_three_groups() -> None:
    items = _v7_items()
    answerable = [it for it in items if it.answerable]
    unanswerable = [it for it in items if not it.answerable and it.id.startswith("h7-u")]
    fake = [it for it in items if not it.answerable and it.id.startswith("h7-f")]
    assert (len(answerable), len(unanswerable), len(fake)) == (32, 12, 8)
    assert len(answerable) + len(unanswerable) + len(fake) == len(items)
    assert len({it.id for it in items}) == len(items)
    assert all(it.id.startswith("h7-0") for it in answerable)
    assert all(it.key_facts and it.expected_sources for it in answerable)
    assert all(2 <= len(it.key_facts) <= 3 for it in answerable)
    assert all(all(group) for it in answerable for group in it.key_facts)
    assert all(set(it.expected_sources) <= SOURCE_IDS for it in answerable)
    assert all(it.reason and not it.key_facts for it in unanswerable + fake)


def test_answers_v7_is_not_a_near_duplicate_of_any_other_answer_set() -> None:
    items = _v7_items()
    assert len({it.question for it in items}) == len(items)
    pools = other_answer_questions(ANSWERS_V7)
    assert {"answers_v1.yaml", "answers_train_v1.yaml", "answers_dev_v1.yaml", "answers_holdout_v6.yaml",
            "answers_abstain_train_v1.yaml", "answers_abstain_train_v2.yaml", "answers_fakenames_dev_v1.yaml",
            "usefulness_v1.yaml"} <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"held-out v7 items too close to another set (id, set, jaccard): {flagged}"
