"""Checks that read meaning: polarity, antonyms, entities, numbers and units; whole-name matching."""

from __future__ import annotations

from test_answer_fixtures import PASSAGES

from scopebot.answer.entities import NameIndex
from scopebot.answer.meaning import clauses, conflicts, negated
from scopebot.answer.support import SupportScorer, check_sentence

N2V = PASSAGES["n2v"][3]
STARDIST = PASSAGES["stardist"][3]
TRACKMATE = PASSAGES["trackmate"][3]


def test_negation_words_are_meaning_not_stopwords() -> None:
    assert negated("No clean ground-truth images are needed.")
    assert not negated("Without a correct value, the lengths are wrong.")  # two negations cancel
    assert negated("This removes the need for clean targets.")
    assert clauses("A, and B because C") == ["A", "B", "C"]


def test_polarity_flip_is_a_conflict_and_the_faithful_claim_is_not() -> None:
    assert any(c.startswith("polarity") for c in conflicts("Clean ground-truth images are needed.", N2V))
    assert conflicts("No clean ground-truth images are needed for Noise2Void.", N2V) == []


def test_antonym_flip_is_a_conflict() -> None:
    passage = "Photobleaching increases with the excitation power. Pixels that are too large undersample the image."
    assert any(c.startswith("polarity") for c in conflicts("Photobleaching decreases with the excitation power.",
                                                           passage))
    assert any(c.startswith("polarity") for c in conflicts("Pixels that are too large oversample the image.",
                                                           passage))
    assert conflicts("Photobleaching increases with the excitation power.", passage) == []


def test_swapped_tool_is_an_entity_conflict() -> None:
    found = conflicts("Cellpose describes every nucleus as a star-convex polygon.", STARDIST)
    assert any(c.startswith("entity") for c in found)
    assert conflicts("StarDist describes every nucleus as a star-convex polygon.", STARDIST) == []


def test_wrong_number_and_wrong_unit_are_conflicts() -> None:
    passage = "The layer has 1458 kernel weights and 6 bias terms. Pixels of 100 nm sample it well."
    assert any(c.startswith("number") for c in conflicts("The layer has 1458 kernel weights and 12 bias terms.",
                                                          passage))
    assert any(c.startswith("number") for c in conflicts("Pixels of 100 µm sample it well.", passage))
    assert conflicts("The layer has 1458 kernel weights and 6 bias terms.", passage) == []


def test_subject_drift_is_caught_through_the_antecedent() -> None:
    passage = ("Noise2Noise pairs two noisy acquisitions of the same field. It trains the model using two noisy "
               "images. Noise2Void needs only single noisy images.")
    found = conflicts("Noise2Void trains the model using two noisy images.", passage)
    assert any(c.startswith("entity") for c in found)


def test_a_conflict_makes_a_high_scoring_sentence_unsupported() -> None:
    ctx = {"bk-aaaa1111": STARDIST}
    ok = check_sentence("StarDist describes every nucleus as a star-convex polygon [bk-aaaa1111].", ctx,
                        SupportScorer(None))
    bad = check_sentence("Cellpose describes every nucleus as a star-convex polygon [bk-aaaa1111].", ctx,
                         SupportScorer(None))
    assert ok is not None and ok.supported and not ok.conflicts
    assert bad is not None and not bad.supported and bad.conflicts


def test_names_match_whole_words_never_substrings() -> None:
    index = NameIndex("Cell segmentation with StarDist 2D and skimage.filters.threshold_otsu.")
    assert "CellSeg" not in index
    assert "StarDist2D" in index and "stardist" in index
    assert "skimage.filters.threshold_otsu" in index
    assert "Dist" not in index
