"""Two object nouns naming the same objects are one kind; two kinds stay declined.

The requests are written for these tests (not taken from an eval set).
"""

from __future__ import annotations

import pytest

from tests.unit.plan_helpers import plan_core

TWO_KINDS = "two kinds of objects"


def _two_kinds(plan) -> bool:
    return any(TWO_KINDS in w for w in plan.not_understood)


@pytest.mark.parametrize(("request_", "plain"), [
    ("The blobs are nuclei stained with DAPI. How many nuclei are there?", "How many nuclei are there?"),
    ("The dots were beads. Count the beads.", "Count the beads."),
])
def test_a_copula_names_one_kind(planner, request_: str, plain: str) -> None:
    plan = planner.plan(request_)
    assert not _two_kinds(plan), plan.not_understood
    assert plan_core(plan) == plan_core(planner.plan(plain))
    assert any("one kind of objects" in u for u in plan.understood)


@pytest.mark.parametrize(("request_", "plain"), [
    ("Count the organoid cells and give the area of each cell.", "Count the cells and give the area of each cell."),
    ("Segment the spheroid nuclei and report the area of each nucleus.",
     "Segment the nuclei and report the area of each nucleus."),
    ("How many embryo nuclei are there?", "How many nuclei are there?"),
])
def test_a_sample_noun_before_the_objects_is_where_they_come_from(planner, request_: str, plain: str) -> None:
    plan = planner.plan(request_)
    assert not _two_kinds(plan), plan.not_understood
    assert plan_core(plan) == plan_core(planner.plan(plain))


@pytest.mark.parametrize("request_", [
    "How many spots per cell?",
    "Count the nuclei per organoid.",  # a sample noun on its own is a container: per-container counts
    "Count the nuclear foci.",  # a compartment modifier: foci inside nuclei
    "The dots are in the cells. Count the dots.",  # not a copula: a location
    "Count the organoids and the nuclei.",
])
def test_two_kinds_of_objects_stay_reported(planner, request_: str) -> None:
    assert _two_kinds(planner.plan(request_)), request_
