"""A word that restricts before a subset adjective picks a subset of the objects, which the plan cannot
express: "count only the bright ones" counted every object and claimed ok (found by the round-18 planner
engineer; the same for "only the round ones")."""

from __future__ import annotations

import pytest

from scopebot.code.planner import Planner


@pytest.mark.parametrize("request_text", ["Thanks! Count only the bright ones", "count just the bright nuclei",
                                          "count the nuclei, only the bright ones please",
                                          "count only the round ones", "count only the round nuclei"])
def test_a_restricted_subset_is_reported_not_answered_with_all_objects(request_text: str) -> None:
    plan = Planner().plan(request_text)
    assert any("subset of the objects" in n for n in plan.not_understood), plan.not_understood


@pytest.mark.parametrize("request_text", ["Count the bright spots", "count the nuclei and measure how round they are",
                                          "only measure the roundness of the nuclei"])
def test_bright_objects_and_shape_measurements_stay_answered(request_text: str) -> None:
    plan = Planner().plan(request_text)
    assert not [n for n in plan.not_understood if "subset" in n], plan.not_understood


@pytest.mark.parametrize("request_text", ["Give the intensity of each pixel", "list the intensity of every pixel"])
def test_values_per_pixel_are_reported_not_answered_with_object_means(request_text: str) -> None:
    """"Give the intensity of each pixel" was answered with each object's mean intensity, claimed ok."""
    plan = Planner().plan(request_text)
    assert any("values per pixel" in n for n in plan.not_understood), plan.not_understood
    inside = Planner().plan("measure the mean intensity of each nucleus")
    assert not inside.not_understood
