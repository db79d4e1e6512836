"""The learned abstention decision (scopebot.answer.abstain_model): features, the shipped model, the
threshold rule, and how assess_evidence uses a model. No real index or MiniLM needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.answer.abstain import (
    Evidence,
    EvidenceDecision,
    assess_evidence,
    passage_coverage,
    sentence_similarity,
    unseen_names,
)
from scopebot.answer.abstain_model import VERSIONS, AbstainModel, choose_threshold, features, model_path
from scopebot.answer.entities import EntityChecker
from scopebot.answer.qtype import is_time_anchored, is_writing_request
from scopebot.errors import ConfigurationError
from scopebot.index.embeddings import HashEmbedder

PASSAGES = [
    Evidence("bk-00000001", "StarDist predicts star-convex polygons for nuclei. It struggles with elongated cells."),
    Evidence("bk-00000002", "Cellpose predicts flows that separate touching cells of irregular shape."),
]


def _model(bias: float, threshold: float = 0.5, version: str = "2") -> AbstainModel:
    n = len(VERSIONS[version])
    return AbstainModel(weights=(0.0,) * n, bias=bias, mean=(0.0,) * n, scale=(1.0,) * n,
                        threshold=threshold, embedder="all-MiniLM-L6-v2", features=VERSIONS[version])


def test_features_follow_the_declared_layout() -> None:
    d = EvidenceDecision(abstain=False, score=0.4, writing_request=True, passage_coverage=0.7)
    named = dict(zip(VERSIONS["2"], features(d, VERSIONS["2"]), strict=True))
    assert named["score"] == 0.4 and named["writing_request"] == 1.0 and named["passage_coverage"] == 0.7
    assert np.isnan(named["sentence_similarity"])  # not measured: NaN, never a silent 0
    assert list(features(d, VERSIONS["1"])) == [0.4, 1.0]


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_each_shipped_version_loads_with_its_embedder_and_a_threshold(version: str) -> None:
    model = AbstainModel.load(version=version)
    assert model.features == VERSIONS[version] and len(model.weights) == len(VERSIONS[version])
    assert 0.0 < model.threshold < 1.0
    assert model.embedder == "all-MiniLM-L6-v2" and not model.fits(HashEmbedder())
    measured = {"sentence_similarity": 0.5, "passage_coverage": 0.5}
    weak = EvidenceDecision(abstain=False, score=0.15, sentence_similarity=0.2, passage_coverage=0.1)
    strong = EvidenceDecision(abstain=False, score=0.6, sentence_similarity=0.7, passage_coverage=0.8)
    assert model.answerable(weak) < model.threshold < model.answerable(strong)
    # the same passages answer a question better than a request to write a poem about their topic
    poem = EvidenceDecision(abstain=False, score=0.4, writing_request=True, **measured)
    assert model.answerable(poem) < model.answerable(EvidenceDecision(abstain=False, score=0.4, **measured))


def test_the_default_is_version_3_and_it_rewards_evidence_that_addresses_the_question() -> None:
    model = AbstainModel.load()
    assert model.features == VERSIONS["3"] and model_path("3").name == "abstain_model_v3.yaml"
    # same topic and overall score; only the best sentence and the best passage say what was asked
    near = EvidenceDecision(abstain=False, score=0.5, sentence_similarity=0.25, passage_coverage=0.15)
    addressed = EvidenceDecision(abstain=False, score=0.5, sentence_similarity=0.7, passage_coverage=0.8)
    assert model.answerable(near) < model.threshold < model.answerable(addressed)
    # the sources are fixed: the same evidence answers a question tied to a moment less well
    later = addressed.model_copy(update={"time_anchored": True})
    assert model.answerable(later) < model.answerable(addressed)
    with pytest.raises(ConfigurationError, match="no abstention model version"):
        AbstainModel.load(version="9")


def test_passage_coverage_wants_the_asked_detail_and_the_topic_in_one_passage() -> None:
    q = "Which driver version does Cellpose need?"
    vocab = {"driver": 2, "version": 5, "cellpos": 40, "need": 300, "": 1000}
    scattered = ["Cellpose segments cells of many shapes.", "Update the graphics driver to the latest version."]
    together = ["Cellpose needs driver version 5 or later.", "Cellpose segments cells of many shapes."]
    assert passage_coverage(q, together, vocab) > passage_coverage(q, scattered, vocab)
    assert passage_coverage(q, together, vocab) == pytest.approx(1.0)
    # the rare word ("driver") weighs more than the common one ("cellpose")
    assert passage_coverage(q, ["The graphics driver version."], vocab) > \
        passage_coverage(q, ["Cellpose is a tool."], vocab)
    assert passage_coverage(q, [], vocab) == 0.0 and passage_coverage("", together, vocab) == 0.0


def test_sentence_similarity_is_the_best_single_sentence() -> None:
    q = "Why does StarDist struggle with elongated cells?"
    e = HashEmbedder()
    best = sentence_similarity(q, [PASSAGES[1].text, "Why does StarDist struggle with elongated cells? It does."], e)
    other = sentence_similarity(q, [PASSAGES[1].text], e)
    assert best == pytest.approx(1.0, abs=1e-5) and other < best
    assert sentence_similarity(q, ["short"], e) == 0.0


def test_only_a_model_that_needs_the_measures_takes_them() -> None:
    q = "Why does StarDist struggle with elongated cells?"
    v2 = assess_evidence(q, PASSAGES, threshold=0.0, embedder=HashEmbedder(), model=_model(bias=5.0))
    assert v2.sentence_similarity is not None and v2.passage_coverage is not None and v2.passage_coverage > 0.5
    v1 = assess_evidence(q, PASSAGES, threshold=0.0, embedder=HashEmbedder(), model=_model(bias=5.0, version="1"))
    assert v1.sentence_similarity is None and v1.passage_coverage is None and not v1.abstain


def test_a_measure_that_could_not_be_taken_counts_as_its_training_mean() -> None:
    model = AbstainModel(weights=(1.0, 0.0, 3.0, 0.0, 0.0), bias=0.0, mean=(0.5, 0.0, 0.4, 0.3, 0.0),
                         scale=(0.2, 1.0, 0.1, 0.2, 1.0), threshold=0.5, embedder="x", features=VERSIONS["2"])
    unmeasured = EvidenceDecision(abstain=False, score=0.5, passage_coverage=0.3)
    assert model.answerable(unmeasured) == pytest.approx(0.5)


def test_threshold_keeps_false_abstention_within_the_allowed_share() -> None:
    p = np.array([0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.96, 0.97, 0.2, 0.05])
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0])
    t = choose_threshold(p, y, max_false=0.1)
    assert np.mean(p[y > 0] < t) <= 0.1 and t > 0.1
    assert np.mean(p[y == 0] < t) == 1.0


def test_a_model_decides_instead_of_the_threshold_but_names_still_abstain_by_rule() -> None:
    q = "Why does StarDist struggle with elongated cells?"
    low = assess_evidence(q, PASSAGES, threshold=0.0, embedder=HashEmbedder(), model=_model(bias=-5.0))
    high = assess_evidence(q, PASSAGES, threshold=1.0, embedder=HashEmbedder(), model=_model(bias=5.0))
    assert low.abstain and "probability" in low.reason and low.answerable is not None
    assert low.reason.startswith("none of the passages I found answers this question")  # plain words first
    assert not high.abstain and high.answerable > 0.99
    fake = assess_evidence("How do I configure the CellMagic3000 plugin for Fiji?", PASSAGES, threshold=0.0,
                           model=_model(bias=5.0))
    assert fake.abstain and fake.missing_entities == ["CellMagic3000"]


def test_questions_tied_to_a_moment_are_told_from_questions() -> None:
    assert is_time_anchored("How many GPUs does the cluster have at the moment?")
    assert is_time_anchored("Which Python version will napari drop in its 2027 releases?")
    assert is_time_anchored("when will the next release of Fiji be out, and what is upcoming?")
    assert not is_time_anchored("How do I tile a 2048 x 2048 image for a U-Net?")  # a width, not a year
    assert not is_time_anchored("What is the difference between a current and a voltage clamp?")
    assert not is_time_anchored("How does Noise2Void denoise without clean images?")


def test_writing_requests_are_told_from_questions() -> None:
    assert is_writing_request("Write a limerick about a confocal microscope.")
    assert is_writing_request("compose a haiku about nuclei")
    assert not is_writing_request("What is a write-once file format?")
    assert not is_writing_request("How do I write a macro loop in Fiji?")


def test_a_hyphenated_word_in_another_inflection_is_not_an_unseen_name() -> None:
    vocab = {"fine-tuning": 4, "book": 10, "": 1000}
    q = "the book fine-tunes a small model - how big was it?"
    assert unseen_names(q, vocab, EntityChecker()) == []
    assert unseen_names("does the napari-nucleus-wizard plugin work?", vocab, EntityChecker()) == \
        ["napari-nucleus-wizard"]


def test_the_pipeline_uses_an_injected_model_not_the_one_fitted_for_minilm(tmp_path: Path) -> None:
    from test_answer_fixtures import retriever, settings, small_model

    from scopebot.answer.pipeline import AnswerPipeline

    q = "How does Noise2Void denoise without clean images?"
    plain = AnswerPipeline(retriever(), small_model(), settings(tmp_path))
    assert plain.abstain_model is None  # the shipped model was fitted on MiniLM similarities, not these
    assert not plain.answer(q).abstained
    doubtful = AnswerPipeline(retriever(), small_model(), settings(tmp_path), abstain_model=_model(bias=-5.0))
    answer = doubtful.answer(q)
    assert answer.abstained and "probability" in answer.abstain_reason
    sure = AnswerPipeline(retriever(), small_model(), settings(tmp_path), abstain_model=_model(bias=5.0))
    assert not sure.answer(q).abstained


def test_settings_pick_the_model_version(tmp_path: Path) -> None:
    from test_answer_fixtures import retriever, settings, small_model

    from scopebot.answer.pipeline import AnswerPipeline

    minilm_named = HashEmbedder()
    minilm_named.name = "all-MiniLM-L6-v2"  # the shipped models' embedder, so they are used
    default = AnswerPipeline(retriever(), small_model(), settings(tmp_path), embedder=minilm_named)
    assert default.abstain_model is not None and default.abstain_model.features == VERSIONS["4"]
    assert default.abstain_model == AbstainModel.load(version="4") and default.abstain_model.missing_word_cap == 1
    assert AbstainModel.load(version="3").missing_word_cap is None  # older fits keep the uncapped score
    old = AnswerPipeline(retriever(), small_model(), settings(tmp_path, answer_abstention_model="1"),
                         embedder=minilm_named)
    assert old.abstain_model is not None and old.abstain_model.features == VERSIONS["1"]
    rule = AnswerPipeline(retriever(), small_model(), settings(tmp_path, answer_abstention="threshold"),
                          embedder=minilm_named)
    assert rule.abstain_model is None


def test_a_lowercase_compound_of_common_words_describes_and_does_not_name() -> None:
    """A new user's "low-laser-power time-lapse images" was refused as an unknown name."""
    common = ["low", "laser", "power", "light", "imag", "denois", "noisi", "nucleus", "finder", "blob"]
    vocab = {w: 20 for w in common} | {"napari": 20, "cell": 20, "seg": 20}
    checker = EntityChecker(names=["napari"])
    assert unseen_names("How do I denoise noisy low-laser-power images?", vocab, checker) == []
    assert unseen_names("Does the napari-blob-finder work on 3D?", vocab, checker) == ["napari-blob-finder"]
    assert unseen_names("Is Cell-Seg good for nuclei?", vocab, checker) == ["Cell-Seg"]
    rare = vocab | {"laser": 2}  # a part the sources hardly use: the compound may be a name
    assert unseen_names("How do I denoise noisy low-laser-power images?", rare, checker) == ["low-laser-power"]


def test_a_model_file_that_does_not_fit_the_code_says_how_to_fix_it(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(model_path("2").read_text(encoding="utf-8"))
    data["features"] = ["score"]
    bad = tmp_path / "abstain_model_v2.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        AbstainModel.read(bad, VERSIONS["2"], "model")
    assert "restart scopebot" in err.value.hint and "python -m scopebot.answer.abstain_model" in err.value.hint
