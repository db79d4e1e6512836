"""Round 17 planner mechanisms: word classes with no analysis meaning, any-letter words, the sample the image
shows, and size words that restate a stated size limit (docs/planner_round17.md).

The requests are written for these tests (not taken from an eval set). Each mechanism is tested both ways: the
new reading where it holds, and the old report where it must not.
"""

from __future__ import annotations

import pytest

from scopebot.code.plan import ImageMeta
from scopebot.code.planner import _tokenise
from tests.unit.plan_helpers import plan_core

META = ImageMeta(pixel_size_um=0.5)
CANON = "Count the nuclei and give the area of each one in µm²."


# --- word classes with no analysis meaning (thesaurus_v1.yaml: harmless) ---------------------------------------
@pytest.mark.parametrize("preamble", [
    "The technician used the new software. ",
    "A collaborator asked for this before the grant deadline. ",
    "Sorry, the camera is an old CCD. ",
    "The explant was prepared by a collaborator at the facility. ",
    "My advisor is not convinced by the plugin. ",
])
def test_people_equipment_and_lab_words_plan_like_the_request_without_them(planner, preamble: str) -> None:
    plain = planner.plan(CANON, META)
    plan = planner.plan(preamble + CANON, META)
    assert plan.not_understood == [], plan.not_understood
    assert plan_core(plan) == plan_core(plain)
    assert any("no analysis meaning" in u for u in plan.understood)


@pytest.mark.parametrize("request_", [
    "Please email the nuclei count to my supervisor.",  # an action the plan cannot do
    "Count the nuclei in the core of the spheroid.",  # a region
])
def test_words_that_may_be_the_request_or_a_region_stay_reported(planner, request_: str) -> None:
    plan = planner.plan(request_, META)
    assert plan.not_understood, plan.understood


def test_words_with_accents_are_one_word() -> None:
    assert _tokenise("the Müller lab, naïve cells") == ["the", "müller", "lab", ",", "naïve", "cells"]
    assert _tokenise("0.2 μm pixels") == ["0.2", "µm", "pixels"]  # the Greek mu is the micro sign


def test_a_greek_mu_reads_as_the_micro_sign(planner) -> None:
    plan = planner.plan("Count the nuclei and give the area of each in μm². The pixel is 0.25 μm.")
    assert plan.meta.pixel_size_um == 0.25 and plan.not_understood == []


# --- the sample the image shows (object_names.described_objects) ------------------------------------------------
@pytest.mark.parametrize("request_", [
    "This is a stack of an organoid. Give the volume of each nucleus in µm³, voxel 0.5 x 0.5 x 2 µm.",
    "These are cultured astrocytes stained for GFAP and I want the nuclei counted.",
    "We grow HeLa cells on glass, so the nuclei are flat. Count the nuclei.",
    "Here is an image of a few macrophages. How many nuclei are there?",
])
def test_what_the_image_shows_is_not_a_second_kind(planner, request_: str) -> None:
    plan = planner.plan(request_, ImageMeta(z=8, pixel_size_um=0.5, z_step_um=2.0) if "stack" in request_ else META)
    assert not any("two kinds" in w for w in plan.not_understood), plan.not_understood
    assert any("what the image shows" in u for u in plan.understood)


@pytest.mark.parametrize("request_", [
    "This is a movie of spots in cells. Count the spots per cell.",  # the description relates two kinds
    "This is a stack of nuclei. Count the spots per nucleus.",  # the sample named again as a container
    "Count the spots in the HeLa cells.",  # the cell line's cells in a measured clause
    "I have a time-lapse of a vesicle moving along an axon. Track the axon.",
])
def test_two_related_kinds_stay_reported(planner, request_: str) -> None:
    plan = planner.plan(request_, META)
    assert any("two kinds" in w for w in plan.not_understood), plan.not_understood


