"""The vocabulary planner: request words + metadata -> plan fields, and nothing silently dropped."""

from __future__ import annotations

import pytest

from scopebot.code.plan import AnalysisPlan, ImageMeta
from scopebot.code.planner import Planner, load_vocabulary


def _kinds(plan: AnalysisPlan) -> set[str]:
    return {m.kind for m in plan.measurements}


def test_vocabulary_is_versioned_data() -> None:
    vocab = load_vocabulary()
    assert vocab.version == 1 and len(vocab.phrases) > 200
    assert all(isinstance(c["phrases"], list) for c in vocab.concepts)


def test_intensity_of_the_second_channel_inside_objects_of_the_first(planner: Planner) -> None:
    plan = planner.plan("find nuclei in the first channel and measure the mean intensity of the second channel "
                        "inside each", ImageMeta(channels=2))
    assert plan.inputs.channel == 0
    m = next(m for m in plan.measurements if m.kind == "intensity")
    assert m.channel == 1 and not plan.not_understood and not plan.missing


def test_3d_volumes_with_voxel_size_from_the_request(planner: Planner) -> None:
    plan = planner.plan("segment the nuclei in this 3D stack and report each volume in um^3 (voxel 2.0 z, 0.5 y/x)",
                        ImageMeta(z=12))
    assert plan.inputs.z == "3d" and plan.meta.z_step_um == 2.0 and plan.meta.pixel_size_um == 0.5
    assert {"pixel_size_um", "z_step_um"} <= set(plan.meta.stated)
    assert ("volume_um3", "um^3") in {(p.name, p.unit) for p in plan.promised()}


def test_a_volume_unit_alone_asks_for_volumes_in_3d(planner: Planner) -> None:
    """A new user's "how big are the nuclei in um3?" on a z-stack printed projected areas, claimed ok."""
    for request in ("how big are the nuclei in um3?", "size of every nucleus in cubic microns"):
        plan = planner.plan(request, ImageMeta(z=12, pixel_size_um=0.5, z_step_um=2.0))
        assert plan.inputs.z == "3d", request
        assert "volume_um3" in {p.name for p in plan.promised()}, request


def test_background_positivity_tracking_projection_split_border(planner: Planner) -> None:
    bg = planner.plan("the illumination is uneven: correct the background and count the bright spots")
    assert bg.preprocessing.background and _kinds(bg) == {"count"}
    pos = planner.plan("what percentage of the nuclei are positive for the marker in the second channel?",
                       ImageMeta(channels=2))
    assert [(m.kind, m.channel) for m in pos.measurements] == [("positivity", 1)]
    trk = planner.plan("track the bright spot and give its speed in um/s (0.2 um/px, 0.5 s/frame)", ImageMeta(t=9))
    assert trk.inputs.time == "all" and trk.meta.pixel_size_um == 0.2 and trk.meta.time_step_s == 0.5
    assert ("mean_speed", "um/s") in {(p.name, p.unit) for p in trk.promised()}
    mip = planner.plan("project by maximum intensity, then count the objects and give each area", ImageMeta(z=5))
    assert mip.inputs.z == "max" and _kinds(mip) == {"count", "size"}  # 'maximum intensity' is not a measurement
    split = planner.plan("split the touching nuclei, give the count and the average area")
    assert split.segmentation is not None and split.segmentation.split_touching and _kinds(split) == {"count", "size"}
    border = planner.plan("remove objects touching the border")
    assert border.segmentation is not None and border.segmentation.exclude_border
    assert _kinds(border) == {"count", "size"}  # the default answer of a segmentation request


def test_histogram_promises_a_figure(planner: Planner) -> None:
    plan = planner.plan("Plot a histogram")
    assert plan.outputs.figure == "histogram" and [p.where for p in plan.promised()] == ["figure"]


def test_unknown_words_are_reported_not_dropped(planner: Planner) -> None:
    plan = planner.plan("compute the fractal dimension of the vessels")
    assert plan.not_understood == ["fractal", "dimension"]


