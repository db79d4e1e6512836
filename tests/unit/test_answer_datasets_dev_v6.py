"""The sixth answers dev set (tuned on) stresses abstention both ways: 40 answerable questions, mostly phrased
conversationally, 14 unanswerable ones near covered topics and 6 naming invented tools. It loads with its three
groups, no key fact can be satisfied by repeating the question, and no item is a near-duplicate of any other
answer set in the repo (every other ``answers_*.yaml``, held-out ones included, and usefulness_v1). Failure
messages name only ids and scores."""

from __future__ import annotations

from answer_set_helpers import (
    DS,
    EXPLAIN_SOURCE_IDS,
    flagged_near_duplicates,
    held_out_groups,
    other_answer_questions,
)

from scopebot.evals.datasets import load_dataset

FILE = DS / "answers_dev_v6.yaml"


def _items():  # noqa: ANN202 - list of AnswerItem
    return load_dataset(FILE, "answers").items


def test_dev_v6_loads_with_its_three_groups() -> None:
    ds = load_dataset(FILE, "answers")
    assert ds.version == "dev-v6"
    answerable, unanswerable, fake = held_out_groups(ds.items, "d6")
    assert (len(answerable), len(unanswerable), len(fake)) == (40, 14, 6)
    assert len(ds.items) == 60
    assert [it.id for it in answerable] == [f"d6-{i:03d}" for i in range(1, 41)]
    assert [it.id for it in unanswerable] == [f"d6-u{i:02d}" for i in range(1, 15)]
    assert [it.id for it in fake] == [f"d6-f{i:02d}" for i in range(1, 7)]


def test_dev_v6_answerable_items_have_two_or_three_key_fact_groups_from_the_explain_sources() -> None:
    answerable, _, _ = held_out_groups(_items(), "d6")
    assert all(2 <= len(it.key_facts) <= 3 and it.expected_sources for it in answerable)
    assert all(all(group) and all(alt.strip() for alt in group) for it in answerable for group in it.key_facts)
    assert all(set(it.expected_sources) <= EXPLAIN_SOURCE_IDS for it in answerable)
    # every source the set was written from is used
    assert set().union(*(it.expected_sources for it in answerable)) == EXPLAIN_SOURCE_IDS


def test_dev_v6_unanswerable_items_give_a_reason_and_no_key_facts() -> None:
    _, unanswerable, fake = held_out_groups(_items(), "d6")
    assert all(not it.key_facts and it.reason for it in unanswerable + fake)


def test_dev_v6_no_key_fact_is_echoed_by_its_question() -> None:
    answerable, _, _ = held_out_groups(_items(), "d6")
    echoed = [(it.id, gi) for it in answerable for gi, group in enumerate(it.key_facts)
              if any(alt.lower() in it.question.lower() for alt in group)]
    assert echoed == [], f"key-fact groups satisfied by the question itself (id, group): {echoed}"


def test_dev_v6_is_not_a_near_duplicate_of_any_other_answer_set() -> None:
    items = _items()
    assert len({it.question for it in items}) == len(items)
    pools = other_answer_questions(FILE)
    assert {"answers_dev_v5.yaml", "answers_holdout_v8.yaml", "answers_holdout_v9.yaml",
            "answers_abstain_train_v3.yaml", "answers_fakenames_dev_v1.yaml", "usefulness_v1.yaml"} <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"dev-v6 items too close to another set (id, set, jaccard): {flagged}"
    for i, it in enumerate(items):
        others = {"answers_dev_v6.yaml": [o.question for j, o in enumerate(items) if j != i]}
        assert flagged_near_duplicates([it], others) == [], f"{it.id} too close to another dev-v6 item"
