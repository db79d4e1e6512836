"""Planner round 18: statement clauses, calibrations in words, spelling slips, courtesy sentences, paths of tracked
objects, unknown nouns in an object slot and numbered lists (docs/planner_round18.md). Each mechanism where it
holds, and where it must not (the word stays reported and the request is declined)."""

from __future__ import annotations

import pytest

from scopebot.code.clause_context import statement_clause
from scopebot.code.plan import ImageMeta
from scopebot.code.planner import Planner
from scopebot.code.spelling import near_ending

TWO = ImageMeta(axes="CYX", channels=2, pixel_size_um=0.2)
FLAT = ImageMeta(pixel_size_um=0.2)
STACK = ImageMeta(axes="ZYX", z=12, pixel_size_um=0.3, z_step_um=1.5)
MOVIE = ImageMeta(axes="TYX", t=10)


@pytest.fixture(scope="module")
def planner() -> Planner:
    return Planner()


def _clean(plan) -> bool:  # noqa: ANN001 - an AnalysisPlan
    return not plan.not_understood and not plan.missing


# --- statement clauses -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("request_", "meta", "word"), [
    ("i think my two markers are in different compartments but my PI isn't convinced. can u compute the pearson r "
     "of channel 1 vs channel 2?", TWO, "pi"),
    ("The voxel size is in the OME header (it is not isotropic, z is much coarser). Please segment in 3D and report "
     "the volume of each nucleus in cubic micrometres.", STACK, "isotropic"),
    ("Count the nuclei and give their mean area, because our old camera is wobbly.", FLAT, "wobbly"),
])
def test_a_statement_clause_the_plan_does_not_depend_on_is_not_used(planner: Planner, request_: str,
                                                                     meta: ImageMeta, word: str) -> None:
    plan = planner.plan(request_, meta)
    assert _clean(plan), plan.not_understood
    assert word in plan.not_used
    assert word in planner.plan(request_, meta, context=False).not_understood  # the old reading reports it


def test_a_leading_subordinator_of_a_placed_statement_is_a_connector(planner: Planner) -> None:
    plan = planner.plan("Exclude every nucleus that is clipped by the edge of the frame, since its size would be "
                        "wrong. How many whole nuclei remain?", FLAT)
    assert _clean(plan) and plan.segmentation.exclude_border
    assert "count" in plan.kinds()


@pytest.mark.parametrize(("request_", "word"), [
    ("Measure the area, but our readout is the flatness.", "flatness"),  # a definition names what is asked
    ("Count the nuclei, we also need their flatness.", "flatness"),  # a wish
    ("Count the nuclei since the dividing ones matter.", "dividing"),  # which objects
    ("Count the nuclei and we measure the wobbliness.", "wobbliness"),  # a verb of measuring
])
def test_a_clause_that_may_ask_stays_reported(planner: Planner, request_: str, word: str) -> None:
    assert word in planner.plan(request_, FLAT).not_understood


def test_statement_clause_boundaries() -> None:
    texts = "count the nuclei , since its size would be wrong .".split()
    assert statement_clause(texts, 7) == (3 + 1, 10)
    texts = "count the wobbly nuclei .".split()
    assert statement_clause(texts, 2) is None  # an imperative is no statement
    texts = "but my pi isn't convinced".split()
    assert statement_clause(texts, 2) == (0, 5)


# --- calibration in words ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "pixel"), [
    ("The scale bar says 5 pixels per micron. Give every nucleus area in µm².", 0.2),
    ("Sampling is 4 px/um. Give the mean nearest-neighbour distance between the spots in um.", 0.25),
    ("Scaling is 2.5 pixels per micron. Count the spots and give the area of each in square microns.", 0.4),
    ("Our pixel is 650 nm (10x objective). Count the nuclei and give each area in µm².", 0.65),
])
def test_pixel_sizes_in_pixels_per_length_and_next_to_an_objective(planner: Planner, text: str,
                                                                   pixel: float) -> None:
    plan = planner.plan(text, ImageMeta())
    assert plan.meta.pixel_size_um == pytest.approx(pixel)
    assert _clean(plan), (plan.not_understood, plan.missing)


def test_number_words_before_a_rate_or_a_time(planner: Planner) -> None:
    plan = planner.plan("One vesicle moves. 0.16 µm per pixel and one frame per second. What is its speed in "
                        "micrometres per second?", MOVIE)
    assert plan.meta.time_step_s == 1.0 and _clean(plan)
    history = planner.plan("We transfected these cells two days ago. Count the nuclei.", FLAT)
    assert "days" not in history.not_understood and "ago" not in history.not_understood
    assert planner.plan("count the nuclei in one frame", MOVIE).meta.time_step_s is None  # "one frame" is no rate


