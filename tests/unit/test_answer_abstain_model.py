"""The learned abstention decision (scopebot.answer.abstain_model): features, the shipped model, the
threshold rule, and how assess_evidence uses a model. No real index or MiniLM needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scopebot.answer.abstain import Evidence, EvidenceDecision, assess_evidence, unseen_names
from scopebot.answer.abstain_model import FEATURES, AbstainModel, choose_threshold, features
from scopebot.answer.entities import EntityChecker
from scopebot.answer.qtype import is_writing_request
from scopebot.index.embeddings import HashEmbedder

PASSAGES = [
    Evidence("bk-00000001", "StarDist predicts star-convex polygons for nuclei. It struggles with elongated cells."),
    Evidence("bk-00000002", "Cellpose predicts flows that separate touching cells of irregular shape."),
]


def _model(bias: float, threshold: float = 0.5) -> AbstainModel:
    n = len(FEATURES)
    return AbstainModel(weights=(0.0,) * n, bias=bias, mean=(0.0,) * n, scale=(1.0,) * n,
                        threshold=threshold, embedder="all-MiniLM-L6-v2")


def test_features_follow_the_declared_layout() -> None:
    d = EvidenceDecision(abstain=False, score=0.4, writing_request=True)
    named = dict(zip(FEATURES, features(d), strict=True))
    assert named == {"score": 0.4, "writing_request": 1.0}


def test_the_shipped_model_loads_with_its_embedder_and_a_threshold() -> None:
    model = AbstainModel.load()
    assert 0.0 < model.threshold < 1.0 and len(model.weights) == len(FEATURES)
    assert model.embedder == "all-MiniLM-L6-v2" and not model.fits(HashEmbedder())
    weak = EvidenceDecision(abstain=False, score=0.15)
    strong = EvidenceDecision(abstain=False, score=0.6)
    assert model.answerable(weak) < model.threshold < model.answerable(strong)
    # the same passages answer a question better than a request to write a poem about their topic
    poem = EvidenceDecision(abstain=False, score=0.4, writing_request=True)
    assert model.answerable(poem) < model.answerable(EvidenceDecision(abstain=False, score=0.4))


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
    assert not high.abstain and high.answerable > 0.99
    fake = assess_evidence("How do I configure the CellMagic3000 plugin for Fiji?", PASSAGES, threshold=0.0,
                           model=_model(bias=5.0))
    assert fake.abstain and fake.missing_entities == ["CellMagic3000"]


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
