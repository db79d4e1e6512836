"""Abstention on conversational messages: context sentences, then the question (issue 16). The evidence is
matched with the whole message or with the part that asks, whichever fits better; only the asking part's
words and names count as missing evidence; abstention model v3 is fitted on conversational questions."""

from __future__ import annotations

import yaml

from scopebot.answer.abstain import Evidence, assess_evidence, unseen_names
from scopebot.answer.abstain_model import DEV_SETS_OF, TRAIN_SETS_OF, model_path
from scopebot.answer.entities import EntityChecker, metric_acronym
from scopebot.answer.focus import split_focus
from scopebot.index.embeddings import HashEmbedder

PASSAGES = [
    Evidence("bk-00000011", "Denoising restores low signal images: a network trained on pairs of noisy and clean "
                            "images removes shot noise. Self-supervised methods need only the noisy images."),
    Evidence("bk-00000012", "Lower laser power reduces bleaching and phototoxicity but gives noisier images."),
]
VOCAB = {"": 5000, "denois": 40, "nois": 80, "imag": 900, "network": 60, "train": 200, "pair": 30, "clean": 20,
         "shot": 15, "laser": 40, "power": 40, "bleach": 20, "phototox": 10, "low": 100, "signal": 90,
         "restor": 30, "self-supervis": 12, "stack": 50, "remov": 40, "method": 300, "taken": 60, "approach": 80,
         "help": 90}


def _decide(message: str) -> object:
    focus = split_focus(message)
    return assess_evidence(message, PASSAGES, threshold=0.0, embedder=HashEmbedder(), vocabulary=VOCAB,
                           asked=focus.asked if focus.has_context else None)


def test_words_that_only_describe_the_sample_are_not_missing_evidence() -> None:
    plain = _decide("How do I denoise stacks taken with low laser power?")
    told = _decide("We film zebrafish hearts on Mondays in the basement. "
                   "How do I denoise stacks taken with low laser power?")
    assert told.missing_words == plain.missing_words == []  # "zebrafish", "basement": context, not asked
    assert told.missing_names == []  # "Mondays" describes the session
    assert told.score >= plain.score - 0.05


def test_a_context_sentence_that_holds_the_topic_still_counts() -> None:
    message = "Our stacks are full of shot noise since we lowered the laser power. What should we try first?"
    assert not split_focus(message).has_context  # the asked part leans on its context: asked whole
    message = "Our stacks are full of shot noise since we lowered the laser power. Which approach helps most with such data?"
    focus = split_focus(message)
    assert focus.has_context
    whole = _decide(message)
    only_asked = assess_evidence(focus.asked, PASSAGES, threshold=0.0, embedder=HashEmbedder(), vocabulary=VOCAB)
    assert whole.coverage > only_asked.coverage  # the topic words are in the context sentence


def test_a_sentence_initial_capital_does_not_make_a_compound_a_name() -> None:
    vocab = {"resolution": 20, "bead": 20, "elongat": 20, "look": 20}  # "sub" is an English prefix
    checker = EntityChecker(names=[])
    assert unseen_names("Sub-resolution beads look elongated. Why?", vocab, checker) == []
    assert unseen_names("Why do Sub-Resolution beads look elongated?", vocab, checker) == ["Sub-Resolution"]


def test_the_shipped_v3_model_says_what_it_was_fitted_and_thresholded_on() -> None:
    data = yaml.safe_load(model_path("3").read_text(encoding="utf-8"))
    assert tuple(data["trained_on"]) == TRAIN_SETS_OF["3"] and "answers_abstain_train_v3.yaml" in data["trained_on"]
    assert tuple(data["dev_sets"]) == DEV_SETS_OF["3"] and "answers_dev_v4.yaml" in data["dev_sets"]
    assert data["train"]["false_abstention"] <= data["max_false_abstention"]


def test_the_shipped_v4_model_is_fitted_on_seen_sets_only_with_a_capped_word_penalty() -> None:
    data = yaml.safe_load(model_path("4").read_text(encoding="utf-8"))
    assert tuple(data["trained_on"]) == TRAIN_SETS_OF["4"] and data["missing_word_cap"] == 1
    assert "answers_dev_v6.yaml" in data["trained_on"] and "answers_holdout_v8.yaml" in data["trained_on"]
    # the round's blind held-out sets are never fitted on
    assert not {"answers_holdout_v9.yaml", "answers_holdout_v10.yaml"} & set(data["trained_on"])
    assert data["train"]["false_abstention"] <= data["max_false_abstention"]


