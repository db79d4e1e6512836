"""The learned support check: its features, its training-pair generator, the shipped model's verdicts.

Claims and passages are written in our own words. These tests run the shipped model without an embedder
(the lexical features only: the model is trained with and without the MiniLM cosine).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from test_answer_fixtures import PASSAGES

from scopebot.agent.classifier import RouteClassifier
from scopebot.answer.support import SupportScorer, check_sentence
from scopebot.answer.support_data import (
    SourcePassage,
    change_number,
    make_pairs,
    negate,
    split_of,
    swap_subject,
)
from scopebot.answer.support_features import (
    FEATURE_NAMES,
    antonym_swaps,
    binding_mismatch,
    lexicon,
    pair_features,
)
from scopebot.answer.support_model import CARD_PATH, MODEL_PATH, SupportModel, default_support_model
from scopebot.answer.text import split_sentences
from scopebot.errors import ConfigurationError

SAMPLING = ("Sampling section\nEach pixel should be two to three times smaller than the finest structure. "
            "Pixels that are too large undersample the image. Photobleaching increases with the excitation power. "
            "Segmentation comes before measurement. A conv layer with 3 input channels and 6 filters of 9 by 9 "
            "pixels has 1458 weights. Higher laser power gives brighter images but more bleaching.")


def _flagged(claim: str, passage: str) -> bool:
    scorer = SupportScorer(None)
    verdict = check_sentence(f"{claim} [bk-aaaa1111]", {"bk-aaaa1111": passage}, scorer)
    assert verdict is not None
    return not verdict.supported


def test_the_shipped_model_loads_with_its_card_and_threshold() -> None:
    model = default_support_model()
    assert model is not None, "data/support_model.npz is missing: run `scopebot support train`"
    card = json.loads(CARD_PATH.read_text(encoding="utf-8"))
    assert card["features"] == list(FEATURE_NAMES) and card["lexicon_version"] == lexicon().version
    assert 0.0 < model.threshold < 1.0 and model.threshold == card["threshold"]
    assert model.threshold_no_cosine == card["threshold_no_cosine"]
    assert model.threshold_for(None) == model.threshold_no_cosine
    assert model.support_floor == card["support_floor"]
    dev = card["splits"]["dev"]
    cal = card["calibration"]
    assert dev["with_cosine"]["false_flag_rate"] <= cal["max_generated_false_flag"] + 1e-9
    assert all(dev["with_cosine"]["by_kind"][k]["flagged"] == 0 for k in cal["copy_kinds"])
    assert dev["without_cosine"]["false_flag_rate"] <= card["target_false_flag_rate_no_cosine"] + 1e-9
    assert "hallucination_dev_v1.yaml" in cal["human_sets"] and "all" in cal["human_cross_fitted"]
    assert not any("holdout_v3" in s for s in cal["human_sets"])


def test_a_model_for_another_feature_layout_is_refused(tmp_path: Path) -> None:
    clf = RouteClassifier.load(MODEL_PATH)
    clf.meta = {**clf.meta, "feature_version": -1}
    clf.save(tmp_path / "m.npz")
    with pytest.raises(ConfigurationError):
        SupportModel.load(tmp_path / "m.npz")


def test_sentences_copied_from_the_passage_are_never_flagged() -> None:
    for _, _, _, text in PASSAGES.values():
        for s in split_sentences(text):
            if len(s.split()) >= 5 and not s.startswith("`"):
                assert not _flagged(s, text), s
    for s in split_sentences(SAMPLING)[1:]:
        assert not _flagged(s, SAMPLING), s


@pytest.mark.parametrize("claim", [
    "Each pixel should be two to three times larger than the finest structure.",        # smaller / larger
    "Photobleaching decreases with the excitation power.",                              # increases / decreases
    "Segmentation comes after measurement.",                                            # before / after
    "Lower laser power gives brighter images but more bleaching.",                      # higher / lower
    "Pixels that are too large oversample the image.",                                  # under / over
    "Photobleaching does not increase with the excitation power.",                      # negation added
])
def test_opposites_and_negations_are_flagged(claim: str) -> None:
    assert _flagged(claim, SAMPLING)


def test_wrong_numbers_and_numbers_on_the_wrong_subject_are_flagged() -> None:
    assert _flagged("A conv layer with 3 input channels and 6 filters of 9 by 9 pixels has 2916 weights.", SAMPLING)
    assert binding_mismatch("A conv layer with 6 input channels and 3 filters has 1458 weights.", SAMPLING) > 0
    assert binding_mismatch("A conv layer with 3 input channels and 6 filters has 1458 weights.", SAMPLING) == 0


def test_a_swapped_tool_is_flagged() -> None:
    stardist = PASSAGES["stardist"][3]
    assert _flagged("Cellpose describes every nucleus as a star-convex polygon.", stardist)
    assert not _flagged("StarDist describes every nucleus as a star-convex polygon.", stardist)


def test_features_have_the_declared_layout_and_read_the_lexicon() -> None:
    x = pair_features("Photobleaching decreases with power.", SAMPLING)
    assert x.shape == (len(FEATURE_NAMES),) and np.isfinite(x).all()
    assert x[FEATURE_NAMES.index("has_cos")] == 0.0
    assert antonym_swaps("the smallest object", "the largest object") == 1
    assert antonym_swaps("the largest object", "the largest object") == 0


def test_generated_claims_change_what_they_say_and_documents_stay_in_one_split() -> None:
    rng = random.Random(0)
    assert negate("The network can predict the signal.", rng) == "The network can not predict the signal."
    assert negate("The noise is not correlated.", rng) == "The noise is correlated."
    changed = change_number("It has 1458 weights.", rng)
    assert changed and "1458" not in changed
    assert swap_subject("The pixel size is the sampling step.", "Otsu's method uses the histogram.") \
        == "Otsu's method is the sampling step."
    assert split_of("janelia-book::Chapter 3") == split_of("janelia-book::Chapter 3")
    texts = [SAMPLING] + [text for _, _, _, text in PASSAGES.values()]
    passages = [SourcePassage(document=f"doc{i}", heading="H", text=t, sentences=split_sentences(t))
                for i, t in enumerate(texts)]
    pairs = make_pairs(passages, seed=1)
    assert {p.label for p in pairs} == {0, 1}
    splits: dict[str, set[str]] = {}
    for p in pairs:
        splits.setdefault(p.document, set()).add(p.split)
    assert all(len(s) == 1 for s in splits.values())
    assert all(p.claim.strip() != s for p in pairs if p.label == 1 for s in split_sentences(p.passage))


def test_a_bare_block_header_carries_no_claim() -> None:
    scorer = SupportScorer(None)
    assert scorer.is_trivial("**Unsupervised learning**:")
    assert not scorer.is_trivial("**Noise2Void**: It predicts masked pixels from their neighbours.")
    verdict = check_sentence("**Unsupervised learning**:", {"bk-aaaa1111": "Supervised learning needs labels."},
                             scorer)
    assert verdict is not None and verdict.supported