@pytest.mark.parametrize(("text", "low", "high"), [
    ("remove objects smaller than 50 px and count", 50, None),
    ("keep objects smaller than 400 pixels and count", 10, 400),
    ("count objects larger than 120 px", 120, None),
    ("count, ignoring objects larger than 300 px", 10, 300),
    ("count with min size 30", 30, None),
])
def test_size_filters_follow_the_comparison(planner: Planner, text: str, low: int, high: int | None) -> None:
    seg = planner.plan(text).segmentation
    assert seg is not None and (seg.min_size_px, seg.max_size_px) == (low, high)


def test_thresholds_channels_and_parameters(planner: Planner) -> None:
    manual = planner.plan("segment with a threshold of 700 and count")
    assert manual.segmentation is not None and manual.segmentation.method == "manual"
    assert manual.segmentation.threshold == 700
    li = planner.plan("count the cells in channel 2 using li thresholding", ImageMeta(channels=3))
    assert li.inputs.channel == 1 and li.segmentation is not None and li.segmentation.method == "li"
    pos = planner.plan("percentage of nuclei positive for channel 2 with a threshold of 400", ImageMeta(channels=2))
    assert [(m.kind, m.channel, m.threshold) for m in pos.measurements] == [("positivity", 1, 400)]
    coloc = planner.plan("colocalisation between channel 1 and channel 3", ImageMeta(channels=3))
    assert coloc.inputs.channel == 0 and coloc.measurements[0].channel == 2
    sigma = planner.plan("smooth with sigma 2 then count")
    assert sigma.preprocessing.smooth_sigma == 2


def test_missing_inputs_are_listed(planner: Planner) -> None:
    assert any("pixel size" in m for m in planner.plan("area of each cell in um^2").missing)
    assert any("time-lapse" in m for m in planner.plan("track the spots", ImageMeta(t=1)).missing)
    assert any("channel 2" in m for m in planner.plan("intensity of channel 2 in each nucleus").missing)


def test_every_word_is_accounted_for(planner: Planner) -> None:
    parse = planner.parse("please count the nuclei, measure the eccentricity and export quantum stuff")
    plan = planner.plan("please count the nuclei, measure the eccentricity and export quantum stuff")
    unused = [t.text for t in parse.tokens if not t.used]
    assert unused == plan.not_understood and "quantum" in unused
    assert all(t.used for t in parse.tokens if t.text in ("count", "nuclei", "eccentricity"))


def test_planning_is_deterministic(planner: Planner) -> None:
    text = "split touching cells, measure area and nearest neighbour distance in um (0.3 um/px)"
    assert planner.plan(text).model_dump() == Planner().plan(text).model_dump()


@pytest.mark.parametrize(("text", "pixel", "z_step", "time_step"), [
    ("track the spot, pixel size of 0.2 µm, frame interval 0.5 s, speed in µm/s", 0.2, None, 0.5),
    ("track the spot (0.2 µm per pixel, one frame every 0.5 s) and report the speed", 0.2, None, 0.5),
    ("track the spot and give its speed; dt = 0.5 s, 0.2 um pixel size", 0.2, None, 0.5),
    ("speed of the particle in um/s with 0.2 um/pixel and 2 frames per second", 0.2, None, 0.5),
    ("volume of each nucleus in um^3, voxel size (z, y, x) = (2, 0.5, 0.5) um", 0.5, 2.0, None),
    ("volume of each nucleus in µm³, z-step 2 µm, xy 0.5 µm", 0.5, 2.0, None),
    ("volume of each nucleus in um3; voxel 2 x 0.5 x 0.5 um", 0.5, 2.0, None),
    ("volume of each nucleus; the voxel is 0.5 x 0.5 x 2 um (x, y, z)", 0.5, 2.0, None),
    ("volume of each nucleus; voxel 0.4 x 0.4 x 0.4 um", 0.4, 0.4, None),
    ("nuclei volumes in cubic microns, the z spacing is 2 microns and the pixel size 0.5 microns", 0.5, 2.0, None),
    ("volume of every nucleus; 1.5 um in z, 0.4 um in xy", 0.4, 1.5, None),
    ("z-stack with 1.5 um spacing and 0.25 um pixels: volume of each nucleus", 0.25, 1.5, None),
])
def test_calibration_phrasings(planner: Planner, text: str, pixel: float, z_step: float | None,
                               time_step: float | None) -> None:
    plan = planner.plan(text, ImageMeta(z=10, t=10 if time_step else 1))  # one frame of a movie must be chosen
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um, plan.meta.time_step_s) == (pixel, z_step, time_step)
    assert not plan.not_understood and not plan.missing


