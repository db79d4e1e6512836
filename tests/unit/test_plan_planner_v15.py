"""Planner rules added after held-out v9 and dev-v15 (issue 15): each test fails without its rule."""

from __future__ import annotations

from scopebot.code.plan import AnalysisPlan, ImageMeta
from scopebot.code.planner import Planner
from scopebot.code.spelling import one_edit


def _kinds(plan: AnalysisPlan) -> list[tuple[str, int | None]]:
    return [(m.kind, m.channel) for m in plan.measurements]


def test_a_calibration_word_gives_its_meaning_to_one_number(planner: Planner) -> None:
    plan = planner.plan("Stack has 0.4 µm pixels and 1 µm z steps. Segment the nuclei in 3D and give each "
                        "one's volume (µm^3).", ImageMeta(axes="ZYX", z=16))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.4, 1.0)
    assert not plan.missing and not plan.not_understood
    plan = planner.plan("pixel size 0.3 um and 2 um in z; volume of each nucleus", ImageMeta(axes="ZYX", z=9))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.3, 2.0)
    plan = planner.plan("Denoise (median 5x5), then count nuclei.")  # one value twice: both are the kernel
    assert plan.preprocessing.denoise_size == 5 and not plan.not_understood


def test_axis_order_written_as_one_word(planner: Planner) -> None:
    plan = planner.plan("I have a confocal z-stack (voxel 0.5 x 0.5 x 2 µm, xyz). Segment the nuclei in 3D and "
                        "give me the volume of each one in µm³?", ImageMeta(axes="ZYX", z=16))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0) and not plan.not_understood
    plan = planner.plan("voxel 3 x 0.5 x 0.5 um (zyx); volume of each nucleus", ImageMeta(axes="ZYX", z=16))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 3.0) and not plan.not_understood


def test_plus_after_a_marker_means_positive(planner: Planner) -> None:
    plan = planner.plan("Percentage of marker+ cells? nuclei in C1, marker in C2", ImageMeta(channels=2))
    assert _kinds(plan) == [("positivity", 1)] and plan.inputs.channel == 0 and not plan.not_understood
    plan = planner.plan("what fraction of nuclei (ch1) are Ki67+ve (ch2)?", ImageMeta(channels=2))
    assert _kinds(plan) == [("positivity", 1)] and not plan.not_understood


def test_a_number_before_channel_is_a_count_and_a_listed_channel_needs_no_role(planner: Planner) -> None:
    meta = ImageMeta(channels=2, channel_names=["DAPI", "GFP"])
    plan = planner.plan("2-channel image, DAPI and GFP. For each DAPI nucleus give me the GFP mean intensity", meta)
    assert plan.inputs.channel == 0 and _kinds(plan) == [("intensity", 1)] and not plan.not_understood
    # "in 1 channel" is not a count: the number stays a reference or is reported, never dropped
    plan = planner.plan("nuclei in 1 channel and the mean intensity in 2 channel", ImageMeta(channels=2))
    assert plan.not_understood


def test_a_nuclear_stain_definition_names_the_objects_channel(planner: Planner) -> None:
    plan = planner.plan("DAPI is in the first channel and my protein of interest in the second. For every nucleus, "
                        "what's the mean ch2 intensity?", ImageMeta(channels=2))
    assert plan.inputs.channel == 0 and _kinds(plan) == [("intensity", 1)] and not plan.not_understood
    plan = planner.plan("GFP is in the first channel and DAPI in the second. Mean GFP intensity of every nucleus?",
                        ImageMeta(channels=2))
    assert plan.inputs.channel == 1 and _kinds(plan) == [("intensity", 0)] and not plan.not_understood


