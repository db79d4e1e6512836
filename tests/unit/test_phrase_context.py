"""Provenance and history phrases inside a sentence the plan depends on: shown as not used when the plan is the
same without them; kept reported where they may narrow the objects, choose frames, or change the plan.

The requests are written for these tests (not taken from an eval set).
"""

from __future__ import annotations

import pytest

from tests.unit.plan_helpers import plan_core

BASE = "The pixel is 0.5 µm{phrase}. Count the nuclei and give the area of each one."
KESTREL = ", as imaged on our old Kestrel"


@pytest.mark.parametrize(("phrase", "freed"), [
    (KESTREL, {"kestrel"}),
    (", we imaged them after fixation with glyoxal", {"fixation", "glyoxal"}),
    (", all taken from the Wexford spotter", {"wexford", "spotter"}),
])
def test_a_phrase_the_plan_does_not_use_is_shown_not_used(planner, phrase: str, freed: set[str]) -> None:
    plain = planner.plan(BASE.format(phrase=""))
    plan = planner.plan(BASE.format(phrase=phrase))
    assert freed <= set(plan.not_used), (plan.not_used, plan.not_understood)
    assert plan_core(plan) == plan_core(plain)
    assert "- not used: " in plan.describe()


def test_without_the_context_reading_the_phrase_is_reported(planner) -> None:
    plan = planner.plan(BASE.format(phrase=KESTREL), context=False)
    assert "kestrel" in plan.not_understood and plan.not_used == []


@pytest.mark.parametrize(("request_", "word"), [
    ("Count the spots on the cilium. The pixel is 0.2 µm.", "cilium"),  # after the objects: narrows them
    ("Measure the intensity at the cilium, pixel 0.2 µm.", "cilium"),  # after a plan word
    ("Count the spots that lie on the cilium, pixel 0.2 µm.", "cilium"),  # a relative clause
    ("Track the cells and give their speed; the pixel is 0.2 µm, it is after the drug addition. "
     "A frame every 30 s.", "addition"),  # history phrase in a time-resolved plan: which frames?
    ("Count the nuclei, the pixel is 0.5 µm, taken from the 3 Kestrel scopes.", "kestrel"),  # a number in it
    ("Count the nuclei, the pixel is 0.5 µm from the Kestrel.", "kestrel"),  # after a number: a distance?
])
def test_phrases_that_may_narrow_the_request_stay_reported(planner, request_: str, word: str) -> None:
    plan = planner.plan(request_)
    assert word in plan.not_understood or any(word in w for w in plan.not_understood), plan.not_understood
    assert word not in plan.not_used