def test_a_times_sign_is_not_an_axis(planner: Planner) -> None:
    plan = planner.plan("count objects 2 x 3")
    assert plan.meta.pixel_size_um is None and plan.not_understood == ["2", "3"]


@pytest.mark.parametrize(("text", "flagged"), [
    ("report the intensity variance in each nucleus", "variance"),  # no variance statistic
    ("measure the area of the nuclei in every frame", "per-frame"),  # only counts per frame
    ("do not subtract the background, count the spots", "not"),  # a negation is never dropped
    ("how many spots per nucleus", "spot"),  # counting one kind of object inside another
    ("report the maximum in each nucleus", "maximum"),  # a statistic with no intensity word
    ("surface area of each nucleus in 3D", "surface"),  # not the volume
    ("ratio of channel 2 to channel 1 intensity", "ratio"),  # not positivity
])
def test_words_that_would_change_the_answer_are_never_dropped(planner: Planner, text: str, flagged: str) -> None:
    plan = planner.plan(text, ImageMeta(channels=2, t=5))
    assert any(w.startswith(flagged) for w in plan.not_understood), plan.not_understood


def test_descriptive_words_and_prepositions_do_not_block(planner: Planner) -> None:
    for text in ("count the stained nuclei", "track the spot over time", "remove small objects and count",
                 "how many nuclei are inside the field of view?", "max-project the stack and count"):
        plan = planner.plan(text, ImageMeta(z=4, t=4))
        assert not plan.not_understood, (text, plan.not_understood)
        assert "positivity" not in {m.kind for m in plan.measurements}
    seg = planner.plan("ignore objects under 80 pixels and count").segmentation
    assert seg is not None and seg.min_size_px == 80


@pytest.mark.parametrize(("text", "objects", "partner"), [
    ("distance from channel 1 spots to the nearest channel 2 spot in um", 0, 1),
    ("For each spot in channel 2, measure the distance to the closest channel 1 spot", 1, 0),
    ("How far is each object in the second channel from the closest object in the first channel?", 1, 0),
    ("Measure the distance between each channel 1 object and the nearest channel 2 object.", 0, 1),
])
def test_distance_direction_between_channels(planner: Planner, text: str, objects: int, partner: int) -> None:
    plan = planner.plan(text, ImageMeta(channels=2))
    assert plan.inputs.channel == objects
    assert [(m.kind, m.channel) for m in plan.measurements] == [("object_distance", partner)]


def test_a_histogram_of_pixel_values_is_of_the_pixels_not_of_objects(planner: Planner) -> None:
    plan = planner.plan("plot a histogram of the pixel intensities", ImageMeta())
    assert plan.outputs.figure == "histogram" and plan.measurements == [] and plan.segmentation is None
    per_object = planner.plan("measure the mean pixel intensity of each nucleus", ImageMeta())
    assert [m.kind for m in per_object.measurements] == ["intensity"]


# --- stains, statistics, negations, per-frame results, speed units (dev set v2 work) ---------------
_NAMED = ImageMeta(axes="CYX", channels=2, channel_names=["DAPI", "GFP"], pixel_size_um=0.5)