def test_separable_phrasal_verbs_and_border_synonyms(planner: Planner) -> None:
    plan = planner.plan("Some nuclei are only half in the frame at the edge. Leave those out and tell me how many "
                        "whole ones there are.")
    assert plan.segmentation is not None and plan.segmentation.exclude_border
    assert _kinds(plan) == [("count", None)] and not plan.not_understood
    plan = planner.plan("count the nuclei; the tiny ones, filter them out")
    assert not any(w.startswith("out") for w in plan.not_understood)


def test_rolling_ball_radius_is_read_and_an_object_radius_is_reported(planner: Planner) -> None:
    plan = planner.plan("Count spots after background subtraction (rolling ball, radius 20 px)")
    assert plan.preprocessing.background and plan.preprocessing.background_radius == 20 and not plan.not_understood
    plan = planner.plan("count nuclei with a radius above 5 px")
    assert any(w.startswith("radius") for w in plan.not_understood)
    plan = planner.plan("correct the background and remove nuclei with radius below 3 px")
    assert any(w.startswith("radius") for w in plan.not_understood)


def test_one_side_brighter_than_another_is_uneven_illumination(planner: Planner) -> None:
    plan = planner.plan("The field is much brighter on the right than on the left (bad flat-field). Count the puncta.")
    assert plan.preprocessing.background and not plan.not_understood
    plan = planner.plan("The nuclei on the right are brighter than on the left. Count them.")
    assert plan.not_understood and not plan.preprocessing.background  # objects compared by region: not in the plan
    plan = planner.plan("count the nuclei on the left")
    assert any(w.startswith("left") for w in plan.not_understood)


def test_touching_words_and_participles_of_object_nouns(planner: Planner) -> None:
    plan = planner.plan("declump the clustered cells and report how many there are plus their mean size in pixels")
    assert plan.segmentation is not None and plan.segmentation.split_touching and not plan.not_understood
    assert any(w.startswith("clustered") for w in planner.plan("count the clustered cells").not_understood)
    plan = planner.plan("Several nuclei are stuck together in pairs. Separate the touching ones (watershed is "
                        "fine), count them and tell me the average nucleus area.", ImageMeta(pixel_size_um=0.5))
    assert plan.segmentation is not None and plan.segmentation.split_touching and not plan.not_understood
    assert planner.plan("count the nuclear foci").not_understood  # foci inside nuclei: still two kinds


def test_spelling_slips_are_read_and_shown_real_words_are_not(planner: Planner) -> None:
    plan = planner.plan("rolling ball backgrund correction, then count the spots")
    assert plan.preprocessing.background and not plan.not_understood
    assert any("read as 'background'" in u for u in plan.understood)
    for typed, word in [("threshhold", "threshold"), ("fluoresence", "fluorescence"), ("segmentaion",
                                                                                         "segmentation")]:
        assert one_edit(typed, word)
    for real, word in [("mounting", "counting"), ("articles", "particles"), ("internal", "interval"),
                       ("bacterial", "bacteria"), ("thorough", "through")]:
        assert not one_edit(real, word)
    assert planner.plan("count the nuclei in the mounting medium").not_understood


def test_how_large_is_a_size(planner: Planner) -> None:
    plan = planner.plan("how many objects are in this stack after a max intensity projection, and how large is each "
                        "one in px?", ImageMeta(axes="ZYX", z=8))
    assert plan.inputs.z == "max" and {k for k, _ in _kinds(plan)} == {"count", "size"} and not plan.not_understood


def test_a_statistic_before_a_channel_is_its_intensity_and_definitions_after_the_channel(planner: Planner) -> None:
    plan = planner.plan("Hi! Channel 1 = nuclear stain, channel 2 = my GFP reporter. Could you give me the mean GFP "
                        "per nucleus?", ImageMeta(channels=2))
    assert plan.inputs.channel == 0 and _kinds(plan) == [("intensity", 1)] and not plan.not_understood
    plan = planner.plan("max ch2 in every nucleus (ch1)", ImageMeta(channels=2))
    assert _kinds(plan) == [("intensity", 1)] and plan.measurements[0].stats == ["max"]
    plan = planner.plan("average ch2 area of each nucleus (ch1)", ImageMeta(channels=2))  # a size, not intensity
    assert ("intensity", 1) not in _kinds(plan)