def test_dz_names_the_z_step(planner: Planner) -> None:
    plan = planner.plan("xy = 0.2um/px and dz = 0.8 um. whats the total volume of the nuclei in um3?",
                        ImageMeta(axes="ZYX", z=10))
    assert (plan.meta.pixel_size_um, plan.meta.z_step_um) == (0.2, 0.8) and _clean(plan)


# --- spelling ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "word"), [("chanel", "channel"), ("nucleis", "nuclei"),
                                             ("backgroud", "background"), ("intensitiy", "intensity")])
def test_slips_in_short_words_and_near_the_end(typed: str, word: str) -> None:
    assert near_ending(typed, word)


@pytest.mark.parametrize(("typed", "word"), [("bacterial", "bacteria"), ("articles", "particles"),
                                             ("spots", "spot"), ("areas", "area"), ("cells", "cell")])
def test_real_words_are_no_slips(typed: str, word: str) -> None:
    assert not near_ending(typed, word)


def test_a_misspelled_channel_word_names_the_channel(planner: Planner) -> None:
    plan = planner.plan("nuclei in chanel 1, and for each nucleus the mean intensitiy in chanel 2", TWO)
    assert _clean(plan) and plan.inputs.channel == 0
    assert [m.channel for m in plan.measurements if m.kind == "intensity"] == [1]


# --- courtesy sentences -----------------------------------------------------------------------------------------
def test_a_courtesy_sentence_is_context_an_instruction_in_it_is_not(planner: Planner) -> None:
    thanks = planner.plan("Count the nuclei. Sorry to bother you with such a trivial thing.", FLAT)
    assert _clean(thanks) and "trivial" in thanks.not_used
    assert "deconvolve" in planner.plan("Count the nuclei. Thanks, and also deconvolve it first.", FLAT).not_understood
    assert "deconvolve" in planner.plan("Count the nuclei. Thanks, could you deconvolve it?", FLAT).not_understood


# --- paths of tracked objects ------------------------------------------------------------------------------------
def test_where_a_tracked_object_moves_is_no_second_kind(planner: Planner) -> None:
    plan = planner.plan("In this movie one vesicle travels along the axon. 0.16 µm per pixel and 1 s per frame. "
                        "What is its speed in micrometres per second?", MOVIE)
    assert _clean(plan) and plan.kinds() == {"tracking"}
    both = planner.plan("Track the vesicle moving along the axon and count the axons.", MOVIE)
    assert any("two kinds" in w for w in both.not_understood)  # not a tracking-only plan: two kinds


# --- unknown nouns in an object slot -----------------------------------------------------------------------------
def test_an_unknown_noun_named_as_the_measured_objects(planner: Planner) -> None:
    plan = planner.plan("These are microtubule bundles. Reduce each one to a one-pixel-wide line and report the "
                        "length of each bundle in µm.", FLAT)
    assert _clean(plan) and plan.kinds() == {"skeleton_length"}


@pytest.mark.parametrize(("request_", "word"), [
    ("give the length of each protrusion", "protrusion"),  # a part of an object
    ("give the area of each mitosis", "mitosis"),  # an event
    ("give the area of the old ones", "old"),  # a subset
    ("how many mitoses are there?", "mitoses"),  # counting alone
])
def test_object_slot_words_that_stay_reported(planner: Planner, request_: str, word: str) -> None:
    assert word in planner.plan(request_, FLAT).not_understood


def test_an_object_slot_noun_next_to_another_kind_stays_two_kinds(planner: Planner) -> None:
    plan = planner.plan("count the nuclei and give the length of each bundle", FLAT)
    assert not _clean(plan)


def test_travels_with_the_file_is_no_motion(planner: Planner) -> None:
    plan = planner.plan("Give the mean nuclear area in µm²; the pixel size travels with the OME file.", FLAT)
    assert "tracking" not in plan.kinds() and _clean(plan)


# --- numbered lists ----------------------------------------------------------------------------------------------
def test_numbered_list_markers_are_no_quantities(planner: Planner) -> None:
    plan = planner.plan("Could you (1) drop all the nuclei that touch the edge of the frame, (2) count whatever is "
                        "left and (3) list the area of each remaining nucleus in µm²?", FLAT)
    assert _clean(plan) and plan.segmentation.exclude_border
    channel = planner.plan("the DAPI channel (1) has the nuclei; give the mean intensity of channel 2 in each", TWO)
    assert channel.inputs.channel == 0 and _clean(channel)


