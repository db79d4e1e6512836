"""The third abstention training set (answers_abstain_train_v3: conversational questions with context) loads
with both labels in the promised counts, and no question is a near-duplicate of any other answer set in the
repo or usefulness_v1. A failure names only ids, set names and scores, never another set's text."""

from __future__ import annotations

from answer_set_helpers import DS, EXPLAIN_SOURCE_IDS, flagged_near_duplicates, other_answer_questions

from scopebot.evals.datasets import load_dataset

NAME = "answers_abstain_train_v3.yaml"


def test_both_labels_come_in_the_promised_counts_and_shapes() -> None:
    ds = load_dataset(DS / NAME, "answers")
    assert (ds.name, ds.version) == ("answers_abstain_train", "3")
    answerable = [it for it in ds.items if it.answerable]
    unanswerable = [it for it in ds.items if not it.answerable]
    assert (len(answerable), len(unanswerable)) == (45, 35)
    assert [it.id for it in answerable] == [f"a3-{i:03d}" for i in range(1, 46)]
    assert [it.id for it in unanswerable] == [f"a3-u{i:02d}" for i in range(1, 36)]
    assert all(it.key_facts and all(it.key_facts) for it in answerable)
    assert all(set(it.expected_sources) <= EXPLAIN_SOURCE_IDS and it.expected_sources for it in answerable)
    assert all(it.reason and not it.key_facts and not it.expected_sources for it in unanswerable)
    assert len({it.question.lower() for it in ds.items}) == len(ds.items)


def test_every_question_gives_context_before_asking() -> None:
    """Conversational: more than one sentence or clause, a question mark, and some length."""
    for it in load_dataset(DS / NAME, "answers").items:
        assert it.question.rstrip().endswith("?"), it.id
        assert len(it.question.split()) >= 14, it.id


def test_it_is_not_a_near_duplicate_of_any_other_answer_set() -> None:
    items = load_dataset(DS / NAME, "answers").items
    pools = other_answer_questions(DS / NAME)
    assert {"answers_abstain_train_v2.yaml", "usefulness_v1.yaml"} <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"too close to another set (id, set, jaccard): {flagged}"
