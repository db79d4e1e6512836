"""The learned support check's paraphrase-aware parts: restated training claims, opposites that trade
places, stemmed opposites, the human-answer calibration and the calibrated support-score floor.

Claims and passages are written in our own words.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from scopebot.answer.support_data import paraphrase, trade_places
from scopebot.answer.support_features import FEATURE_NAMES, antonym_swaps, lexicon, pair_features, role_swap
from scopebot.answer.support_human import FLOORS, HUMAN_SETS, human_rates, pick
from scopebot.answer.support_model import SupportModel, default_support_model
from scopebot.evals.suites.hallucination import load_hallucination_dataset
from scopebot.settings import PROJECT_ROOT

DS = PROJECT_ROOT / "evals" / "datasets"
RATE = "A high learning rate may overshoot the minimum, while a low one converges slowly."


def test_a_restatement_changes_the_wording_but_keeps_numbers_and_names() -> None:
    rng = random.Random(4)
    s = "StarDist predicts 32 distances for each pixel and needs a trained model."
    outs = [paraphrase(s, lexicon(), rng) for _ in range(20)]
    assert any(o and o != s for o in outs)
    assert all("32" in o and "StarDist" in o for o in outs if o)


def test_an_unsupported_claim_keeps_its_change_when_restated() -> None:
    rng = random.Random(1)
    wrong = "Noise2Void does not need clean images for training."
    outs = [paraphrase(wrong, lexicon(), rng, faithful=False) for _ in range(20)]
    assert all("not" in o for o in outs if o)


def test_opposites_that_trade_places_are_written_and_detected() -> None:
    swapped = trade_places(RATE, lexicon())
    assert swapped == "A low learning rate may overshoot the minimum, while a high one converges slowly."
    assert role_swap(swapped, RATE) > 0
    assert role_swap(RATE, RATE) == 0
    x = pair_features(swapped, RATE)
    assert x[FEATURE_NAMES.index("role_swap")] > 0


def test_opposites_match_as_stems() -> None:
    assert antonym_swaps("Otsu maximises the variance within each class.",
                         "It picks the value minimising the variance within each class.") == 1
    assert antonym_swaps("It minimises the variance.", "It picks the value minimising the variance.") == 0


def _rows() -> list[dict]:
    x = np.zeros(len(FEATURE_NAMES), np.float32)
    return [{"set": "a", "item": "a::1", "label": 0, "score": 0.9, "x": x},
            {"set": "a", "item": "a::2", "label": 0, "score": 0.32, "x": x},
            {"set": "a", "item": "a::3", "label": 1, "score": 0.9, "x": x},
            {"set": "a", "item": "a::3", "label": 1, "score": 0.9, "x": x},
            {"set": "a", "item": "a::4", "label": 1, "score": 0.2, "x": x}]


def test_human_rates_count_answers_and_any_flagged_sentence_flags_the_answer() -> None:
    p = np.array([0.1, 0.1, 0.2, 0.9, 0.1])
    r = human_rates(_rows(), p, 0.5, 0.3)
    assert r == {"faithful_not_flagged": 1.0, "recall_unsupported": 1.0, "faithful": 2, "unsupported": 2}
    assert human_rates(_rows(), p, 0.5, 0.5)["faithful_not_flagged"] == 0.5


def test_pick_reaches_the_faithful_target_then_maximises_recall() -> None:
    p = np.array([0.1, 0.1, 0.2, 0.9, 0.1])
    t, floor = pick(_rows(), p, lambda t, f: True, target=1.0)
    r = human_rates(_rows(), p, t, floor)
    assert r["faithful_not_flagged"] == 1.0 and r["recall_unsupported"] == 1.0
    assert floor in FLOORS and floor < 0.32
    t, floor = pick(_rows(), p, lambda t, f: t >= 0.95, target=1.0)  # the generated constraint rules out t < 0.95
    assert t >= 0.95


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


def test_the_calibrated_floor_applies_only_with_the_cosine_it_was_calibrated_with() -> None:
    model = default_support_model()
    assert model is not None and model.support_floor is not None
    assert model.floor_for(None, 0.5) == 0.5
    assert model.floor_for(_Named("another-embedder"), 0.5) == 0.5
    assert model.floor_for(_Named(model.embedder_name), 0.5) == min(0.5, model.support_floor)
    assert model.floor_for(_Named(model.embedder_name), 0.1) == 0.1


def test_a_model_without_a_floor_keeps_the_configured_threshold(tmp_path: Path) -> None:
    from scopebot.agent.classifier import RouteClassifier
    from scopebot.answer.support_model import MODEL_PATH

    clf = RouteClassifier.load(MODEL_PATH)
    clf.meta = {k: v for k, v in clf.meta.items() if k != "support_floor"}
    clf.save(tmp_path / "m.npz")
    model = SupportModel.load(tmp_path / "m.npz")
    assert model.support_floor is None and model.floor_for(_Named(model.embedder_name), 0.5) == 0.5


def test_the_dev_set_is_balanced_and_the_unseen_held_out_set_is_never_read() -> None:
    ds = load_hallucination_dataset(DS / "hallucination_dev_v1.yaml")
    wrong = [it for it in ds.items if it.labels.get("unsupported")]
    clean = [it for it in ds.items if not any(it.labels.values())]
    assert len(wrong) == 30 and len(clean) == 30 and len(ds.passages) == 10
    assert "hallucination_dev_v1.yaml" in HUMAN_SETS
    assert not any("holdout_v3" in s for s in HUMAN_SETS)
