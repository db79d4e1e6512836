"""The learned support check: P(claim unsupported by passage) from :mod:`scopebot.answer.support_features`.

A logistic regression or small MLP (the router's numpy :class:`scopebot.agent.classifier.RouteClassifier`)
trained by ``scopebot support train`` (:mod:`scopebot.answer.train_support`) on pairs written from the
knowledge sources, shipped as ``data/support_model.npz`` with ``data/support_model_card.json``. Its
threshold was calibrated on the dev split for a target false-flag rate on faithful claims, once with the
cosine and once without it (the two feature distributions differ); both are stored in the model's
metadata. The MiniLM cosine is used only when the scorer's embedder is the one the model was trained
with; otherwise the model runs without it (it was trained with and without it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from scopebot.agent.classifier import RouteClassifier
from scopebot.answer.support_features import FEATURE_NAMES, FEATURE_VERSION, LEXICON_PATH, lexicon
from scopebot.errors import ConfigurationError

DATA_DIR = Path(__file__).parent / "data"
MODEL_PATH = DATA_DIR / "support_model.npz"
CARD_PATH = DATA_DIR / "support_model_card.json"
LABELS = ["supported", "unsupported"]


class SupportModel:
    """Wraps the classifier with its threshold and the embedder it expects."""

    def __init__(self, classifier: RouteClassifier, threshold: float | None = None) -> None:
        meta = classifier.meta
        if meta.get("feature_version") != FEATURE_VERSION or list(meta.get("features", [])) != list(FEATURE_NAMES):
            raise ConfigurationError("the support model was trained on another feature layout",
                                     hint="retrain it with `scopebot support train`")
        if meta.get("lexicon_version") != lexicon(LEXICON_PATH).version:
            raise ConfigurationError("the support model was trained with another lexicon version",
                                     hint="retrain it with `scopebot support train`")
        self.classifier = classifier
        self.threshold = float(threshold if threshold is not None else meta.get("threshold", 0.5))
        #: the threshold when no cosine is available (no embedder, or another one)
        self.threshold_no_cosine = float(threshold if threshold is not None
                                         else meta.get("threshold_no_cosine", self.threshold))
        self.embedder_name = str(meta.get("embedder", ""))

    @property
    def meta(self) -> dict[str, Any]:
        return self.classifier.meta

    def uses_cosine(self, embedder: object | None) -> bool:
        return embedder is not None and getattr(embedder, "name", None) == self.embedder_name

    def threshold_for(self, embedder: object | None) -> float:
        return self.threshold if self.uses_cosine(embedder) else self.threshold_no_cosine

    def p_unsupported(self, features: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(features, np.float32))
        return self.classifier.predict_proba(x)[:, LABELS.index("unsupported")]

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> SupportModel:
        return cls(RouteClassifier.load(path))


@lru_cache(maxsize=1)
def default_support_model() -> SupportModel | None:
    """The shipped model (None when it is not built: the rule checks of :mod:`meaning` then decide)."""
    if not MODEL_PATH.is_file():
        return None
    return SupportModel.load(MODEL_PATH)
