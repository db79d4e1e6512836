"""A learned abstention decision: does the retrieved evidence answer the question?

The evidence check (:func:`scopebot.answer.abstain.assess_evidence`) scores the question against
the retrieved passages (word coverage, rare question words and names missing from the passages,
MiniLM similarity: one evidence score in [0, 1]). A logistic regression over that score and whether the
question asks to write something (a poem, a letter: cue data in ``data/question_types.yaml``) gives
the probability that the passages answer the question; below the model's threshold scopebot abstains.
A request to write a poem about confocal microscopes retrieves passages about confocal microscopes,
but they do not answer it. Richer inputs (coverage, similarities, missing-word and name counts) were
tried and rejected: they fitted the training questions better and abstained falsely more often on
every other set (docs/answers.md). Names that exist nowhere still end in an abstention by rule (they
are verified, not scored).

The weights are versioned data (``data/abstain_model_v1.yaml``), fitted on our own training questions
(answerable and unanswerable); the threshold is the highest that keeps false abstention on the
answerable training and dev questions pooled at most :data:`MAX_FALSE_ABSTENTION`. Refit with::

    python -m scopebot.answer.abstain_model
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from scopebot.answer.scorer import LogisticModel

if TYPE_CHECKING:
    from scopebot.answer.abstain import EvidenceDecision

DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "abstain_model_v1.yaml"
FEATURES = ("score", "writing_request")
TRAIN_SETS = ("answers_v1.yaml", "answers_train_v1.yaml", "answers_dev_v1.yaml", "answers_abstain_train_v1.yaml")
DEV_SETS = ("answers_dev_v2.yaml",)
#: The threshold is the highest whose false abstention on answerable train + dev questions stays at most this.
MAX_FALSE_ABSTENTION = 0.015


def features(decision: EvidenceDecision) -> np.ndarray:
    """The model's inputs, in :data:`FEATURES` order."""
    return np.array([decision.score, float(decision.writing_request)], dtype=float)


@dataclass(frozen=True)
class AbstainModel(LogisticModel):
    """``answerable(decision)``: the probability that the passages answer the question (logistic over
    :data:`FEATURES`); below ``threshold`` scopebot abstains."""

    threshold: float = 0.5

    def answerable(self, decision: EvidenceDecision) -> float:
        return float(self.score(features(decision))[0])

    @classmethod
    def load(cls, path: Path = DATA_PATH) -> AbstainModel:
        data = cls.read(path, FEATURES, "model")
        return cls(**cls.common(data), threshold=float(data["threshold"]))


def choose_threshold(p: np.ndarray, y: np.ndarray, max_false: float = MAX_FALSE_ABSTENTION) -> float:
    """The highest threshold whose share of answerable (``y == 1``) questions below it is ≤ ``max_false``."""
    pos = np.sort(p[y > 0])
    if not len(pos):
        return 0.5
    allowed = int(np.floor(max_false * len(pos)))
    return float(pos[allowed]) - 1e-6 if allowed < len(pos) else float(pos[-1])


def _collect(names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str], str]:  # pragma: no cover
    """Features and labels (1 answerable) of every question the name rule leaves to the model."""
    from scopebot.answer.factory import build_answer_pipeline
    from scopebot.evals.datasets import load_dataset
    from scopebot.settings import PROJECT_ROOT, Settings

    pipeline = build_answer_pipeline(Settings(answer_abstention="threshold"), extractive_only=True)
    xs, ys, ids = [], [], []
    for name in names:
        for item in load_dataset(PROJECT_ROOT / "evals" / "datasets" / name, "answers").items:
            decision = pipeline.retrieve(item.question).decision
            if decision.missing_entities:
                continue  # a name found nowhere: abstained on by rule
            xs.append(features(decision))
            ys.append(float(item.answerable))
            ids.append(f"{name}:{item.id}")
    return np.vstack(xs), np.array(ys), ids, getattr(pipeline.embedder, "name", "")


def main(argv: Sequence[str]) -> int:  # pragma: no cover - a maintenance command
    """``python -m scopebot.answer.abstain_model``: fit on :data:`TRAIN_SETS`, threshold on them and :data:`DEV_SETS`."""
    from scopebot.answer.scorer import auc, fit

    x, y, _, embedder = _collect(TRAIN_SETS)
    model = fit(x, y, l2=float(argv[0]) if argv else 1.0)
    dx, dy, dev_ids, _ = _collect(DEV_SETS)
    dp = model.score(dx)
    p = model.score(x)
    threshold = choose_threshold(np.concatenate([p, dp]), np.concatenate([y, dy]))
    train = {"false_abstention": round(float(np.mean(p[y > 0] < threshold)), 3),
             "abstention": round(float(np.mean(p[y == 0] < threshold)), 3), "auc": round(auc(p, y), 3)}
    dev = {"false_abstention": round(float(np.mean(dp[dy > 0] < threshold)), 3),
           "abstention": round(float(np.mean(dp[dy == 0] < threshold)), 3), "auc": round(auc(dp, dy), 3)}
    out = {"version": "1", "features": list(FEATURES), "weights": [round(v, 5) for v in model.weights],
           "bias": round(model.bias, 5), "mean": [round(v, 5) for v in model.mean],
           "scale": [round(v, 5) for v in model.scale], "threshold": round(threshold, 4),
           "embedder": embedder, "trained_on": list(TRAIN_SETS), "examples": int(len(y)),
           "answerable": int(y.sum()), "train": train, "dev_sets": list(DEV_SETS), "dev_examples": int(len(dy)),
           "dev": dev, "max_false_abstention": MAX_FALSE_ABSTENTION}
    header = "# The learned abstention decision (scopebot.answer.abstain_model); written by its fit.\n"
    DATA_PATH.write_text(header + yaml.safe_dump(out, sort_keys=False), encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k not in {"mean", "scale"}}, indent=1))
    for i, pi, yi in zip(dev_ids, dp, dy, strict=True):
        if (pi < threshold) != (yi == 0):
            print("dev miss", i, round(float(pi), 3), "answerable" if yi else "unanswerable")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