@pytest.mark.parametrize(("text", "meta", "objects", "measured"), [
    ("segment nuclei on DAPI and give me the mean GFP intensity in each one", _NAMED, 0, ("intensity", 1)),
    ("GFP intensity inside the DAPI nuclei", ImageMeta(axes="CYX", channels=2, channel_names=["GFP", "DAPI"]),
     1, ("intensity", 0)),  # the file's channel names decide, not the usual order
    ("mean GFP intensity in each DAPI nucleus (DAPI is channel 2, GFP is channel 1)", ImageMeta(channels=2), 1,
     ("intensity", 0)),
    ("count the Hoechst-stained nuclei", ImageMeta(), 0, ("count", None)),  # one stain, one channel
])
def test_stain_names_become_channels(planner: Planner, text: str, meta: ImageMeta, objects: int,
                                     measured: tuple[str, int | None]) -> None:
    plan = planner.plan(text, meta)
    assert not plan.not_understood and not plan.missing, (plan.not_understood, plan.missing)
    assert plan.inputs.channel == objects
    assert (plan.measurements[0].kind, plan.measurements[0].channel) == measured


def test_a_stain_no_channel_is_known_for_is_missing_not_guessed(planner: Planner) -> None:
    plan = planner.plan("mean intensity of GFP inside the nuclei", ImageMeta(axes="CYX", channels=2))
    assert any("which channel is gfp" in m for m in plan.missing)


@pytest.mark.parametrize(("text", "stats"), [
    ("max intensity in channel 2 inside each nucleus from channel 1", ["max"]),
    ("median GFP signal per nucleus", ["median"]),
    ("total GFP fluorescence of each nucleus", ["sum"]),
    ("integrated density of the GFP channel in every nucleus", ["sum"]),
    ("mean and maximum GFP intensity per nucleus", ["mean", "max"]),
    ("GFP intensity in each nucleus", ["mean"]),
])
def test_intensity_statistics(planner: Planner, text: str, stats: list[str]) -> None:
    plan = planner.plan(text, _NAMED)
    assert not plan.not_understood, plan.not_understood
    intensity = next(m for m in plan.measurements if m.kind == "intensity")
    assert intensity.stats == stats and intensity.channel == 1
    assert {p.name for p in plan.promised()} >= {f"{'integrated' if s == 'sum' else s}_intensity_c2" for s in stats}


def test_a_statistic_word_keeps_its_other_meanings(planner: Planner) -> None:
    plan = planner.plan("maximum intensity projection, then count the objects", ImageMeta(z=5))
    assert plan.inputs.z == "max" and plan.kinds() == {"count"} and not plan.not_understood
    seg = planner.plan("count objects, maximum size 500 px").segmentation
    assert seg is not None and seg.max_size_px == 500
    assert planner.plan("denoise with a median filter and count the cells").preprocessing.denoise


@pytest.mark.parametrize("text", ["count nuclei but not the ones cut off at the image border",
                                  "count the cells, not those touching the edge"])
def test_a_negated_border_is_an_exclusion(planner: Planner, text: str) -> None:
    plan = planner.plan(text)
    assert plan.segmentation is not None and plan.segmentation.exclude_border and not plan.not_understood


def test_per_frame_counts_and_speed_units(planner: Planner) -> None:
    lapse = ImageMeta(axes="TYX", t=10, pixel_size_um=0.2, time_step_s=0.5)
    for text in ("number of cells in each frame", "count the spots over time"):
        plan = planner.plan(text, lapse)
        assert plan.outputs.per_frame and not plan.not_understood
        assert [(p.name, p.where) for p in plan.promised()] == [("count", "column"), ("mean_count_per_frame",
                                                                                     "summary")]
    assert "a time-lapse" in " ".join(planner.plan("count the spots in every frame", ImageMeta()).missing)
    tracked = planner.plan("track the particle and tell me how fast it moves in um per minute", lapse)
    assert not tracked.outputs.per_frame and tracked.speed_unit() == "um/min" and not tracked.not_understood
    assert planner.plan("speed of the spot in microns/sec", lapse).speed_unit() == "um/s"


