"""Contrastive negations ("in µm², not pixels") are notes only when their scope leaves the plan unchanged."""

from __future__ import annotations

import pytest

from tests.unit.plan_helpers import plan_core


@pytest.mark.parametrize("request_, plain", [
    ("Area of each nucleus in square micrometres, not in pixels. Pixel size 0.325 um.",
     "Area of each nucleus in square micrometres. Pixel size 0.325 um."),
    ("Object count and the area of each in µm² after a max projection. 0.5 micron pixels, not saved in the file.",
     "Object count and the area of each in µm² after a max projection. 0.5 micron pixels."),
    ("Pixels 0.25 µm, slices 2.5 µm apart. The volume of each nucleus in µm³, in 3D, not on one slice.",
     "Pixels 0.25 µm, slices 2.5 µm apart. The volume of each nucleus in µm³, in 3D."),
])
def test_a_negation_that_only_says_what_the_plan_does_not_do_is_a_note(planner, request_: str, plain: str) -> None:
    plan, base = planner.plan(request_), planner.plan(plain)
    assert base.not_understood == [] and plan.not_understood == [], plan.not_understood
    assert plan_core(plan) == plan_core(base)
    assert any("says what the plan does not do" in line for line in plan.understood)
    assert not any("says what the plan does not do" in line
                   for line in planner.plan(request_, context=False).understood)


@pytest.mark.parametrize("request_", [
    "Give the mean intensity of the nuclei, not the integrated density.",  # the scope adds a statistic
    "Count the spots but do not correct the background.",  # the scope adds a preprocessing step
    "Count the nuclei, not in the left half.",  # the scope names a region
])
def test_a_negation_whose_scope_changes_the_plan_stays_reported(planner, request_: str) -> None:
    plan = planner.plan(request_)
    assert plan.not_understood, request_
    assert not any("says what the plan does not do" in line for line in plan.understood)