def test_the_capped_missing_word_penalty_counts_one_word_and_numbers_are_no_missing_words() -> None:
    from scopebot.answer.abstain_model import AbstainModel

    q = "Honest question: does a denoising network trained on pairs of noisy and clean images remove weird shot noise?"
    plain = assess_evidence(q, PASSAGES, threshold=0.0, embedder=HashEmbedder(), vocabulary=VOCAB)
    assert plain.missing_words == ["honest", "weird"] and plain.score > 0
    numbers = assess_evidence("Does a denoising network trained on pairs remove 0.91 or 95% of the shot noise?",
                              PASSAGES, threshold=0.0, embedder=HashEmbedder(), vocabulary=VOCAB)
    assert numbers.missing_words == []  # quoted numbers are no missing evidence
    n = 5
    capped_model = AbstainModel(weights=(0.0,) * n, bias=0.0, mean=(0.0,) * n, scale=(1.0,) * n, threshold=0.0,
                                missing_word_cap=1)
    capped = assess_evidence(q, PASSAGES, threshold=0.0, embedder=HashEmbedder(), vocabulary=VOCAB,
                             model=capped_model)
    assert capped.missing_words == plain.missing_words
    assert round(capped.score - plain.score, 4) == 0.1  # one of the two missing words is penalised


def test_an_english_prefix_opens_a_plain_compound_but_a_name_part_keeps_it_a_name() -> None:
    vocab = {"linear": 20, "filter": 20, "blob": 20, "finder": 20}
    checker = EntityChecker(names=["napari"])
    assert unseen_names("Is a non-linear filter better here?", vocab, checker) == []
    assert unseen_names("Does the napari-blob-finder plugin work?", vocab, checker) == ["napari-blob-finder"]


def test_a_shape_or_size_description_is_not_a_name() -> None:
    """A new user's "rod-shaped cells" ended in an abstention about the name 'rod-shaped'."""
    vocab = {"rod": 4, "cell": 50, "bacteria": 20, "segment": 40}
    checker = EntityChecker(names=[])
    assert unseen_names("Is Omnipose better than Cellpose for rod-shaped cells?", vocab, checker) == []
    assert unseen_names("How do I count medium-sized bacteria?", vocab | {"medium": 9}, checker) == []


def test_a_phrase_joined_around_a_small_word_is_not_a_name_even_with_an_acronym() -> None:
    """dev v6: "the Janelia AI-in-microscopy book" ended in an abstention about the name 'AI-in-microscopy'."""
    vocab = {"ai": 30, "microscopy": 40, "book": 20, "split": 20, "galvo": 1, "angl": 2, "voltag": 1}
    checker = EntityChecker(names=[])
    assert unseen_names("How is the AI-in-microscopy book split up?", vocab, checker) == []
    # a part the sources hardly use keeps a joined phrase a name
    assert unseen_names("How do I set the voltage-to-angle gain?", vocab, checker) == ["voltage-to-angle"]


def test_a_measure_at_a_threshold_is_known_when_the_sources_name_the_measure() -> None:
    """dev v6: "AP50 and AP75" ended in an abstention about the names 'AP50', 'AP75'."""
    assert metric_acronym("AP50") == "AP" and metric_acronym("mAP75") == "AP"
    assert metric_acronym("BX51") is None and metric_acronym("IX83") is None  # microscope stands, not measures
    vocab = {"ap": 1, "score": 40, "drop": 10}
    decided = assess_evidence("The paper reports AP50 and AP75. Why does the score drop?", PASSAGES, threshold=0.0,
                              embedder=HashEmbedder(), vocabulary=vocab)
    assert decided.missing_entities == []
    unknown = assess_evidence("The paper reports XQ50. Why does the score drop?", PASSAGES, threshold=0.0,
                              embedder=HashEmbedder(), vocabulary=vocab)
    assert unknown.missing_entities == ["XQ50"]