def test_a_size_limit_in_um2_may_come_before_the_pixel_size(planner: Planner) -> None:
    plan = planner.plan("count nuclei, ignore anything under 30 um2, pixel size 0.5um")
    assert plan.segmentation is not None and plan.segmentation.min_size_px == 120 and not plan.missing


def test_one_channel_named_after_both_objects_and_intensity_is_reported(planner: Planner) -> None:
    two = ImageMeta(axes="CYX", channels=2)
    plan = planner.plan("What is the brightest pixel value inside each nucleus in the second channel?", two)
    assert any(w.startswith("channel 2 (the objects' channel") for w in plan.not_understood)
    clear = planner.plan("segment the nuclei in channel 2 and measure their mean intensity", two)
    assert not clear.not_understood and clear.inputs.channel == 1


def test_voxel_sizes_joined_by_by_and_everyday_words(planner: Planner) -> None:
    plan = planner.plan("segment them in three dimensions, volume of each in cubic micrometres; the voxels are "
                        "0.5 by 0.5 by 2 microns", ImageMeta(z=10))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um, plan.inputs.z) == (0.5, 2.0, "3d")
    assert not plan.not_understood and not plan.missing
    for text in ("How many neurons are in this picture?", "how far does the bead travel in total, in um",
                 "Several nuclei are stuck together: separate them and count them"):
        assert not planner.plan(text, ImageMeta(t=5, pixel_size_um=0.2, time_step_s=1.0)).not_understood, text


def test_safety_of_the_new_words(planner: Planner) -> None:
    bright = ImageMeta(axes="CYX", channels=2, channel_names=["Brightfield", "GFP"])
    assert planner.plan("count the bright spots", bright).inputs.channel == 0  # 'bright' is no channel name
    assert "highest" in planner.plan("which nucleus has the highest mean intensity").not_understood
    lapse = ImageMeta(t=5, pixel_size_um=0.2, time_step_s=2.0)
    rate = planner.plan("one frame per minute; track the spot, speed in um/s", lapse)  # a spelled number reads
    assert rate.meta.time_step_s == 60.0 and "time_step_s" in rate.meta.stated  # like digits: stated, never dropped
    seg = planner.plan("count objects no larger than 500 px").segmentation
    assert seg is not None and seg.max_size_px == 500
    assert any(w.startswith("don't") for w in planner.plan("don't count the cells at the border",
                                                           ImageMeta()).not_understood)


def test_region_words_are_reported_unless_they_describe_the_illumination(planner: Planner) -> None:
    assert any(w.startswith("left") for w in planner.plan("count the nuclei on the left side").not_understood)
    assert any(w.startswith("upper") for w in planner.plan("count the nuclei in the upper half").not_understood)
    plan = planner.plan("there is an intensity gradient from left to right; correct it and count the spots")
    assert plan.preprocessing.background and not plan.not_understood


def test_projection_type_reporter_channel_and_channel_name_parts(planner: Planner) -> None:
    plan = planner.plan("z-project (max) and then count the blobs", ImageMeta(z=5))
    assert plan.inputs.z == "max" and not plan.not_understood
    plan = planner.plan("my nuclei are in ch1 and a reporter in ch2. the reporter's mean level per nucleus?",
                        ImageMeta(channels=2))
    assert not plan.not_understood and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]
    named = ImageMeta(channels=2, channel_names=["DAPI", "Alexa 488"])
    plan = planner.plan("For each DAPI nucleus give me the maximum Alexa 488 intensity.", named)
    assert not plan.not_understood and plan.measurements[0].stats == ["max"] and plan.measurements[0].channel == 1
    plan = planner.plan("Objects that are cut by the image edge should not be counted. How many remain?")
    assert plan.segmentation is not None and plan.segmentation.exclude_border and not plan.not_understood