# --- size words restating a stated limit (plan_numbers._restates_size_limit) -------------------------------------
@pytest.mark.parametrize(("request_", "canonical"), [
    ("Count the nuclei larger than 40 µm²; anything smaller is debris.", "Count the nuclei larger than 40 µm²."),
    ("The dish has some junk in it. Count the nuclei and drop everything under 40 µm².",
     "Count the nuclei and drop everything under 40 µm²."),
    ("Count the nuclei bigger than 40 µm²; the tiny specks are junk.", "Count the nuclei bigger than 40 µm²."),
])
def test_a_size_word_restating_the_stated_limit_plans_like_the_limit(planner, request_: str, canonical: str) -> None:
    plan = planner.plan(request_, META)
    assert plan.not_understood == [], plan.not_understood
    assert plan_core(plan) == plan_core(planner.plan(canonical, META))


@pytest.mark.parametrize("request_", [
    "Count the nuclei larger than 40 µm². How many are smaller?",  # asks for another count
    "Count the nuclei larger than 40 µm²; the big ones are clumps.",  # names objects the limit keeps
    "Count the nuclei; anything smaller is debris.",  # no stated limit
])
def test_size_words_that_ask_or_name_kept_objects_stay_reported(planner, request_: str) -> None:
    plan = planner.plan(request_, META)
    assert plan.not_understood, plan.understood


# --- colocalisation: its two channels and its scope (colocalisation.py) ---------------------------------------
TWO = ImageMeta(channels=2, pixel_size_um=0.5)


@pytest.mark.parametrize("request_", [
    "I stained actin and myosin. Compute Pearson's r between channel 1 and channel 2.",
    "Actin is in channel 1, myosin in channel 2. Give me Pearson's coefficient for the whole image.",
    "Do my two stains sit in the same places? Pearson's r between channel 1 and channel 2 please.",
])
def test_colocalisation_compares_the_two_named_channels_over_the_whole_image(planner, request_: str) -> None:
    plan = planner.plan(request_, TWO)
    assert plan.not_understood == [], plan.not_understood
    assert plan.kinds() == {"colocalisation"} and plan.inputs.channel == 0
    assert [m.channel for m in plan.measurements] == [1]


@pytest.mark.parametrize("request_", [
    "Give me the mean intensity over the whole image in channel 2 and count the nuclei in channel 1.",
    "Nuclei in channel 1, spots in channel 2: count the spots that overlap the nuclei.",
])
def test_whole_image_and_overlap_outside_colocalisation_stay_reported(planner, request_: str) -> None:
    assert planner.plan(request_, TWO).not_understood


# --- context ablation guards (context_words.py) -----------------------------------------------------------------
@pytest.mark.parametrize("sentence", [
    "The nuclei were stained with Hoechst, but the prep also had some grime. ",  # "but" joins two clauses
    "They sit two by two in the glurp. ",  # "two by two" is no quantity
    "We soaked the dish for 30 min in glurp. ",  # a duration the planner read is no plan quantity
])
def test_a_description_with_a_conjunction_an_idiom_or_a_duration_is_not_used(planner, sentence: str) -> None:
    plan = planner.plan(sentence + CANON, META)
    assert plan.not_understood == [] and plan.not_used, (plan.not_understood, plan.not_used)
    assert plan_core(plan) == plan_core(planner.plan(CANON, META))


@pytest.mark.parametrize("sentence", [
    "Count all but the glurpy nuclei. ",  # "but" = except: restricts
    "The glurp takes two frames per minute. ",  # a number the plan may need
])
def test_an_exception_or_a_rate_keeps_the_word_reported(planner, sentence: str) -> None:
    assert planner.plan(sentence + CANON, META).not_understood


# --- everyday wording of the border, the projection and touching pairs (data, plan_words._edge_of_cut_objects) ---
@pytest.mark.parametrize(("request_", "canonical"), [
    ("A few nuclei are chopped off by the top edge; count only the ones fully in view.",
     "Count the nuclei, excluding those touching the border."),
    ("Brightest-pixel projection of the stack, then count the nuclei.", "Max projection, then count the nuclei."),
    ("Collapse the stack by taking the brightest value through the depth, then count the nuclei.",
     "Max projection, then count the nuclei."),
    ("The nuclei clump in twos. Separate adjacent ones and count them.", "Split the touching nuclei and count them."),
])
def test_everyday_wording_plans_like_the_canonical_request(planner, request_: str, canonical: str) -> None:
    meta = ImageMeta(z=6, pixel_size_um=0.5) if "stack" in request_ else META
    plan = planner.plan(request_, meta)
    assert plan.not_understood == [], plan.not_understood
    assert plan_core(plan) == plan_core(planner.plan(canonical, meta))


