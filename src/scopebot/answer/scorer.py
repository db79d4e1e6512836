"""A learned sentence scorer for extractive answers: which passage sentence states what was asked.

Each candidate sentence is described by a few features (term overlap with the question, MiniLM
similarity of the sentence and of its heading to the question, term overlap of its heading, passage
rank, position in its passage,
whether it is about or defines the question's subject, whether it is a signpost, an instruction, advice
for a how-to, a book or training passage, its length). A logistic regression over these features,
fitted on our own training questions (a sentence is a positive example when it states one of the
question's key facts), gives its relevance. The weights are versioned data
(``data/sentence_scorer_v2.yaml``) with the training sets and the dev figures they were chosen on; refit
them with (the training sets comma-separated, then the dev set and the output file)::

    python -m scopebot.answer.scorer TRAIN1.yaml,TRAIN2.yaml,... DEV.yaml src/scopebot/data/sentence_scorer_v2.yaml

The file's ``trained_on`` lists the sets of the shipped fit.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from scopebot.errors import ConfigurationError

#: the module whose ``python -m`` refits each kind of model (named in the error when a file does not fit)
_MODULES = {"scorer": "scopebot.answer.scorer", "model": "scopebot.answer.abstain_model"}

DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "sentence_scorer_v2.yaml"
FEATURES = ("lex", "sem", "heading_sem", "on_topic", "prior", "first", "position", "about", "defining",
            "signpost", "instruction", "advice", "explain", "length", "specific", "heading_lex")


@dataclass(frozen=True)
class LogisticModel:
    """A logistic regression stored as versioned data: ``score(X)`` is the probability of each row.

    The features were fitted with the similarities of one embedder (``embedder``): :meth:`fits` says
    whether another embedder's similarities mean the same. Subclasses fix the feature layout."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    version: str = "1"
    embedder: str = ""

    def fits(self, embedder: object) -> bool:
        """True when ``embedder`` is the one the features were fitted with (its similarities mean the same)."""
        return bool(self.embedder) and getattr(embedder, "name", None) == self.embedder

    def score(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - np.asarray(self.mean)) / np.asarray(self.scale)
        return 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.weights) + self.bias)))

    @staticmethod
    def read(path: Path, features: Sequence[str], what: str) -> dict[str, Any]:
        """The YAML file's fields, after checking its feature layout is ``features``; the common ones
        already converted (``weights``, ``bias``, ``mean``, ``scale``, ``version``, ``embedder``)."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != tuple(features):
            raise ConfigurationError(
                f"{path.name}: the fitted {what} has the inputs {list(data['features'])}, but this scopebot "
                f"computes {list(features)}",
                hint="the data file and the code are from different versions: restart scopebot after an update "
                     "(reinstall with pip if it was installed as a package), or refit the "
                     f"{what} with `python -m {_MODULES.get(what, 'scopebot.answer.scorer')}`")
        return {**data, "weights": tuple(data["weights"]), "bias": float(data["bias"]),
                "mean": tuple(data["mean"]), "scale": tuple(data["scale"]),
                "version": str(data.get("version", "1")), "embedder": str(data.get("embedder", ""))}

    @staticmethod
    def common(data: dict[str, Any]) -> dict[str, Any]:
        """The fields of :meth:`read`'s result that every logistic model takes."""
        return {k: data[k] for k in ("weights", "bias", "mean", "scale", "version", "embedder")}


@dataclass(frozen=True)
class SentenceScorer(LogisticModel):
    """``score(X)``: the probability that each row's sentence states a key fact (:data:`FEATURES`)."""

    @classmethod
    def load(cls, path: Path = DATA_PATH) -> SentenceScorer:
        return cls(**cls.common(cls.read(path, FEATURES, "scorer")))


def fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 3000, lr: float = 0.1) -> SentenceScorer:
    """L2-regularised logistic regression by gradient descent (numpy only). Continuous features are
    standardised; 0/1 features are kept as they are, so a rare one (advice sentences: one training
    example) cannot get a huge standardised value and swamp the others."""
    binary = np.array([set(np.unique(col)) <= {0.0, 1.0} for col in x.T], dtype=bool)
    mean = np.where(binary, 0.0, x.mean(axis=0))
    scale = np.where(binary | (x.std(axis=0) <= 1e-9), 1.0, x.std(axis=0))
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    n = len(y)
    pos = max(1.0, float(y.sum()))
    sample = np.where(y > 0, n / (2 * pos), n / (2 * max(1.0, n - pos)))  # balanced classes
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = (p - y) * sample
        w -= lr * (z.T @ g / n + l2 * w / n)
        b -= lr * float(g.mean())
    return SentenceScorer(tuple(float(v) for v in w), float(b), tuple(float(v) for v in mean),
                          tuple(float(v) for v in scale))


