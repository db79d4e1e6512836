""""Imaged at 40x" names the objective: never a pixel size (a new user's 20x request was answered in
µm² with a 20 µm pixel and claimed ok)."""

from __future__ import annotations

import pytest

from scopebot.code.plan import ImageMeta
from scopebot.code.planner import Planner


@pytest.mark.parametrize("request_text", [
    "Nuclei imaged at 40x. Count them and give me their mean area in square microns.",
    "These are Hoechst-stained nuclei imaged at 20x. Count the nuclei and tell me their mean area in um2.",
    "We used a 63x oil immersion objective. Count the nuclei and give the area of each in um2.",
])
def test_a_magnification_is_not_a_pixel_size(request_text: str) -> None:
    plan = Planner().plan(request_text)
    assert plan.meta.pixel_size_um is None
    assert any("magnification" in u for u in plan.understood)
    assert not plan.not_understood  # "oil", "immersion", "objective" belong to the magnification
    assert any("pixel size" in m for m in plan.missing)  # asked for, not guessed


def test_the_files_calibration_stays_when_a_magnification_is_named() -> None:
    meta = ImageMeta(axes="YX", pixel_size_um=0.325)
    plan = Planner().plan("Nuclei imaged at 20x: count them and give the mean area in um2.", meta)
    assert plan.meta.pixel_size_um == pytest.approx(0.325)


@pytest.mark.parametrize(("request_text", "pixel", "z"), [
    ("voxel 2.0 z, 0.5 y/x: volume of each nucleus in um3", 0.5, 2.0),
    ("pixel size 0.5 x 0.5 um, count the nuclei and give their area in um2", 0.5, None),
])
def test_calibration_along_axes_is_still_read(request_text: str, pixel: float, z: float | None) -> None:
    plan = Planner().plan(request_text)
    assert plan.meta.pixel_size_um == pytest.approx(pixel)
    assert plan.meta.z_step_um == (pytest.approx(z) if z else None)


@pytest.mark.parametrize("request_text", [
    "Cells treated with TNF for 30 min. Track the bright spot and give its speed in um/s; pixel 0.2 um.",
    "Fixed after 2 h of drug. Track the bright spot and give its speed in um/s; pixel 0.2 um.",
])
def test_a_duration_is_not_the_frame_interval(request_text: str) -> None:
    """"treated for 30 min" had become a 1800 s frame interval (found by a helper reading plans)."""
    plan = Planner().plan(request_text)
    assert plan.meta.time_step_s is None  # never the frame interval (asked for instead)
    assert any("time step" in m or "interval" in m or "time-lapse" in m for m in plan.missing)


def test_the_duration_is_shown_in_the_plan() -> None:
    plan = Planner().plan("Cells treated with TNF for 30 min. Track the bright spot; speed in um/s, pixel 0.2 um.")
    assert any("'30' after 'for' -> a duration, not the frame interval" in u for u in plan.understood)


def test_an_interval_is_still_the_frame_interval() -> None:
    plan = Planner().plan("Track the bright spot, one frame every 30 s; speed in um/s, pixel 0.2 um.")
    assert plan.meta.time_step_s == pytest.approx(30.0)