@pytest.mark.parametrize("request_", [
    "Remove the nuclei at the left edge and count the rest.",  # only the left edge: not what the plan does
    "Collapse the stack, then count the spots at each position.",  # results per position
])
def test_a_region_or_a_grouping_without_its_context_stays_reported(planner, request_: str) -> None:
    assert planner.plan(request_, ImageMeta(z=6, pixel_size_um=0.5)).not_understood


# --- times of the sample's history, areas in words, translocations (plan_numbers, planner, translocation.py) -------
@pytest.mark.parametrize(("sentence", "canonical"), [
    ("The dish was treated for 4 h at day 3 of the culture. ", ""),
    ("The nuclei were glurped 48 h after plating. ", ""),
    ("Quick background: the glurp array was printed last week. ", ""),
])
def test_ages_and_durations_in_a_description_are_not_plan_quantities(planner, sentence: str, canonical: str) -> None:
    plan = planner.plan(sentence + CANON, META)
    assert plan.not_understood == [], plan.not_understood
    assert plan_core(plan) == plan_core(planner.plan(CANON, META))
    assert plan.meta.time_step_s is None


def test_hours_after_a_frame_word_are_the_frame_interval(planner) -> None:
    plan = planner.plan("Track the cells and give their speed in µm/s; one frame every 2 h, pixel 0.5 µm.",
                        ImageMeta(t=10))
    assert plan.meta.time_step_s == 7200.0


@pytest.mark.parametrize(("words", "px"), [("20 square microns", 80), ("20 square micrometres", 80),
                                            ("20 µm squared", 80), ("20 px", 20)])
def test_an_area_written_in_words_is_an_area_in_um2(planner, words: str, px: int) -> None:
    plan = planner.plan(f"Ignore every object smaller than {words} and count the cells.", META)
    assert plan.segmentation.min_size_px == px and plan.not_understood == []


@pytest.mark.parametrize("request_", [
    "Nuclei in channel 1; the marker in channel 2 moves into the nucleus after treatment. Give the mean "
    "channel 2 intensity inside each nucleus.",
    "Channel 2 is a reporter that goes into the nucleus. Mean intensity of channel 2 inside each nucleus "
    "(channel 1), please.",
])
def test_a_translocation_is_a_description_not_tracking(planner, request_: str) -> None:
    plan = planner.plan(request_, TWO)
    assert plan.not_understood == [] and plan.missing == [], (plan.not_understood, plan.missing)
    assert plan.kinds() == {"intensity"} and plan.inputs.time != "all"


@pytest.mark.parametrize("request_", [
    "The vesicles move into the cilium; track them and give their speed.",  # tracking asked
    "Count the cells that move into the wound.",  # no compartment, nothing else measured
    "How fast do the spots move towards the nucleus?",
])
def test_motion_that_is_the_request_stays_tracking(planner, request_: str) -> None:
    plan = planner.plan(request_, TWO)
    assert "tracking" in plan.kinds() or plan.not_understood, plan.understood


@pytest.mark.parametrize("preamble", ["Quick background: the slides are old. ", "Some background first: we use glass. "])
def test_background_as_context_for_the_reader_is_no_background_correction(planner, preamble: str) -> None:
    plan = planner.plan(preamble + CANON, META)
    assert plan.preprocessing.background is False and plan.not_understood == [], plan.understood


def test_a_background_step_after_a_colon_is_still_a_correction(planner) -> None:
    assert planner.plan("Subtract the background first, then " + CANON.lower(), META).preprocessing.background


# --- channels counted then named by ordinal, counts over the whole image, rates in words ------------------------
def test_the_first_one_and_the_second_one_after_a_channel_count_are_channels(planner) -> None:
    plan = planner.plan("My image has two channels, the first one holds the nuclei and the second one my reporter. "
                        "For every nucleus, the mean intensity of the second channel.", TWO)
    assert plan.not_understood == [], plan.not_understood
    assert plan.inputs.channel == 0 and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]


