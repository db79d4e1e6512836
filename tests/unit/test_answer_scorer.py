"""The learned sentence scorer: versioned weights load, fitting finds the signal, labels follow key facts."""

from __future__ import annotations

import numpy as np

from scopebot.answer.context import build_context
from scopebot.answer.extractive import ExtractiveSynthesizer, candidates
from scopebot.answer.qtype import classify
from scopebot.answer.scorer import FEATURES, SentenceScorer, fit, labels
from scopebot.citations import make_key
from scopebot.index.embeddings import HashEmbedder
from scopebot.index.models import Chunk, SearchResult


def _result(body: str, section: str) -> SearchResult:
    c = Chunk(key=make_key("book", section, body), source_id="test-book", kind="book", title="Training",
              section=section, breadcrumb=f"Test › Training › {section}", url="https://example.org/x",
              text=f"Test › Training\n{body}")
    return SearchResult(chunk=c, score=1.0, rank=1)


def test_shipped_weights_load_and_score_probabilities() -> None:
    scorer = SentenceScorer.load()
    assert len(scorer.weights) == len(FEATURES)
    p = scorer.score(np.zeros((3, len(FEATURES))))
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))
    sem = FEATURES.index("sem")
    low, high = np.zeros((1, len(FEATURES))), np.zeros((1, len(FEATURES)))
    high[0, sem] = 0.9
    assert scorer.score(high)[0] > scorer.score(low)[0]  # a sentence closer to the question ranks higher


def test_fit_finds_the_informative_feature() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 1] > 0).astype(float)
    model = fit(x, y)
    assert abs(model.weights[1]) > 5 * max(abs(model.weights[0]), abs(model.weights[2]))
    assert np.mean((model.score(x) > 0.5) == (y > 0)) > 0.9


def test_labels_count_key_facts_the_question_does_not_already_contain() -> None:
    got = labels(["The learning rate sets how far the weights move.", "Learning rate is a setting."],
                 "What does the learning rate control?", [["weights"], ["learning rate"]])
    assert got.tolist() == [1.0, 0.0]


def test_features_have_one_column_per_feature_and_the_learned_scorer_ranks() -> None:
    body = ("The learning rate sets how much the weights change at each training step. "
            "A high learning rate trains fast but may overshoot the best solution. "
            "In the next section we will look at other settings of the learning process.")
    passages = build_context([_result(body, "Choosing hyperparameters")])
    cands = candidates(passages)
    synth = ExtractiveSynthesizer(HashEmbedder(), scorer=SentenceScorer.load(), max_sentences=2, min_sentences=1)
    x, eligible, vecs = synth.features("What does the learning rate control?", cands,
                                       classify("What does the learning rate control?"))
    assert x.shape == (len(cands), len(FEATURES)) and eligible[:2].all() and vecs is not None
    assert x[:, FEATURES.index("signpost")].tolist() == [0.0, 0.0, 1.0]
    question = "What does the learning rate control?"
    picked = synth.select(question, passages, classify(question))
    assert picked and all("next section" not in c.text for c in picked)


def test_the_learned_scorer_is_used_only_with_the_embedder_it_was_fitted_with() -> None:
    scorer = SentenceScorer.load()
    assert scorer.embedder == "all-MiniLM-L6-v2"
    assert not scorer.fits(HashEmbedder())
    assert scorer.fits(type("MiniLM", (), {"name": "all-MiniLM-L6-v2"})())


def test_a_rare_binary_feature_cannot_swamp_the_score() -> None:
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.normal(size=500), np.zeros(500)])
    x[0, 1] = 1.0  # one example of a rare 0/1 feature, a negative one
    y = (x[:, 0] > 0).astype(float)
    y[0] = 0.0
    model = fit(x, y)
    assert model.mean[1] == 0.0 and model.scale[1] == 1.0  # kept as 0/1, not standardised
    assert abs(model.weights[1]) < 1.0
