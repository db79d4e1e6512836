"""The learned support check: P(claim unsupported by passage) from :mod:`scopebot.answer.support_features`.

A logistic regression or small MLP (the router's numpy :class:`scopebot.agent.classifier.RouteClassifier`)
trained by ``scopebot support train`` (:mod:`scopebot.answer.train_support`) on pairs written from the
knowledge sources, shipped as ``data/support_model.npz`` with ``data/support_model_card.json``. Its
threshold (with the cosine) and the support-score floor were calibrated on human-written answers the
model had not seen (cross-fitted, :mod:`scopebot.answer.support_human`) under constraints on the
generated dev split; the threshold without the cosine on the generated dev split alone. All three are
stored in the model's metadata. The MiniLM cosine is used only when the scorer's embedder is the one the model was trained
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
        #: the lexical/semantic support score under which a sentence is unsupported, calibrated with this model
        #: on human-written paraphrases (None: the configured ``support_threshold`` alone); with the cosine only
        self.support_floor: float | None = float(meta["support_floor"]) if "support_floor" in meta else None

    @property
    def meta(self) -> dict[str, Any]:
        return self.classifier.meta

    def uses_cosine(self, embedder: object | None) -> bool:
        return embedder is not None and getattr(embedder, "name", None) == self.embedder_name

    def floor_for(self, embedder: object | None, configured: float) -> float:
        """The support-score floor to apply: the calibrated one when it is lower than ``configured`` and the
        cosine is used (the floor was calibrated on the semantic support score), else ``configured``."""
        if self.support_floor is None or not self.uses_cosine(embedder):
            return configured
        return min(configured, self.support_floor)

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