def test_a_count_over_the_whole_image_is_the_plans_count(planner) -> None:
    plan = planner.plan("How many nuclei are there in the whole image?", META)
    assert plan.not_understood == [] and plan.kinds() == {"count"}
    assert planner.plan("Give the mean intensity over the whole image and count the nuclei.", META).not_understood


def test_one_frame_every_minute_is_the_frame_interval(planner) -> None:
    plan = planner.plan("Track the cell, one frame every minute, 0.5 µm per pixel: its speed in µm per minute?",
                        ImageMeta(t=8))
    assert plan.meta.time_step_s == 60.0 and plan.missing == [], plan.missing


@pytest.mark.parametrize("request_", [
    "We culture astrocytes and stain them for GFAP. Count the nuclei.",
    "This is a z-stack through an organoid. Count the nuclei in 3D.",
])
def test_what_we_culture_or_a_stack_goes_through_is_the_sample(planner, request_: str) -> None:
    plan = planner.plan(request_, ImageMeta(z=6, pixel_size_um=0.5, z_step_um=1.0))
    assert not any("two kinds" in w for w in plan.not_understood), plan.not_understood


def test_objects_said_to_be_well_separated_are_not_split(planner) -> None:
    plan = planner.plan("The fibres are well separated. Give the skeleton length of each fibre in pixels.", META)
    assert plan.not_understood == [] and plan.segmentation.split_touching is False


def test_a_split_before_skeleton_lengths_is_reported(planner) -> None:
    # found by dev v42 (d42-19): a seeded watershed cut the dendrites into 51 pieces, and the run claimed ok
    plan = planner.plan("Separate the touching fibres and give the skeleton length of each fibre in pixels.", META)
    assert any("skeleton lengths" in w for w in plan.not_understood), plan.not_understood


def test_a_channel_defined_by_a_role_word_takes_that_role(planner) -> None:
    plan = planner.plan("Channel one is my nuclear stain and channel two is the protein I care about. For every "
                        "nucleus, how bright is the protein channel on average inside it?", TWO)
    assert plan.not_understood == [], plan.not_understood
    assert plan.inputs.channel == 0 and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]


def test_a_channel_that_is_not_the_subject_is_not_defined(planner) -> None:
    plan = planner.plan("What percent of the nuclei in channel 1 are also positive in channel 2?", TWO)
    assert plan.not_understood == [] and plan.inputs.channel == 0
    assert [(m.kind, m.channel) for m in plan.measurements if m.kind == "positivity"] == [("positivity", 1)]


@pytest.mark.parametrize("request_", [
    "I treated the cells with glurpamide overnight. How many nuclei are there?",
    "We just started imaging organoids in our cancer biology lab. Can you count the nuclei?",
])
def test_what_someone_did_to_the_sample_is_not_a_second_kind(planner, request_: str) -> None:
    plan = planner.plan(request_, META)
    assert plan.not_understood == [], plan.not_understood


def test_the_sample_handled_and_then_measured_per_object_stays_two_kinds(planner) -> None:
    plan = planner.plan("We stained the cells with DAPI. Count the spots per cell.", META)
    assert any("two kinds" in w for w in plan.not_understood)


@pytest.mark.parametrize("request_", [
    "For each hypha, the skeleton length in µm; pixel size 0.1 µm.",
    "Split the touching nuclei (watershed or whatever works) and count them.",
    "Sorry for the basic question, but how many nuclei are in this image?",
])
def test_object_names_hedges_and_apologies(planner, request_: str) -> None:
    assert planner.plan(request_, META).not_understood == []


def test_a_compartment_before_a_label_noun_describes_the_label(planner) -> None:
    plan = planner.plan("DAPI is in the first channel, a membrane marker in the second. For each nucleus, what "
                        "is the average signal of the membrane marker?", TWO)
    assert plan.not_understood == [] and [(m.kind, m.channel) for m in plan.measurements] == [("intensity", 1)]
    assert planner.plan("Measure the mean intensity at the membrane of each cell.", TWO).not_understood


