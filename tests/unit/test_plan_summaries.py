"""Column summaries and this round's structural planner rules (issue 15; dev set v30, seen held-out v10/v11).

End-to-end cases run the compiled script (through the test sandbox) on synthetic scenes with known answers.
Each test fails on the code before this round: the statistic was reported ('only the mean of this quantity
is in the plan'), the phrase was not understood, or the number came from the wrong column.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.blocks.measure import column_summary
from scopebot.code.compile import compile_plan
from scopebot.code.plan import AnalysisPlan, ImageMeta, Measurement
from scopebot.code.planner import Planner
from scopebot.code.scenes import make_scene, write_scene
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox


def _run(tmp_path: Path, request: str, scene_name: str, params: dict, fmt: str = "ome", seed: int = 5):
    scene = make_scene(scene_name, seed=seed, **params)
    image = write_scene(scene, tmp_path / ("in.ome.tif" if fmt == "ome" else "in.tif"), fmt)  # type: ignore[arg-type]
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        request, image)
    return scene, result


# --- the block -----------------------------------------------------------------------------------

def test_column_summary_block_on_known_values() -> None:
    values = [4.0, 1.0, 3.0, float("nan"), 10.0]
    assert column_summary(values, "sum") == 18.0
    assert column_summary(values, "median") == 3.5
    assert column_summary(values, "max") == 10.0
    assert column_summary(values, "min") == 1.0
    assert column_summary(values, "mean") == 4.5
    assert math.isnan(column_summary([], "sum"))  # an empty column is no answer, never a made-up 0
    with pytest.raises(KeyError):
        column_summary(values, "mode")


# --- plans ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "meta", "promise"), [
    ("segment the cells and give me the median area in pixels", ImageMeta(), "median_area"),
    ("Find the objects and report the maximum area and the minimum area, in px.", ImageMeta(), "min_area"),
    ("What is the combined area of all the nuclei, in square microns?", ImageMeta(pixel_size_um=0.5), "total_area"),
    ("3D segmentation of the nuclei, then the total volume of all nuclei in um^3",
     ImageMeta(z=16, pixel_size_um=0.5, z_step_um=2.0), "total_volume"),
    ("the median nearest-neighbour distance between the spots, in pixels", ImageMeta(), "median_nn_distance"),
    ("the largest and the smallest distance from a dot to its nearest neighbour, in px", ImageMeta(),
     "min_nn_distance"),
    ("track the spots and give the total path length of all tracks in um",
     ImageMeta(t=10, axes="TYX", pixel_size_um=0.2, time_step_s=0.5), "total_path_length"),
    ("the maximum filament length in px", ImageMeta(), "max_skeleton_length"),
])
def test_a_statistic_of_a_column_is_a_summary_next_to_the_mean(planner: Planner, text: str, meta: ImageMeta,
                                                               promise: str) -> None:
    plan = planner.plan(text, meta)
    assert not plan.not_understood and not plan.missing, (plan.not_understood, plan.missing)
    names = {p.name for p in plan.promised()}
    assert promise in names
    assert {n for n in names if n.startswith("mean_")}  # the mean stays


def test_a_size_limit_with_its_number_stays_a_limit(planner: Planner) -> None:
    plan = planner.plan("remove objects with a maximum area of 500 px and count the rest")
    assert plan.segmentation is not None and plan.segmentation.max_size_px == 500
    assert not any(m.summaries for m in plan.measurements)


@pytest.mark.parametrize("text", [
    "track the spot and give its maximum speed",  # a track's fastest step or the fastest track: reported
    "nuclei in channel 1; mean channel 2 signal inside each nucleus and the total",  # a lone statistic
])
def test_statistics_the_plan_cannot_give_stay_reported(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(channels=2, t=10, axes="TCYX", pixel_size_um=0.2, time_step_s=0.5))
    assert plan.not_understood


@pytest.mark.parametrize("text", [
    "use channel 1 for the nuclei and give the integrated (total) channel 2 intensity of each nucleus",
    "nuclei from channel 1; sum the channel 2 signal inside each nucleus (the total, not the average)",
])
def test_a_statistic_restated_in_parentheses(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(channels=2, axes="CYX"))
    assert not plan.not_understood, plan.not_understood
    intensity = next(m for m in plan.measurements if m.kind == "intensity")
    assert intensity.stats == ["sum"] and intensity.channel == 1 and plan.inputs.channel == 0


@pytest.mark.parametrize("text", [
    "Image has one side much brighter than the other. Correct the background and count the spots.",
    "one side of the field is way hotter than the other. Could you even out the illumination and count the dots?",
])
def test_one_side_brighter_than_the_other_is_uneven_illumination(planner: Planner, text: str) -> None:
    plan = planner.plan(text)
    assert plan.preprocessing.background and not plan.not_understood, plan.not_understood


def test_brightness_of_objects_is_still_a_subset(planner: Planner) -> None:
    plan = planner.plan("count only the spots brighter than the others on the left side")
    assert plan.not_understood


def test_both_channels_describing_the_data(planner: Planner) -> None:
    two = ImageMeta(channels=2, axes="CYX")
    plan = planner.plan("Both channels are in the file. Nuclei are in channel 1 and the reporter in channel 2; "
                        "mean reporter intensity per nucleus please.", two)
    assert not plan.not_understood and plan.measurements[0].channel == 1
    assert planner.plan("Both channels are in the file. count the nuclei", two).not_understood  # one used
    assert planner.plan("nuclei in channel 1; measure the mean intensity in both channels", two).not_understood


def test_how_many_pixels_away_is_a_distance_not_a_count(planner: Planner) -> None:
    plan = planner.plan("So I've got two labels, ch1 and ch2, and every ch1 dot should have a partner dot in ch2. "
                        "On average, how many pixels away is each ch1 dot from its nearest ch2 dot?",
                        ImageMeta(channels=2, axes="CYX", pixel_size_um=0.5))
    assert not plan.not_understood
    assert [(m.kind, m.channel) for m in plan.measurements] == [("object_distance", 1)]
    assert [p.unit for p in plan.promised()] == ["px", "px"]


def test_optical_sections_every_give_the_z_step(planner: Planner) -> None:
    plan = planner.plan("Acquisition: lateral sampling 0.3 µm, optical sections every 1.5 µm. Segment the nuclei in "
                        "3D and return each one's volume in cubic micrometres.", ImageMeta(z=12, axes="ZYX"))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.3, 1.5) and not plan.missing


def test_a_nuclear_stain_next_to_a_word_for_what_a_channel_holds_keeps_its_role(planner: Planner) -> None:
    meta = ImageMeta(channels=2, axes="CYX", channel_names=["Hoechst", "mCherry"])
    plan = planner.plan("I transfected my cells with an mCherry reporter and counterstained with Hoechst. Outline "
                        "every Hoechst nucleus and tell me how bright the mCherry is inside it on average.", meta)
    assert plan.inputs.channel == 0 and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]
    same = planner.plan("the mean Hoechst intensity in each nucleus", meta)  # the measurement word decides
    assert [(m.kind, m.channel) for m in same.measurements] == [("intensity", 0)]


def test_one_row_per_frame_is_the_table(planner: Planner) -> None:
    plan = planner.plan("For each time point of this series, how many objects get detected? One row per frame.",
                        ImageMeta(t=8, axes="TYX"))
    assert plan.outputs.per_frame and not plan.not_understood


# --- compiled and run on synthetic scenes with known answers ----------------------------------------

def test_size_column_is_not_taken_from_an_intensity_column() -> None:
    """Regression: an intensity measured before the size overwrote the size column's name in the compiler, so
    'mean_area' was the mean of an intensity column."""
    plan = AnalysisPlan(measurements=[Measurement(kind="intensity", channel=1), Measurement(kind="size")])
    code = compile_plan(plan)
    assert "summary['mean_area'] = (float(table['area_px'].mean())" in code


def test_intensity_then_area_on_a_scene(tmp_path: Path) -> None:
    scene, result = _run(tmp_path, "nuclei in channel 1: the mean channel 2 intensity and the area of each nucleus "
                         "in px", "nuclei", {"channels": 2, "count": 6}, "plain")
    assert result.ok, result.problems
    assert result.values["mean_area"]["value"] == pytest.approx(np.mean(scene.truth["areas_px"]), rel=0.1)


@pytest.mark.parametrize(("request_text", "scene_name", "params", "fmt", "expect"), [
    ("What is the combined area of all the nuclei, in square microns?", "nuclei", {"radii": [6, 8, 10, 12]}, "ome",
     {"total_area": "area_total_um2"}),
    ("report the maximum area and the minimum area of the objects, in px", "nuclei", {"radii": [6, 9, 12]}, "plain",
     {"max_area": "area_max_px", "min_area": "area_min_px"}),
    ("segment the cells and give me the median area in pixels", "nuclei", {"radii": [5, 7, 9, 11, 13]}, "plain",
     {"median_area": "area_median_px"}),
    ("3D segmentation of the nuclei, then the total volume of all nuclei in um^3", "nuclei_3d", {"count": 5}, "ome",
     {"total_volume": "volume_total_um3"}),
    ("Track the two spots (0.2 um/px, 0.5 s per frame) and give the total distance travelled by all of them, in um",
     "moving_spot", {"spots": 2}, "plain", {"total_path_length": "path_total_um"}),
    ("the median nearest-neighbour distance between the spots, in pixels", "grid", {"spacing": 20}, "plain",
     {"median_nn_distance": "nn_px"}),
    ("total skeleton length and the longest filament length, in px", "filaments", {}, "plain",
     {"total_skeleton_length": "total_px", "max_skeleton_length": "lengths_px"}),
])
def test_column_summaries_on_scenes(tmp_path: Path, request_text: str, scene_name: str, params: dict, fmt: str,
                                    expect: dict[str, str]) -> None:
    scene, result = _run(tmp_path, request_text, scene_name, params, fmt)
    assert result.ok, result.problems
    for name, key in expect.items():
        truth = scene.truth[key]
        truth = max(truth) if isinstance(truth, list) else truth
        assert result.values[name]["value"] == pytest.approx(truth, rel=0.1), name


# --- coverage: the share of the image the objects cover -------------------------------------------

def test_coverage_block_on_known_labels() -> None:
    from scopebot.code.blocks.measure import coverage

    labels = np.zeros((10, 20), dtype=int)
    labels[0:5, 0:4] = 1  # 20 px
    labels[5:10, 10:16] = 2  # 30 px
    percent, area = coverage(labels)
    assert (percent, area) == (25.0, 50.0)
    assert coverage(labels, 0.5) == (25.0, 12.5)


@pytest.mark.parametrize("text", [
    "What percentage of the image is covered by cells?",
    "area fraction of the nuclei",
    "how much of the field of view do the nuclei cover, in percent?",
])
def test_coverage_requests(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(pixel_size_um=0.5))
    assert not plan.not_understood, plan.not_understood
    assert [(p.name, p.unit) for p in plan.promised()] == [("covered_percent", "%"), ("covered_area", "um^2")]


@pytest.mark.parametrize("text", [
    "what percent of the nuclei are big, and the confluence",  # a share of the nuclei is not the covered share
    "confluence of the cells in 3D",  # 2-D only
])
def test_coverage_is_not_a_share_of_objects_nor_3d(planner: Planner, text: str) -> None:
    assert planner.plan(text, ImageMeta(pixel_size_um=0.5, z=10, axes="ZYX")).not_understood


def test_coverage_and_total_area_on_a_scene(tmp_path: Path) -> None:
    scene, result = _run(tmp_path, "Total area covered by nuclei in pixels, and the percentage of the image they cover",
                         "nuclei", {"radii": [7, 8, 9, 10]}, "plain")
    assert result.ok, result.problems
    assert result.values["covered_percent"]["value"] == pytest.approx(scene.truth["covered_percent"], rel=0.1)
    assert result.values["covered_area"]["value"] == pytest.approx(scene.truth["covered_area_px"], rel=0.1)
    assert result.values["total_area"]["value"] == pytest.approx(scene.truth["area_total_px"], rel=0.1)


def test_coverage_without_an_image_is_verified_on_the_synthetic_scene(tmp_path: Path) -> None:
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        "what fraction of the image do the nuclei cover?")
    assert result.ok and result.verified, (result.problems, result.notes)


@pytest.mark.parametrize("text", [
    "segment the nuclei in 3D and give the circularity of each",  # was: the circularity of a max projection
    "3D skeleton length of the filaments in um",  # was: the projected (shorter) length, claimed ok
])
def test_2d_measurements_of_3d_objects_are_reported(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(pixel_size_um=0.5, z_step_um=2, z=10, axes="ZYX"))
    assert plan.is_3d and any("3-D objects" in w for w in plan.not_understood), plan.not_understood


def test_2d_shape_after_a_projection_stays_answered(planner: Planner) -> None:
    plan = planner.plan("max project the stack and give the circularity of each object", ImageMeta(z=10, axes="ZYX"))
    assert not plan.is_3d and not plan.not_understood


def test_a_covered_share_of_zero_is_no_answer() -> None:
    import json

    from scopebot.code.blocks.report import RESULT_PREFIX
    from scopebot.code.plan import Promise
    from scopebot.code.verify import check_promises

    promises = [Promise(name="covered_percent", unit="%"), Promise(name="covered_area", unit="px")]
    line = RESULT_PREFIX + json.dumps({"summary": {"covered_percent": {"value": 0.0, "unit": "%"},
                                                   "covered_area": {"value": 0.0, "unit": "px"}}})
    check = check_promises(promises, line, [])
    assert not check.ok and "no objects were found" in " ".join(check.problems)
    line = line.replace('"value": 0.0, "unit": "%"', '"value": 12.5, "unit": "%"')
    assert check_promises(promises, line, []).ok


@pytest.mark.parametrize(("text", "reported"), [
    ("Pearson correlation between channel 1 and channel 2 inside the nuclei", True),  # was: whole-image Pearson
    ("colocalisation of channel 1 and 2 within each cell", True),
    ("colocalisation of the spots in channel 1 and channel 2", False),  # the spots say what the channels hold
])
def test_colocalisation_inside_objects_is_reported(planner: Planner, text: str, reported: bool) -> None:
    plan = planner.plan(text, ImageMeta(channels=2, axes="CYX"))
    assert "colocalisation" in plan.kinds()
    assert any("inside objects" in w for w in plan.not_understood) == reported, plan.not_understood


def test_background_corrected_intensities_are_measured_on_the_corrected_channel(tmp_path: Path) -> None:
    """Was: the correction was applied only to the image that is segmented; the intensities were raw (+100)."""
    scene, result = _run(tmp_path, "nuclei in channel 1; subtract the background, then give the mean channel 2 "
                         "intensity of each nucleus", "nuclei", {"channels": 2, "count": 6}, "plain")
    assert result.ok, result.problems
    assert "subtract_background(signal" in result.code and "after the background correction" in result.code
    raw = sorted(scene.truth["intensities_c2"])  # 100, 200, ... on a flat background of 100
    got = sorted(result.columns["mean_intensity_c2"])
    assert got == pytest.approx([v - 100.0 for v in raw], abs=20.0)


def test_a_bare_number_for_the_background_is_not_a_radius(planner: Planner) -> None:
    plan = planner.plan("subtract a background of 100 and give the mean intensity of each nucleus")
    assert "100" in plan.not_understood and plan.preprocessing.background_radius == 25
    assert planner.plan("rolling ball background 40, then count the spots").preprocessing.background_radius == 40


@pytest.mark.parametrize(("text", "frame"), [
    ("count the spots in the first frame", 0), ("count the spots in the last frame", 9),
    ("count the spots in the 3rd frame", 2),
])
def test_a_frame_named_by_an_ordinal(planner: Planner, text: str, frame: int) -> None:
    plan = planner.plan(text, ImageMeta(axes="TYX", t=10))
    assert plan.inputs.time == frame and not plan.not_understood and not plan.missing


@pytest.mark.parametrize("text", [
    "track the spots between frame 2 and frame 6 and give the speed",  # was: all frames, the numbers dropped
    "the speed of the spot in um/s, frames 1 to 5 only",
])
def test_a_range_of_frames_for_tracking_is_reported(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(axes="TYX", t=10, pixel_size_um=0.2, time_step_s=0.5))
    assert "tracking" in plan.kinds() and any("frame numbers" in w for w in plan.not_understood)


def test_the_diameter_of_each_object_on_a_scene(tmp_path: Path) -> None:
    scene, result = _run(tmp_path, "the diameter of each object in pixels", "shapes", {}, "plain")
    assert result.ok, result.problems
    assert sorted(result.columns["equivalent_diameter_px"]) == pytest.approx(scene.truth["diameters_px"], rel=0.08)


@pytest.mark.parametrize(("text", "min_size", "reported"), [
    ("count nuclei with a diameter above 10 px", 10, "10"),  # was: an area limit of 10 px
    ("count the nuclei with a perimeter over 50 px", 10, "50"),
    ("remove nuclei smaller than 50 px and give the circularity of the rest", 50, None),
    ("count nuclei with an area above 100 px", 100, None),
])
def test_a_limit_on_another_quantity_is_not_a_size_limit(planner: Planner, text: str, min_size: int,
                                                         reported: str | None) -> None:
    plan = planner.plan(text, ImageMeta(pixel_size_um=0.5))
    assert plan.segmentation is not None and plan.segmentation.min_size_px == min_size
    assert (reported in plan.not_understood) if reported else not plan.not_understood, plan.not_understood


def test_intensity_in_two_channels_inside_the_objects(planner: Planner) -> None:
    three = ImageMeta(channels=3, axes="CYX")
    plan = planner.plan("nuclei in channel 1; the max intensity of channels 2 and 3 inside each nucleus", three)
    assert not plan.not_understood and plan.inputs.channel == 0
    assert [(m.kind, m.channel, m.stats) for m in plan.measurements] == [("intensity", 1, ["max"]),
                                                                         ("intensity", 2, ["max"])]
    # without a channel for the objects it stays reported (which one holds the nuclei?)
    assert planner.plan("mean intensity of channel 2 and 3 in each nucleus", three).not_understood


def test_two_intensity_channels_on_a_scene(tmp_path: Path) -> None:
    scene, result = _run(tmp_path, "nuclei in channel 1: the mean intensity of channel 1 and of channel 2 in each",
                         "nuclei", {"channels": 2, "count": 5}, "plain")
    assert result.ok, result.problems
    assert sorted(result.columns["mean_intensity_c2"]) == pytest.approx(scene.truth["intensities_c2"], rel=0.05)
    assert sorted(result.columns["mean_intensity_c1"]) == pytest.approx([1600.0] * 5, rel=0.05)


@pytest.mark.parametrize(("text", "reported"), [
    ("nuclei in channel 1; give the mean channel 2 intensity of the positive ones", True),
    ("what is the average marker intensity in the positive nuclei? nuclei in channel 1, marker in channel 2", True),
    ("nuclei in channel 1; the percentage positive for channel 2 and the mean channel 2 intensity of each nucleus",
     False),
])
def test_an_intensity_of_the_positive_objects_only_is_reported(planner: Planner, text: str, reported: bool) -> None:
    plan = planner.plan(text, ImageMeta(channels=2, axes="CYX"))
    assert any("subset" in w for w in plan.not_understood) == reported, plan.not_understood


@pytest.mark.parametrize(("text", "reported"), [
    ("nuclei in channel 1; positive for channel 2 when its pixels are above 300", "300"),  # was: min size 300 px
    ("nuclei in channel 1; positive for channel 2 when more than 50% of its pixels are above 300", "50"),
    ("nuclei in channel 1; positive for channel 2 if above 2x the mean", "above"),  # was: pixel size 2 um
    ("count the spots moving faster than 2 um/s", "2"),  # was: the speed limit dropped
])
def test_numbers_the_plan_cannot_place_are_reported(planner: Planner, text: str, reported: str) -> None:
    meta = ImageMeta(axes="CYX", channels=2, pixel_size_um=0.5) if "channel" in text else ImageMeta(axes="TYX", t=9)
    plan = planner.plan(text, meta)
    assert any(w.startswith(reported) for w in plan.not_understood), plan.not_understood
    assert plan.segmentation is not None and plan.segmentation.min_size_px == 10
    assert plan.meta.pixel_size_um == meta.pixel_size_um


def test_a_threshold_next_to_the_intensity_stays_a_threshold(planner: Planner) -> None:
    plan = planner.plan("nuclei in channel 1; a nucleus is positive when its channel 2 intensity is above 300",
                        ImageMeta(axes="CYX", channels=2))
    assert next(m for m in plan.measurements if m.kind == "positivity").threshold == 300
    assert planner.plan("nuclei in channel 1 larger than 300; percentage positive for channel 2",
                        ImageMeta(axes="CYX", channels=2)).segmentation.min_size_px == 300  # type: ignore[union-attr]


# --- objects inside objects: "spots per nucleus" ----------------------------------------------------

def test_objects_inside_block_on_a_scene() -> None:
    from skimage import filters
    from skimage import measure as skmeasure

    from scopebot.code.blocks.measure import objects_inside

    scene = make_scene("nuclei_spots", seed=2)
    nuclei = skmeasure.label(scene.data[0] > filters.threshold_otsu(scene.data[0]))
    spots = skmeasure.label(scene.data[1] > filters.threshold_otsu(scene.data[1]))
    assert sorted(objects_inside(nuclei, spots)) == scene.truth["spots_per_nucleus"]
    assert list(objects_inside(nuclei, np.zeros_like(spots))) == [0] * 6


@pytest.mark.parametrize("text", [
    "nuclei in channel 1, spots in channel 2: how many spots per nucleus",
    "count the foci (channel 2) in each nucleus (channel 1)",
])
def test_spots_per_nucleus_plans(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(axes="CYX", channels=2))
    assert not plan.not_understood and plan.inputs.channel == 0
    assert ("objects_inside", 1) in [(m.kind, m.channel) for m in plan.measurements]


@pytest.mark.parametrize("text", [
    "number of puncta per cell",  # no channel for either kind
    "count the spots in channel 2 per nucleus",  # the nuclei have no channel of their own
])
def test_spots_per_nucleus_without_a_channel_for_each_kind_stays_reported(planner: Planner, text: str) -> None:
    plan = planner.plan(text, ImageMeta(axes="CYX", channels=2))
    assert plan.not_understood and "objects_inside" not in plan.kinds()


def test_spots_per_nucleus_on_a_scene(tmp_path: Path) -> None:
    scene, result = _run(tmp_path, "nuclei in channel 1, spots in channel 2: how many spots per nucleus?",
                         "nuclei_spots", {"spots": [1, 2, 0, 4, 3]}, "plain")
    assert result.ok, result.problems
    assert sorted(result.columns["objects_inside_c2"]) == [0, 1, 2, 3, 4]
    assert result.values["total_objects_inside_c2"]["value"] == 10


def test_spots_per_nucleus_without_an_image_is_verified(tmp_path: Path) -> None:
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        "count the foci (channel 2) in each nucleus (channel 1)")
    assert result.ok and result.verified, (result.problems, result.notes)


def test_of_channel_and_of_channel_share_a_role(planner: Planner) -> None:
    plan = planner.plan("Nuclei are in channel 1. Give me the mean intensity of channel 1 and of channel 2 inside each "
                        "nucleus.", ImageMeta(axes="CYX", channels=2))
    assert not plan.not_understood and plan.inputs.channel == 0
    assert [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 0), ("intensity", 1)]


def test_a_track_length_in_a_time_unit_is_a_duration_and_reported(planner: Planner) -> None:
    lapse = ImageMeta(axes="TYX", t=10, pixel_size_um=0.2, time_step_s=0.5)
    assert any("duration" in w for w in planner.plan("how long is each track in frames", lapse).not_understood)
    assert not planner.plan("track the spot and give its speed in pixels per frame", lapse).not_understood


def test_what_the_threshold_merges_describes_the_split(planner: Planner) -> None:
    plan = planner.plan("My nuclei are densely packed and stuck together, so a normal threshold just gives me big "
                        "blobs. Could you separate the touching ones, then tell me how many nuclei there are?")
    assert plan.segmentation is not None and plan.segmentation.split_touching and not plan.not_understood
    # without a split the blobs are another kind of object and 'big' needs its number
    assert len(planner.plan("a threshold gives big blobs; count the nuclei").not_understood) == 2


def test_a_lone_statistic_outside_parentheses_is_not_a_restatement(planner: Planner) -> None:
    plan = planner.plan("total intensity of channel 2 over all nuclei combined (nuclei in channel 1)",
                        ImageMeta(axes="CYX", channels=2))
    assert "combined" in plan.not_understood  # a sum over the nuclei, not the per-nucleus sum


@pytest.mark.parametrize(("text", "promise"), [
    ("the total number of voxels of all nuclei in 3d", "total_volume"),  # was: the count of nuclei
    ("how many pixels does each nucleus have", "area_px"),
])
def test_a_count_of_pixels_is_a_size(planner: Planner, text: str, promise: str) -> None:
    plan = planner.plan(text, ImageMeta(axes="ZYX", z=12, pixel_size_um=0.5, z_step_um=2) if "3d" in text
                        else ImageMeta(pixel_size_um=0.5))
    assert not plan.not_understood and "count" not in plan.kinds()
    assert promise in {p.name for p in plan.promised()}


@pytest.mark.parametrize("text", [
    "number of pixels above 500",  # a count of pixels by value
    "how many pixels are brighter than 300",
    "percentage of the nuclei area that is positive for channel 2",  # a share of an area, not of the nuclei
])
def test_pixel_value_counts_and_area_shares_are_reported(planner: Planner, text: str) -> None:
    assert planner.plan(text, ImageMeta(axes="CYX", channels=2)).not_understood