def test_comparison_without_number_kernel_width_and_elliptical_channel(planner: Planner) -> None:
    plan = planner.plan("count the nuclei that are brighter than the average nucleus")
    assert any(w.startswith("brighter than") for w in plan.not_understood)
    seg = planner.plan("count the nuclei brighter than 500").segmentation
    assert seg is not None and (seg.method, seg.threshold) == ("manual", 500)
    plan = planner.plan("Denoise (median 5x5), then count nuclei.")
    assert plan.preprocessing.denoise and plan.preprocessing.denoise_size == 5 and not plan.not_understood
    plan = planner.plan("per-nucleus median intensity of the second channel, nuclei from the first",
                        ImageMeta(channels=2))
    assert not plan.not_understood and plan.inputs.channel == 0
    assert [(m.kind, m.channel, m.stats) for m in plan.measurements] == [("intensity", 1, ["median"])]


@pytest.mark.parametrize(("text", "flagged"), [
    ("count the large nuclei", "large"),  # a subset, and no number for it
    ("remove large objects and count the rest", "large"),  # no default removes large objects
    ("count the weakly stained cells", "weakly"),
    ("count the nuclei in the top left corner", "top"),
    ("mean intensity of the whole image", "whole"),
    ("what fraction of the nuclei are large", "fraction"),  # (the image's covered share is a coverage now)
    ("measure the amount of GFP in each cell", "amount"),
])
def test_subsets_regions_and_fractions_are_not_silently_dropped(planner: Planner, text: str, flagged: str) -> None:
    plan = planner.plan(text, ImageMeta(channels=2, channel_names=["DAPI", "GFP"]))
    assert any(w.startswith(flagged) for w in plan.not_understood), plan.not_understood


def test_qualifiers_of_the_preprocessing_problem_are_fine(planner: Planner) -> None:
    for text in ("there is heavy noise; denoise and count the nuclei", "remove small debris and count the cells",
                 "the background is strong on the left: subtract it and count the spots"):
        assert not planner.plan(text).not_understood, text


@pytest.mark.parametrize(("text", "flagged"), [
    ("count nuclei without splitting them", "without"),  # was: split, because 'without' read as a removal
    ("skip the background correction and count", "skip"),
    ("track the spot, speed in um/h", "um / h"),  # was: um/s, the unit asked for silently replaced
    ("track the spot and give its speed in um per frame", "um per frame"),
])
def test_skipped_steps_and_units_the_plan_cannot_give(planner: Planner, text: str, flagged: str) -> None:
    plan = planner.plan(text, ImageMeta(t=5, pixel_size_um=0.2, time_step_s=1.0))
    assert any(w.startswith(flagged) for w in plan.not_understood), plan.not_understood


def test_skip_words_before_an_object_filter_are_exclusions(planner: Planner) -> None:
    seg = planner.plan("ignore objects smaller than 50 px and count").segmentation
    assert seg is not None and seg.min_size_px == 50
    plan = planner.plan("count all nuclei except the ones touching the border")
    assert plan.segmentation is not None and plan.segmentation.exclude_border and not plan.not_understood


def test_total_and_mean_lengths_and_voxel_dimensions(planner: Planner) -> None:
    plan = planner.plan("Total filament length in microns after skeletonising, please.", ImageMeta(pixel_size_um=0.25))
    assert not plan.not_understood
    assert {p.name for p in plan.promised()} >= {"total_skeleton_length", "mean_skeleton_length"}
    assert "max_skeleton_length" in {p.name for p in planner.plan("the maximum filament length").promised()}
    plan = planner.plan("Segment nuclei in 3-D, volumes in cubic microns. Voxel dimensions are z 2.0 um, x and y 0.5 um.",
                        ImageMeta(z=10))
    assert not plan.not_understood and (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0)