@pytest.mark.parametrize("request_", [
    "These neurons were imaged live. Skeletonise the neurites and give their total length in µm, pixel 0.3 µm.",
    "The nuclei are very crowded and many of them overlap. Please separate them and count them.",
])
def test_a_sample_in_the_passive_and_overlap_before_a_split(planner, request_: str) -> None:
    assert planner.plan(request_, META).not_understood == []


@pytest.mark.parametrize(("request_", "pixel"), [
    ("One pixel is 0.108 µm; the camera has 6.5 µm pixels. Give the area of each nucleus in µm².", 0.108),
    ("A camera with 6.5 µm pixels, so one pixel is 0.108 µm. Give the area of each nucleus in µm².", 0.108),
    ("The 6.5 µm camera pixel gives 0.325 µm per pixel. Give the area of each nucleus in µm².", 0.325),
    ("The camera pixel is 0.2 µm at this magnification. Give the area of each nucleus in µm².", 0.2),
])
def test_the_camera_sensor_pixel_is_not_the_image_pixel(planner, request_: str, pixel: float) -> None:
    plan = planner.plan(request_, ImageMeta())
    assert plan.meta.pixel_size_um == pixel and plan.not_understood == [], plan.not_understood


def test_two_image_pixel_sizes_are_reported(planner) -> None:
    # before: the last one stated won silently
    plan = planner.plan("The pixel is 0.2 µm. Give the area of each nucleus in µm², one pixel is 0.3 µm.", ImageMeta())
    assert any("pixel sizes 0.2 and 0.3" in w for w in plan.not_understood)


def test_a_size_word_that_does_not_call_the_objects_junk_stays_reported(planner) -> None:
    plan = planner.plan("Count the nuclei larger than 40 µm²; the small ones matter as well.", META)
    assert plan.not_understood, plan.understood


@pytest.mark.parametrize(("request_", "reported"), [
    ("The beads in this stack are each in focus on a different slice. Project the stack and count the beads.", False),
    ("There is out-of-focus haze. Remove the background and count the nuclei.", False),
    ("Count only the nuclei that are in focus in this stack.", True),  # a subset of the nuclei
    ("Count the nuclei that are out of focus in this stack.", True),
])
def test_focus_describes_the_stack_but_never_hides_a_subset(planner, request_: str, reported: bool) -> None:
    plan = planner.plan(request_, ImageMeta(z=6, pixel_size_um=0.5))
    assert bool(plan.not_understood) is reported, plan.not_understood


@pytest.mark.parametrize("request_", [
    "Count the drug-treated cells.",  # a substance before the objects selects them
    "Count the cells on the agar pad but not those on the glass.",  # a surface is a place
    "How many nuclei are in the DMSO wells?",
])
def test_substances_and_surfaces_stay_reported(planner, request_: str) -> None:
    assert planner.plan(request_, META).not_understood


def test_a_history_phrase_after_an_acquisition_rate_is_when_the_data_were_taken(planner) -> None:
    movie = ImageMeta(t=10, pixel_size_um=0.5)
    plan = planner.plan("These cells were filmed every 30 s after drug treatment. How fast do they move, in µm/s?",
                        movie)
    assert plan.not_understood == [] and "drug" in plan.not_used, plan.not_understood
    for request_ in ("Track the cells after the drug addition, 30 s per frame, and give their speed in µm/s.",
                     "Track the cells imaged after the drug addition, 30 s per frame; their speed in µm/s?"):
        assert "drug" in planner.plan(request_, movie).not_understood  # which frames?


def test_two_kinds_listed_as_what_the_image_shows_stay_two_kinds(planner) -> None:
    # one channel holding nuclei and spots: counting "the spots" would count both
    plan = planner.plan("These are nuclei and spots. Count the spots.", META)
    assert any("two kinds" in w for w in plan.not_understood), plan.not_understood


@pytest.mark.parametrize("request_", ["These are nuclei. Count the spots.", "We imaged beads. Count the spots."])
def test_only_a_sample_or_a_container_is_what_the_image_shows(planner, request_: str) -> None:
    assert any("two kinds" in w for w in planner.plan(request_, META).not_understood)
