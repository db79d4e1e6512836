"""The issue-16 follow-up held-out sets load, and they are not near-duplicates of data tuned on or seen before.

``answers_holdout_v3.yaml`` is compared with the tuning sets (answers_v1, answers_entities_v1, the tune
split of usefulness_v1) and with the older held-out questions, so it measures something new;
``hallucination_holdout_v2.yaml`` is compared with hallucination_v1/v2 (answers and passage texts);
``hallucination_holdout_v3.yaml`` with hallucination_v1/v2 and the older held-out hallucination_holdout_v1/v2.
Failure messages name only the new items, never the older held-out text.
"""

from __future__ import annotations

import re
from collections import Counter

from answer_set_helpers import DS, held_out_groups, near, questions, usefulness_questions

from scopebot.evals.datasets import load_dataset
from scopebot.evals.suites.hallucination import load_hallucination_dataset

ANSWERS_V3 = DS / "answers_holdout_v3.yaml"
HAL_V2 = DS / "hallucination_holdout_v2.yaml"
HAL_V3 = DS / "hallucination_holdout_v3.yaml"
UNSUPPORTED_TYPES = {"polarity", "swap", "number", "drift", "overclaim"}


def test_answers_v3_loads_with_its_three_groups() -> None:
    items = load_dataset(ANSWERS_V3, "answers").items
    answerable, unanswerable, fake = held_out_groups(items, "h3")
    assert len(answerable) >= 30 and len(unanswerable) >= 10 and len(fake) >= 10
    assert len(answerable) + len(unanswerable) + len(fake) == len(items)
    assert len({it.id for it in items}) == len(items)
    assert all(it.key_facts and it.expected_sources for it in answerable)
    assert all(it.reason and not it.key_facts for it in unanswerable + fake)


def test_answers_v3_is_not_a_near_duplicate_of_tuning_or_older_held_out_questions() -> None:
    v3 = questions("answers_holdout_v3.yaml")
    assert len(set(v3)) == len(v3)
    tuning = questions("answers_v1.yaml") + questions("answers_entities_v1.yaml") + usefulness_questions("tune")
    assert near(v3, tuning) == []
    older_held_out = questions("answers_holdout_v1.yaml") + questions("answers_holdout_v2.yaml") + \
        usefulness_questions("holdout")
    assert near(v3, older_held_out) == []


def test_hallucination_v2_loads_balanced_and_realistic() -> None:
    ds = load_hallucination_dataset(HAL_V2)
    unsupported = [it for it in ds.items if it.labels.get("unsupported")]
    clean = [it for it in ds.items if not any(it.labels.values())]
    assert len(unsupported) >= 30 and len(clean) >= 25
    assert len(unsupported) + len(clean) == len(ds.items)
    assert len({it.id for it in ds.items}) == len(ds.items)
    # every answer cites at least one of its own passages, so only meaning (not citations) is under test
    assert all(any("{" + p + "}" in it.answer for p in it.passages) for it in ds.items)


def test_hallucination_v2_is_not_a_near_duplicate_of_the_tuned_sets() -> None:
    new = load_hallucination_dataset(HAL_V2)
    old = [load_hallucination_dataset(DS / n) for n in ("hallucination_v1.yaml", "hallucination_v2.yaml")]
    old_answers = [it.answer for ds in old for it in ds.items]
    old_passages = [p.text for ds in old for p in ds.passages.values()]
    assert near([it.answer for it in new.items], old_answers) == []
    assert near([p.text for p in new.passages.values()], old_passages) == []


def _hal_v3_types() -> dict[str, str]:
    """The error type of each v3 item, from the ``# type: ...`` comment written above it."""
    text = HAL_V3.read_text(encoding="utf-8")
    return {item: kind for kind, item in re.findall(r"^# type: (\S+)\n- id: (\S+)$", text, re.M)}


def test_hallucination_v3_loads_balanced_with_every_error_type() -> None:
    ds = load_hallucination_dataset(HAL_V3)
    unsupported = [it for it in ds.items if it.labels.get("unsupported")]
    clean = [it for it in ds.items if not any(it.labels.values())]
    assert len(unsupported) == 30 and len(clean) == 30 and len(ds.items) == 60
    assert len({it.id for it in ds.items}) == len(ds.items)
    assert all(any("{" + p + "}" in it.answer for p in it.passages) for it in ds.items)
    types = _hal_v3_types()
    assert set(types) == {it.id for it in ds.items}
    counts = Counter(types[it.id] for it in unsupported)
    assert set(counts) == UNSUPPORTED_TYPES and min(counts.values()) >= 5
    assert not UNSUPPORTED_TYPES & {types[it.id] for it in clean}


def test_hallucination_v3_is_not_a_near_duplicate_of_tuned_or_older_held_out_sets() -> None:
    new = load_hallucination_dataset(HAL_V3)
    names = ("hallucination_v1.yaml", "hallucination_v2.yaml", "hallucination_holdout_v1.yaml",
             "hallucination_holdout_v2.yaml")
    old = [load_hallucination_dataset(DS / n) for n in names]
    old_answers = [it.answer for ds in old for it in ds.items]
    old_passages = [p.text for ds in old for p in ds.passages.values()]
    assert near([it.answer for it in new.items], old_answers) == []
    assert near([p.text for p in new.passages.values()], old_passages) == []
