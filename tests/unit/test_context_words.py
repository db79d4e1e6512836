"""Unplaced words of sentences the plan does not depend on are shown as "not used", never a silent change.

Each test names the behaviour; the requests are written for these tests (not taken from an eval set).
"""

from __future__ import annotations

import pytest

from scopebot.code.model_plan import plan_schema_dict
from tests.unit.plan_helpers import plan_core

NN = "On average, how far is each dot from its nearest neighbour, in µm? One pixel is 0.5 µm."


@pytest.mark.parametrize("context", [
    "They were printed on a zorbified coverslip.",
    "The coverslips were printed by our Wexford spotter.",
    "The scale was embedded by the acquisition program.",
])
def test_an_added_description_sentence_gives_the_same_plan_and_is_shown(planner, context: str) -> None:
    plain = planner.plan(NN)
    assert plain.not_understood == [] and plain.not_used == []
    for request in (f"{context} {NN}", f"{NN} {context}"):
        plan = planner.plan(request)
        assert plan.not_understood == [], request
        assert plan_core(plan) == plan_core(plain), request
        assert plan.not_used, request  # shown to the user, not dropped
        assert "- not used: " + ", ".join(plan.not_used) in plan.describe()
        assert set(plan.not_used) <= set(context.lower().rstrip(".").split())


def test_without_the_context_reading_the_same_request_is_declined(planner) -> None:
    plan = planner.plan("They were printed on a zorbified coverslip. " + NN, context=False)
    assert "zorbified" in plan.not_understood and plan.not_used == []


@pytest.mark.parametrize("request_", [
    "Count the nuclei and ignore the small specks.",  # a negation in the clause
    "The specks must not be counted. Count the nuclei.",
    "Count the nuclei; the tiny specks are junk.",  # before a plan word / a size word without a number
])
def test_ignore_the_specks_adds_a_filter_or_declines_never_silently(planner, request_: str) -> None:
    plan = planner.plan(request_)
    placed = any("specks" in line.split("->")[0] for line in plan.understood if "not used" not in line)
    assert placed or any("specks" in w for w in plan.not_understood), (request_, plan.understood)
    assert "specks" not in plan.not_used


@pytest.mark.parametrize("request_, word", [
    ("Could you 3D print these nuclei for me? I want an STL file of the shapes.", "stl"),  # the request itself
    ("Register the image to the atlas.", "register"),  # default plan, instruction verb
    ("The dividing cells are what I want. Count them.", "dividing"),  # before an object noun; a wish
    ("Only the mitotic ones matter. Count the cells.", "mitotic"),  # a subset of the objects
    ("I'm mainly interested in mitoses. Count the nuclei.", "mitoses"),  # a focus word
    ("How far did the bead travel? Give the whole distance in µm. Pixel 0.2 µm, 1 s per frame.", "whole"),
    ("How evenly spaced are the dots? Nearest-neighbour distances in px.", "evenly"),  # what is asked
])
def test_words_that_may_carry_the_request_stay_reported(planner, request_: str, word: str) -> None:
    plan = planner.plan(request_)
    assert word in plan.not_understood, (request_, plan.not_understood, plan.not_used)
    assert word not in plan.not_used


def test_a_description_sentence_that_changes_the_plan_is_not_context(planner) -> None:
    # the sentence holds the pixel size: without it the plan differs, so its unknown verb stays reported
    # ("corresponds to" before a number is a known linking verb now: thesaurus_v1.yaml)
    plan = planner.plan("My camera pixel translates to 0.2 µm. Count the dots and give their area in µm².")
    assert "translates" in plan.not_understood and plan.not_used == []


def test_the_model_schema_does_not_ask_the_model_for_not_used() -> None:
    assert "not_used" not in plan_schema_dict().get("properties", {})


def test_a_place_given_for_the_objects_stays_reported() -> None:
    """"The spots are on the cilium." may restrict the count to those spots: never silently 'not used'."""
    from scopebot.code.planner import Planner

    plan = Planner().plan("The spots are on the cilium. Count the spots.")
    assert any("cilium" in w for w in plan.not_understood)
    assert not any("cilium" in w for w in plan.not_used)