# --- found by probing ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("request_", ["Count the nuclei; the first channel is ignored.",
                                      "Count the nuclei. The first channel should be skipped."])
def test_a_word_said_of_a_channel_is_never_context(planner: Planner, request_: str) -> None:
    """Round 17's sentence ablation read these as descriptions (channel 1 is the default) and counted channel 1."""
    assert planner.plan(request_, TWO).not_understood


def test_ignored_after_a_size_limit_removes_the_objects(planner: Planner) -> None:
    plan = planner.plan("Count the nuclei. Anything below 15 µm² should be ignored.", ImageMeta(pixel_size_um=0.5))
    assert _clean(plan) and plan.segmentation.min_size_px == 60 and plan.segmentation.max_size_px is None


def test_a_clause_with_a_modal_of_obligation_stays_reported(planner: Planner) -> None:
    plan = planner.plan("Measure the mean intensity, although it should be normalised.", FLAT)
    assert "normalised" in plan.not_understood


def test_a_contrast_freed_earlier_does_not_block_a_later_one(planner: Planner) -> None:
    plan = planner.plan("My cells sit at different depths so no single optical section shows them all. Make a maximum "
                        "projection, count the cells and list each area in square microns. A pixel is 0.3 µm wide; "
                        "this isn't stored in the file.", ImageMeta(axes="ZYX", z=6))
    assert _clean(plan) and plan.meta.pixel_size_um == 0.3


@pytest.mark.parametrize(("request_", "word"), [("count the full nuclei", "full"), ("count the contacts", "contacts")])
def test_everyday_words_of_this_round_outside_their_context(planner: Planner, request_: str, word: str) -> None:
    assert word in planner.plan(request_, FLAT).not_understood


def test_expressed_in_a_unit_is_the_unit_not_positivity(planner: Planner) -> None:
    movie = ImageMeta(axes="TYX", t=10, pixel_size_um=0.2, time_step_s=1.0)
    plan = planner.plan("I need the velocity of the moving object in my time series, expressed in µm/s.", movie)
    assert _clean(plan) and plan.kinds() == {"tracking"}


def test_our_cells_grow_names_the_sample(planner: Planner) -> None:
    plan = planner.plan("Our CHO cells grow in clumps. Separate the nuclei that touch each other, then report how "
                        "many there are and the average nuclear area in µm².", FLAT)
    assert _clean(plan) and plan.segmentation.split_touching
    assert not _clean(planner.plan("The cells grow in clumps. Count the nuclei.", FLAT))  # no possessive: two kinds


def test_a_stain_in_parentheses_after_what_a_channel_holds_names_it(planner: Planner) -> None:
    plan = planner.plan("channel 2 is nucleus (hoechst). count the nuclei", TWO)
    assert _clean(plan) and plan.inputs.channel == 1
    loose = planner.plan("channel 1 is empty, count the nuclei (hoechst)", TWO)  # not what channel 1 holds
    assert loose.missing


def test_a_letter_added_at_the_end_of_a_long_word_is_corrected_and_shown(planner: Planner) -> None:
    plan = planner.plan("count the nuclei after a watershedd split", FLAT)
    assert _clean(plan) and plan.segmentation.split_touching
    assert "'watershedd' -> read as 'watershed' (spelling)" in plan.understood


@pytest.mark.parametrize(("request_", "clean"), [
    ("Z-series of fixed spheroid nuclei. Give the volume of each nucleus in 3D in cubic micrometres.", True),
    ("These nuclei were fixed 48 h after plating. Count the nuclei.", True),
    ("Segment with a fixed threshold and count the nuclei", False),  # a fixed threshold: which value?
    ("How many cells were seeded in this dish before I fixed them?", False),  # the history is the question
])
def test_fixed_describes_the_sample_only_before_it_or_with_a_time(planner: Planner, request_: str,
                                                                  clean: bool) -> None:
    plan = planner.plan(request_, STACK if "3D" in request_ else FLAT)
    assert ("fixed" not in plan.not_understood) is clean


def test_a_contrast_takes_its_own_phrase_report_with_it(planner: Planner) -> None:
    plan = planner.plan("Please segment the nuclei in 3D (not slice by slice!) and give the volume of each.", STACK)
    assert _clean(plan) and plan.inputs.z == "3d"


def test_a_clause_saying_what_matters_stays_reported(planner: Planner) -> None:
    plan = planner.plan("Give the mean length of every dendrite, though the spines matter most.", FLAT)
    assert "spines" in plan.not_understood