def labels(texts: Sequence[str], question: str, key_facts: Sequence[Sequence[str]]) -> np.ndarray:
    """1 for a sentence that states a key fact (a keyword alternative that the question does not contain)."""
    q = question.lower()
    facts = [[a.lower() for a in alts if a.lower() not in q] for alts in key_facts]
    return np.array([float(any(any(a in t.lower() for a in alts) for alts in facts if alts)) for t in texts])


def _collect(dataset: Path) -> tuple[np.ndarray, np.ndarray, str]:  # pragma: no cover - needs the real index
    """Features and labels of every candidate sentence of the dataset's answerable questions, taken the way
    an answer takes them: the production retrieval (asked part, question type, evidence selection) and
    the synthesizer's candidate pool; relevance features of the asked part."""
    from scopebot.answer.factory import build_answer_pipeline
    from scopebot.answer.focus import split_focus
    from scopebot.evals.datasets import load_dataset
    from scopebot.settings import Settings

    settings = Settings(answer_sentence_scorer="fixed")  # the features do not depend on the scorer
    pipeline = build_answer_pipeline(settings, extractive_only=True)
    synth = pipeline.synthesizer
    xs, ys = [], []
    for item in load_dataset(dataset, "answers").items:
        if not item.answerable or not item.key_facts:
            continue
        found = pipeline.retrieve(item.question)
        focus = split_focus(item.question)
        cands = synth.pool(found.passages, found.qtype, scene=focus.has_context)
        if not cands:
            continue
        feats, eligible, _ = synth.features(focus.asked, cands, synth.with_aliases(found.qtype, found.passages))
        xs.append(feats[eligible])
        ys.append(labels([c.text for c in cands], item.question, item.key_facts)[eligible])
    return np.vstack(xs), np.concatenate(ys), getattr(pipeline.embedder, "name", "")


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """Probability that a positive sentence scores above a negative one (ties count half)."""
    pos, neg = scores[y > 0], scores[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float(np.mean([(p > neg).mean() + 0.5 * (p == neg).mean() for p in pos]))


def main(argv: Sequence[str]) -> int:  # pragma: no cover - a maintenance command
    """``python -m scopebot.answer.scorer [TRAIN.yaml[,TRAIN2.yaml...] [DEV.yaml [OUT.yaml]]]``: fit on the
    TRAIN sets, report AUC on DEV, write the model to OUT (default: the shipped data file)."""
    datasets = [Path(a) for a in argv[0].split(",")] if argv else [Path("evals/datasets/answers_train_v1.yaml")]
    dev = Path(argv[1]) if len(argv) > 1 else Path("evals/datasets/answers_dev_v1.yaml")
    parts = [_collect(d) for d in datasets]
    x, y, embedder = np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), parts[0][2]
    model = fit(x, y)
    p = model.score(x)
    loss = -float(np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9)))
    dx, dy, _ = _collect(dev)
    out = {"version": "1", "features": list(FEATURES), "weights": [round(v, 5) for v in model.weights],
           "bias": round(model.bias, 5), "mean": [round(v, 5) for v in model.mean],
           "scale": [round(v, 5) for v in model.scale],
           "embedder": embedder, "trained_on": ",".join(str(d) for d in datasets), "examples": int(len(y)), "positives": int(y.sum()),
           "train_log_loss": round(loss, 4), "train_auc": round(auc(p, y), 3), "dev_set": str(dev),
           "dev_examples": int(len(dy)), "dev_auc": round(auc(model.score(dx), dy), 3)}
    header = "# The learned sentence scorer of extractive answers (scopebot.answer.scorer); written by its fit.\n"
    target = Path(argv[2]) if len(argv) > 2 else DATA_PATH
    target.write_text(header + yaml.safe_dump(out, sort_keys=False), encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k not in {"mean", "scale"}}, indent=1))
    return 0 if math.isfinite(loss) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