def test_small_dots_name_the_objects_but_small_nuclei_are_a_subset(planner: Planner) -> None:
    plan = planner.plan("uneven background (vignetting) - please subtract it and then count the small bright dots")
    assert plan.preprocessing.background and not plan.not_understood
    assert planner.plan("count the small nuclei").not_understood


def test_one_frame_of_a_time_lapse_is_never_chosen_silently(planner: Planner) -> None:
    plan = planner.plan("How many cells are there?", ImageMeta(t=10))
    assert any("time point" in m for m in plan.missing)
    plan = planner.plan("count the cells in frame 3", ImageMeta(t=10))
    assert plan.inputs.time == 2 and not plan.missing
    plan = planner.plan("count the cells in each frame", ImageMeta(t=10))
    assert plan.inputs.time == "all" and not plan.missing


def test_channel_tied_by_of_and_channel_number_in_brackets(planner: Planner) -> None:
    named = ImageMeta(channels=2, pixel_size_um=0.5, channel_names=["DAPI", "GFP"])
    plan = planner.plan("average intensity of the GFP channel inside nuclei segmented on DAPI", named)
    assert plan.inputs.channel == 0 and _kinds(plan) == [("intensity", 1)] and not plan.not_understood
    plan = planner.plan("Using the DAPI channel (1) for masks, what's the mean intensity of channel 2 per nucleus?",
                        ImageMeta(channels=2))
    assert plan.inputs.channel == 0 and _kinds(plan) == [("intensity", 1)] and not plan.not_understood


def test_colour_names_a_channel_only_through_its_stain_name(planner: Planner) -> None:
    request = "what is the mean intensity in the green channel for each nucleus? nuclei are blue"
    plan = planner.plan(request, ImageMeta(channels=2, channel_names=["DAPI", "GFP"]))
    assert plan.inputs.channel == 0 and _kinds(plan) == [("intensity", 1)] and not plan.not_understood
    assert any("green" in m for m in planner.plan(request, ImageMeta(channels=2)).missing)  # no names: no guess


def test_axis_with_equals_sign_and_max_intensity_z_projection(planner: Planner) -> None:
    plan = planner.plan("nuclear volume in um^3 for each nucleus. z = 2 um, xy = 0.5 um", ImageMeta(axes="ZYX", z=9))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0) and not plan.not_understood
    plan = planner.plan("please do a maximum-intensity z projection, count the blobs and list their areas",
                        ImageMeta(axes="ZYX", z=8))
    assert plan.inputs.z == "max" and {k for k, _ in _kinds(plan)} == {"count", "size"}  # no max intensity


def test_share_of_objects_above_an_intensity_is_positivity_but_below_is_not(planner: Planner) -> None:
    plan = planner.plan("fraction of nuclei with ch2 signal above 300", ImageMeta(channels=2))
    assert [(m.kind, m.channel, m.threshold) for m in plan.measurements] == [("positivity", 1, 300)]
    assert not plan.not_understood
    plan = planner.plan("what fraction of nuclei have ch2 signal below 200?", ImageMeta(channels=2))
    assert plan.not_understood  # positivity counts the objects above: reported, not answered the other way
    assert planner.plan("percentage of the ch2 intensity that is inside nuclei", ImageMeta(channels=2)).not_understood


def test_results_per_group_are_reported_not_read_as_the_whole_image(planner: Planner) -> None:
    plan = planner.plan("count the nuclei in each well of the plate and compare the wells")
    assert any(w.startswith("each well") for w in plan.not_understood)
    assert any(w.startswith("per condition") for w in planner.plan("count nuclei per condition").not_understood)
    assert not planner.plan("measure the area of each nucleus", ImageMeta(pixel_size_um=0.5)).not_understood


