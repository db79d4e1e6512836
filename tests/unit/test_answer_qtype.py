"""Question types, comparison sides and subjects (cue phrases are data in data/question_types.yaml)."""

from __future__ import annotations

import pytest

from scopebot.answer.qtype import classify, comparison_sides, shape_hint, subject_of


@pytest.mark.parametrize(("question", "kind"), [
    ("What pixel size do I need for NA 1.4 at 520 nm?", "compute"),
    ("How many parameters does a 9x9 convolution layer from 3 to 6 channels have?", "compute"),
    ("Cellpose or StarDist for DAPI nuclei in confocal?", "comparison"),
    ("What is the difference between Noise2Noise and Noise2Void?", "comparison"),
    ("Which tool can segment nuclei in 3D without writing code?", "which_tool"),
    ("How do I avoid overfitting a U-Net trained on 20 images?", "howto"),
    ("What is a star-convex polygon?", "definition"),
    ("Why does restoration of live samples matter?", "conceptual"),
])
def test_question_kinds(question: str, kind: str) -> None:
    assert classify(question).kind == kind


def test_comparison_sides_and_topic() -> None:
    sides, topic = comparison_sides("Cellpose or StarDist for DAPI nuclei in confocal?")
    assert sides == ["Cellpose", "StarDist"] and "DAPI nuclei" in topic
    assert comparison_sides("Should I pick CARE or Noise2Void if I cannot get clean images?")[0] == ["CARE", "Noise2Void"]
    assert comparison_sides("What is the difference between Noise2Noise and Noise2Void?")[0] == \
        ["Noise2Noise", "Noise2Void"]
    assert comparison_sides("Noise2Noise or Noise2Void - which one needs two noisy images?")[0] == \
        ["Noise2Noise", "Noise2Void"]


def test_an_or_without_two_sides_is_not_a_comparison() -> None:
    assert classify("How do I open a TIFF or?").kind != "comparison"


def test_subject_and_generative_shape() -> None:
    assert subject_of("What does Noise2Void need for training?") == "Noise2Void"
    qt = classify("Cellpose or StarDist for nuclei?")
    assert "Cellpose" in shape_hint(qt) and "StarDist" in shape_hint(qt)
    assert shape_hint(classify("Why is the sky blue?")) == ""


def test_compare_that_opens_a_clause_compares_nothing() -> None:
    assert comparison_sides("What should the loss compare when I train a network to denoise, and which are used?") \
        == ([], "")
    assert comparison_sides("Compare Otsu with Li thresholding for faint cells.")[0] == ["Otsu", "Li thresholding"]


@pytest.mark.parametrize("question", [
    "Can I compare intensities between images taken on different days with different laser settings?",
    "Should I compare cells between the two conditions with a t-test?",
])
def test_a_yes_no_question_about_comparing_is_not_an_a_or_b_choice(question: str) -> None:
    # "between X with Y" names no two sides: the answer must not be laid out as "X: not found / Y: not found"
    assert classify(question).kind != "comparison"


def test_between_and_compare_still_name_two_sides() -> None:
    assert classify("What is the difference between Noise2Noise and Noise2Void?").sides == ["Noise2Noise",
                                                                                             "Noise2Void"]
    assert classify("Compare StarDist to Cellpose for nuclei.").sides == ["StarDist", "Cellpose"]
