"""The fourth held-out answer set (issue 16) loads with its three groups, and it is not a near-duplicate of any
other answer set in the repo: the tuning and dev sets (answers_v1, answers_train_v1, answers_entities_v1,
answers_dev_*, answers_fakenames_dev_*, the tune split of usefulness_v1) nor the older held-out sets
(answers_holdout_v1..v3, the holdout split of usefulness_v1).

Every other ``answers_*.yaml`` is compared, so a dev set added later is checked too. Failure messages name
only item ids and scores, never question text, so a failing run does not show held-out text to anyone.
"""

from __future__ import annotations

from answer_set_helpers import DS, flagged_near_duplicates, other_answer_questions

from scopebot.evals.datasets import load_dataset

ANSWERS_V4 = DS / "answers_holdout_v4.yaml"


def _v4_items():  # noqa: ANN202 - list of AnswerItem
    return load_dataset(ANSWERS_V4, "answers").items


def test_answers_v4_loads_with_its_three_groups() -> None:
    items = _v4_items()
    answerable = [it for it in items if it.answerable]
    unanswerable = [it for it in items if not it.answerable and it.id.startswith("h4-u")]
    fake = [it for it in items if not it.answerable and it.id.startswith("h4-f")]
    assert (len(answerable), len(unanswerable), len(fake)) == (36, 12, 10)
    assert len(answerable) + len(unanswerable) + len(fake) == len(items)
    assert len({it.id for it in items}) == len(items)
    assert all(it.id.startswith("h4-0") for it in answerable)
    assert all(it.key_facts and it.expected_sources for it in answerable)
    assert all(2 <= len(it.key_facts) <= 4 for it in answerable)
    assert all(it.reason and not it.key_facts for it in unanswerable + fake)


def test_answers_v4_is_not_a_near_duplicate_of_any_other_answer_set() -> None:
    items = _v4_items()
    assert len({it.question for it in items}) == len(items)
    pools = other_answer_questions(ANSWERS_V4)
    assert {"answers_v1.yaml", "answers_train_v1.yaml", "answers_dev_v1.yaml", "answers_holdout_v3.yaml"} <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"held-out v4 items too close to another set (id, set, jaccard): {flagged}"