def test_negated_channels_shape_subsets_and_whole_image_intensity_are_reported(planner: Planner) -> None:
    c2 = ImageMeta(channels=2)
    for request in ("count nuclei ignoring the first channel", "count all the nuclei except those in channel 2",
                    "count only the round nuclei", "total intensity of the image"):
        assert planner.plan(request, c2).not_understood, request
    named = ImageMeta(channels=2, channel_names=["DAPI", "GFP"])
    plan = planner.plan("how many nuclei are GFP-?", named)  # a trailing minus is 'negative', not the GFP objects
    assert plan.inputs.channel == 0 and ("positivity", 1) in _kinds(plan)
    assert not planner.plan("measure the circularity of each nucleus").not_understood
    assert not planner.plan("Plot a histogram of the intensity values in the image.").not_understood


def test_a_size_range_with_between_sets_both_limits(planner: Planner) -> None:
    seg = planner.plan("count nuclei with an area between 50 and 300 px").segmentation
    assert seg is not None and (seg.min_size_px, seg.max_size_px) == (50, 300)
    seg = planner.plan("count the nuclei between 50 and 300 um2 in size", ImageMeta(pixel_size_um=0.5)).segmentation
    assert seg is not None and (seg.min_size_px, seg.max_size_px) == (200, 1200)
    assert planner.plan("count nuclei with intensity between 500 and 900").not_understood  # not a size


def test_dont_count_with_a_filter_after_and_above_a_number_in_another_channel(planner: Planner) -> None:
    seg = planner.plan("don't count nuclei that touch the image edge - how many are left?").segmentation
    assert seg is not None and seg.exclude_border
    assert planner.plan("don't count the nuclei, measure their area").not_understood
    plan = planner.plan("How many of the nuclei (channel 1) are above 500 in channel 2?", ImageMeta(channels=2))
    assert [(m.kind, m.channel, m.threshold) for m in plan.measurements][0] == ("positivity", 1, 500)
    assert plan.inputs.channel == 0 and not plan.not_understood
    plan = planner.plan("How many nuclei (channel 1) are larger than 50 in channel 2?", ImageMeta(channels=2))
    assert ("positivity", 1) not in _kinds(plan)  # 'larger' compares sizes, never a marker threshold


def test_wide_and_deep_are_axes_only_in_a_voxel_sentence(planner: Planner) -> None:
    stack = ImageMeta(axes="ZYX", z=16)
    plan = planner.plan("Could you compute nuclear volumes in µm^3 from this z-stack? Voxels are 0.5 µm wide and "
                        "2 µm deep.", stack)
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0) and not plan.not_understood
    plan = planner.plan("count nuclei 10 um wide", stack)
    assert plan.meta.pixel_size_um is None and plan.not_understood  # an object's width is never the pixel size


def test_two_voxel_sizes_without_axes_take_the_larger_as_z(planner: Planner) -> None:
    for request in ("volume of each nucleus; voxel 0.5 um, 2 um", "volume of each nucleus; voxel 2 um, 0.5 um"):
        plan = planner.plan(request, ImageMeta(axes="ZYX", z=16))
        assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0), request


def test_batches_z_interval_and_one_darker_side(planner: Planner) -> None:
    for request in ("count the nuclei in every image of the folder and make a table per file",
                    "count nuclei in all images in this folder"):
        assert planner.plan(request).not_understood, request  # one image per plan: a batch is reported
    plan = planner.plan("I need 3D nuclear volumes in cubic microns. The z interval is 2 µm and the xy pixel size "
                        "0.5 µm.", ImageMeta(axes="ZYX", z=9))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.5, 2.0) and not plan.not_understood
    plan = planner.plan("The image is darker on one side. Please even out the background before counting the spots.")
    assert plan.preprocessing.background and not plan.not_understood
    assert planner.plan("Count spots after background subtraction. Only the brighter ones on the left side."
                        ).not_understood  # a subset, not the illumination
