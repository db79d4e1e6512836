"""The held-out answer sets v4-v10 (issue 16) load with their three groups (answerable with key facts,
unanswerable, invented names), and none is a near-duplicate of any other answer set in the repo (every other
``answers_*.yaml``, so a set added later is checked too, and both splits of usefulness_v1).

One table row per set: what its author promised about it. Failure messages name only item ids and scores,
never question text, so a failing run does not show held-out text to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from answer_set_helpers import (
    DS,
    EXPLAIN_SOURCE_IDS,
    flagged_near_duplicates,
    held_out_groups,
    other_answer_questions,
)

from scopebot.evals.datasets import load_dataset


@dataclass(frozen=True)
class HeldOutSet:
    version: int
    counts: tuple[int, int, int]  # answerable, unanswerable, invented names
    max_key_facts: int
    sources_checked: bool  # answerable questions cite only EXPLAIN_SOURCE_IDS
    must_compare: frozenset[str]  # sets the near-duplicate check must include

    @property
    def file(self) -> str:
        return f"answers_holdout_v{self.version}.yaml"


_BASE = frozenset({"answers_v1.yaml", "answers_train_v1.yaml", "answers_dev_v1.yaml"})
SETS = [
    HeldOutSet(4, (36, 12, 10), 4, False, _BASE | {"answers_holdout_v3.yaml"}),
    HeldOutSet(5, (24, 8, 6), 3, True, _BASE | {"answers_holdout_v4.yaml", "usefulness_v1.yaml"}),
    HeldOutSet(6, (32, 12, 8), 3, True, _BASE | {"answers_holdout_v5.yaml", "usefulness_v1.yaml"}),
    HeldOutSet(7, (32, 12, 8), 3, True, _BASE | {"answers_holdout_v6.yaml", "answers_abstain_train_v1.yaml",
                                                 "answers_abstain_train_v2.yaml", "answers_fakenames_dev_v1.yaml",
                                                 "usefulness_v1.yaml"}),
    HeldOutSet(8, (32, 12, 8), 3, True, _BASE | {"answers_holdout_v6.yaml", "answers_holdout_v7.yaml",
                                                 "answers_abstain_train_v1.yaml", "answers_abstain_train_v2.yaml",
                                                 "answers_fakenames_dev_v1.yaml", "answers_entities_v1.yaml",
                                                 "usefulness_v1.yaml"}),
    HeldOutSet(9, (32, 12, 8), 3, True, _BASE | {"answers_holdout_v6.yaml", "answers_holdout_v7.yaml",
                                                 "answers_holdout_v8.yaml", "answers_abstain_train_v1.yaml",
                                                 "answers_abstain_train_v2.yaml", "answers_abstain_train_v3.yaml",
                                                 "answers_fakenames_dev_v1.yaml", "answers_entities_v1.yaml",
                                                 "answers_dev_v4.yaml", "answers_dev_v5.yaml",
                                                 "usefulness_v1.yaml"}),
    HeldOutSet(10, (32, 12, 8), 3, True, _BASE | {"answers_holdout_v6.yaml", "answers_holdout_v7.yaml",
                                                  "answers_holdout_v8.yaml", "answers_holdout_v9.yaml",
                                                  "answers_abstain_train_v1.yaml", "answers_abstain_train_v2.yaml",
                                                  "answers_abstain_train_v3.yaml", "answers_fakenames_dev_v1.yaml",
                                                  "answers_entities_v1.yaml", "answers_dev_v4.yaml",
                                                  "answers_dev_v5.yaml", "answers_dev_v6.yaml",
                                                  "usefulness_v1.yaml"}),
]


def _items(held: HeldOutSet):  # noqa: ANN202 - list of AnswerItem
    return load_dataset(DS / held.file, "answers").items


@pytest.mark.parametrize("held", SETS, ids=lambda s: f"v{s.version}")
def test_a_held_out_answer_set_loads_with_its_three_groups(held: HeldOutSet) -> None:
    items = _items(held)
    answerable, unanswerable, fake = held_out_groups(items, f"h{held.version}")
    assert (len(answerable), len(unanswerable), len(fake)) == held.counts
    assert len(answerable) + len(unanswerable) + len(fake) == len(items)
    assert len({it.id for it in items}) == len(items)
    assert all(it.id.startswith(f"h{held.version}-0") for it in answerable)
    assert all(it.key_facts and it.expected_sources for it in answerable)
    assert all(2 <= len(it.key_facts) <= held.max_key_facts for it in answerable)
    assert all(all(group) for it in answerable for group in it.key_facts)
    if held.sources_checked:
        assert all(set(it.expected_sources) <= EXPLAIN_SOURCE_IDS for it in answerable)
    assert all(it.reason and not it.key_facts for it in unanswerable + fake)


@pytest.mark.parametrize("held", SETS, ids=lambda s: f"v{s.version}")
def test_a_held_out_answer_set_is_not_a_near_duplicate_of_any_other_answer_set(held: HeldOutSet) -> None:
    items = _items(held)
    assert len({it.question for it in items}) == len(items)
    pools = other_answer_questions(DS / held.file)
    assert held.must_compare <= set(pools)
    flagged = flagged_near_duplicates(items, pools)
    assert flagged == [], f"held-out v{held.version} items too close to another set (id, set, jaccard): {flagged}"