def test_a_channel_in_parentheses_belongs_to_the_words_before_it(planner: Planner) -> None:
    plan = planner.plan("What percent of nuclei express the marker (channel 2)?", ImageMeta(channels=2))
    assert plan.inputs.channel == 0 and [(m.kind, m.channel) for m in plan.measurements] == [("positivity", 1)]
    plan = planner.plan("What percent of nuclei express the marker; use channel 2.", ImageMeta(channels=2))
    assert any(w.startswith("channel 2 (no word next to it") for w in plan.not_understood)
    plan = planner.plan("Please get rid of any objects that touch the image border and count what's left.")
    assert not plan.not_understood and plan.segmentation is not None and plan.segmentation.exclude_border


@pytest.mark.parametrize(("text", "flagged"), [
    ("measure intensity in both channels for each nucleus", "both channels"),  # was: one channel only
    ("mean intensity of channels 1 and 2 in each nucleus", "channels 1 and 2"),  # was: ch1 in ch2 objects
])
def test_two_intensity_channels_are_not_silently_reduced_to_one(planner: Planner, text: str, flagged: str) -> None:
    plan = planner.plan(text, ImageMeta(channels=2))
    assert any(w.startswith(flagged) for w in plan.not_understood), plan.not_understood


def test_channel_pairs_for_colocalisation_and_distances_still_work(planner: Planner) -> None:
    for text, kind in (("pearson correlation between both channels", "colocalisation"),
                       ("colocalization of channels 1 and 2 in this image", "colocalisation"),
                       ("distance between channels 1 and 2 objects", "object_distance")):
        plan = planner.plan(text, ImageMeta(channels=2))
        assert not plan.not_understood and plan.inputs.channel == 0
        assert [(m.kind, m.channel) for m in plan.measurements] == [(kind, 1)]


def test_results_in_pixels_on_a_calibrated_image(planner: Planner) -> None:
    lapse = ImageMeta(t=10, axes="TYX", pixel_size_um=0.2, time_step_s=0.5)
    plan = planner.plan("nearest neighbour distance between nuclei in pixels", lapse)
    assert [(p.name, p.unit) for p in plan.promised()] == [("nn_distance_px", "px"), ("mean_nn_distance", "px")]
    speed = planner.plan("what is the average speed of the spots in pixels per frame?", lapse)
    assert speed.speed_unit() == "px/frame"
    assert planner.plan("area in um^2, ignore objects under 50 pixels", lapse).physical()


@pytest.mark.parametrize(("text", "flagged"), [
    ("track the spot, median speed", "median"),  # (a median area or distance is a column summary now)
    ("how long does each track last", "how long does"),  # a duration, not the path length
    ("give the speed in pixels per second", "pixels per second"),
    ("measure the nuclei in each slice", "each slice"),
    ("measure the nuclei in the slices", "slices"),  # the default projection is no per-slice answer
])
def test_statistics_durations_and_slices_the_plan_cannot_give(planner: Planner, text: str, flagged: str) -> None:
    plan = planner.plan(text, ImageMeta(z=8, t=10, pixel_size_um=0.2, time_step_s=0.5))
    assert any(w.startswith(flagged) for w in plan.not_understood), plan.not_understood


def test_positivity_negatives_thresholds_and_ambiguous_marker_channels(planner: Planner) -> None:
    two = ImageMeta(channels=2, axes="CYX")
    names = {p.name for p in planner.plan("how many nuclei are negative for the marker in channel 2", two).promised()}
    assert {"negative_count", "negative_percent", "positive_count"} <= names
    plan = planner.plan("threshold channel 2 at 500 and count positive nuclei", two)
    assert any(w.startswith("500 (a threshold for the segmentation or for the marker") for w in plan.not_understood)
    plan = planner.plan("percentage of marker-negative nuclei (channel 2)", two)
    assert any(w.startswith("channel 2 (the objects' channel") for w in plan.not_understood)
    plan = planner.plan("percentage of nuclei positive for channel 2 with a threshold of 400", two)
    assert not plan.not_understood and [(m.kind, m.channel, m.threshold) for m in plan.measurements] == [
        ("positivity", 1, 400.0)]
    assert "ratio" in planner.plan("ratio of positive to negative nuclei for channel 2", two).not_understood
    plan = planner.plan("count nuclei, min area 20 px, max area 400 px")
    assert plan.segmentation is not None and (plan.segmentation.min_size_px, plan.segmentation.max_size_px) == (20, 400)
    assert planner.plan("plot the size distribution").outputs.figure == "histogram"


