"""Vocabulary, lexicon and thesaurus completions: instrument names, acquisition verbs, greetings, linking verbs.

The requests are written for these tests (not taken from an eval set).
"""

from __future__ import annotations

import pytest

from tests.unit.plan_helpers import plan_core

PLAIN = "The pixel is 0.2 µm. Count the nuclei and give the mean area in µm²."


@pytest.mark.parametrize("request_", [
    "One pixel corresponds to 0.2 µm. Count the nuclei and give the mean area in µm².",
    "One pixel equals 0.2 µm. Count the nuclei and give the mean area in µm².",
    "Dear, the pixel is 0.2 µm. Count the nuclei and give the mean area in µm².",
    "The pixel is 0.2 µm, filmed on a light sheet. Count the nuclei and give the mean area in µm².",
])
def test_completed_words_plan_like_the_plain_request(planner, request_: str) -> None:
    plan = planner.plan(request_)
    assert plan.not_understood == [] and plan.missing == [], (plan.not_understood, plan.missing)
    assert plan_core(plan) == plan_core(planner.plan(PLAIN))
    assert plan.meta.pixel_size_um == pytest.approx(0.2)


def test_light_sheet_is_an_instrument_not_uneven_light(planner) -> None:
    plan = planner.plan("My stack is from a light sheet. Count the nuclei.")
    assert plan.preprocessing.background is False