def test_background_as_a_measured_region_and_axis_before_number(planner: Planner) -> None:
    two = ImageMeta(channels=2, z=8)
    plan = planner.plan("What is the mean intensity of the background around the nuclei?", two)
    assert any(w.startswith("background (its intensity") for w in plan.not_understood)  # was: corrected and measured
    assert not planner.plan("the mean background-corrected intensity of each nucleus", two).not_understood
    plan = planner.plan("Please measure nuclear volume (µm³) in this z-stack. Voxel size x/y 0.5 µm, z 2 µm.", two)
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0) and not plan.missing
    plan = planner.plan("Channel 1 has the nuclei, channel 2 the protein of interest. Quantify the protein's "
                        "average intensity in every nucleus.", two)
    assert not plan.not_understood and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]


def test_the_marker_word_alone_is_a_channel_role_not_positivity(planner: Planner) -> None:
    two = ImageMeta(channels=2)
    plan = planner.plan("ok so I've got nuclei (channel 1) plus a second channel with my marker - can you tell me "
                        "the average marker intensity for each nucleus?", two)
    assert not plan.not_understood and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]
    plan = planner.plan("what % of the nuclei are marker positive? marker is in the 2nd channel", two)
    assert not plan.not_understood and [(m.kind, m.channel) for m in plan.measurements] == [("positivity", 1)]
    plan = planner.plan("my image has a big brightness gradient, could you compensate for it and then count the spots?")
    assert plan.preprocessing.background and not plan.not_understood


def test_colours_as_channel_names_and_border_phrasings(planner: Planner) -> None:
    plan = planner.plan("Distance between each green spot and the closest red spot, green = channel 2, red = channel 1, "
                        "in px.", ImageMeta(channels=2))
    assert not plan.not_understood and plan.inputs.channel == 1
    assert [(m.kind, m.channel) for m in plan.measurements] == [("object_distance", 0)]
    assert "which channel is green" in " ".join(planner.plan("count the green spots", ImageMeta(channels=2)).missing)
    plan = planner.plan("Ignore nuclei touching the image border; what's the mean nuclear area of the rest?")
    assert plan.segmentation is not None and plan.segmentation.exclude_border
    assert not plan.segmentation.split_touching and not plan.not_understood


def test_which_step_a_threshold_belongs_to(planner: Planner) -> None:
    two = ImageMeta(channels=2)
    plan = planner.plan("Which fraction of the nuclei is positive in channel 2? Use a threshold of 500.", two)
    assert not plan.not_understood and plan.measurements[0].threshold == 500
    plan = planner.plan("segment the nuclei with a threshold of 800. what percentage is positive in channel 2?", two)
    assert not plan.not_understood and plan.segmentation is not None and plan.segmentation.threshold == 800
    assert plan.measurements[0].threshold is None


def test_dev_v14_phrasings(planner: Planner) -> None:
    plan = planner.plan("3D nuclei volumes in um^3 - voxel spacing 2 um (z) by 0.5 um (xy)", ImageMeta(z=8))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0) and not plan.missing
    plan = planner.plan("measure, for every nucleus found in the first channel, the mean value of the second channel",
                        ImageMeta(channels=2))
    assert not plan.not_understood and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]
    plan = planner.plan("How many complete nuclei are there, i.e. not cut by the image border?")
    assert plan.segmentation is not None and plan.segmentation.exclude_border and not plan.not_understood


def test_densities_per_area_are_reported(planner: Planner) -> None:
    for text in ("how many nuclei per um^2", "number of spots per square micron", "intensity per um2"):
        assert any(w.startswith("per ") for w in planner.plan(text, ImageMeta(pixel_size_um=0.5)).not_understood)
