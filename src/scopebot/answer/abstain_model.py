"""A learned abstention decision: does the retrieved evidence answer the question?

The evidence check (:func:`scopebot.answer.abstain.assess_evidence`) scores the question against
the retrieved passages (word coverage, rare question words and names missing from the passages,
MiniLM similarity: one evidence score in [0, 1]). A logistic regression over that score and whether the
question asks to write something (a poem, a letter: cue data in ``data/question_types.yaml``) gives
the probability that the passages answer the question; below the model's threshold scopebot abstains.

Version 2 (the default, ``data/abstain_model_v2.yaml``) adds two inputs that ask whether the evidence
addresses *what is asked*, not only the topic: the best single sentence's similarity with the question,
and the rarity-weighted share of the question's words that the best single passage holds
(:func:`scopebot.answer.abstain.sentence_similarity`, :func:`scopebot.answer.abstain.passage_coverage`),
and whether the question is tied to a moment (:func:`scopebot.answer.qtype.is_time_anchored`). A question
next to a covered topic (a driver version, a facility's setting, a price) retrieves passages on the topic
in which no sentence says the thing asked. Version 1 (score and writing request only) stays
selectable (``SCOPEBOT_ANSWER_ABSTENTION_MODEL=v1``). Names that exist nowhere still end in an
abstention by rule (they are verified, not scored).

The weights are versioned data, fitted on our own training questions (answerable and unanswerable,
``answers_abstain_train_v2.yaml`` holds near-topic unanswerable ones); the threshold is the highest that
keeps false abstention on the answerable training and dev questions pooled at most
:data:`MAX_FALSE_ABSTENTION`. Questions answered by rule (a name found nowhere, a number computed from
cited formulas) are left out of the fit. Refit with::

    python -m scopebot.answer.abstain_model [l2] [--version 1|2]
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
from scopebot.errors import ConfigurationError

if TYPE_CHECKING:
    from scopebot.answer.abstain import EvidenceDecision

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: The inputs of each version, fields of :class:`~scopebot.answer.abstain.EvidenceDecision`.
VERSIONS: dict[str, tuple[str, ...]] = {
    "1": ("score", "writing_request"),
    "2": ("score", "writing_request", "sentence_similarity", "passage_coverage", "time_anchored"),
    "3": ("score", "writing_request", "sentence_similarity", "passage_coverage", "time_anchored"),
    "4": ("score", "writing_request", "sentence_similarity", "passage_coverage", "time_anchored"),
}
DEFAULT_VERSION = "4"
DATA_PATH = DATA_DIR / f"abstain_model_v{DEFAULT_VERSION}.yaml"
FEATURES = VERSIONS[DEFAULT_VERSION]
TRAIN_SETS = ("answers_v1.yaml", "answers_train_v1.yaml", "answers_dev_v1.yaml", "answers_abstain_train_v1.yaml",
              "answers_abstain_train_v2.yaml")
DEV_SETS = ("answers_dev_v2.yaml",)
#: What each version is fitted on (TRAIN) and where its threshold is also chosen (DEV). Version 3 adds
#: conversational questions (context sentences, then the question): the training set v3 and the dev set v4.
#: Version 4 is fitted on every answer set that is no longer held out (not the round's blind held-out sets,
#: ``answers_holdout_v9`` and ``v10``), with the evidence score's missing-word penalty counted for one word
#: at most (:data:`MISSING_WORD_CAP_V4`); its threshold is chosen on the same pool.
SEEN_SETS = (*TRAIN_SETS, "answers_abstain_train_v3.yaml", "answers_dev_v2.yaml", "answers_dev_v3.yaml",
             "answers_dev_v4.yaml", "answers_dev_v5.yaml", "answers_dev_v6.yaml", "answers_entities_v1.yaml",
             "answers_fakenames_dev_v1.yaml", *(f"answers_holdout_v{i}.yaml" for i in range(1, 9)))
TRAIN_SETS_OF: dict[str, tuple[str, ...]] = {"1": TRAIN_SETS[:4], "2": TRAIN_SETS,
                                             "3": (*TRAIN_SETS, "answers_abstain_train_v3.yaml"), "4": SEEN_SETS}
DEV_SETS_OF: dict[str, tuple[str, ...]] = {"1": DEV_SETS, "2": DEV_SETS, "3": (*DEV_SETS, "answers_dev_v4.yaml"),
                                           "4": ()}
#: Version 4 counts at most this many missing words in the evidence score: one rare question word that no
#: passage holds says the topic may be missing; more of them mostly say the question chats ("honestly",
#: "weird"). Leave-one-set-out over 11 seen test sets: abstention 0.836 -> 0.896, false abstention 0.021 both.
MISSING_WORD_CAP_V4 = 1
#: The threshold is the highest whose false abstention on answerable train + dev questions stays at most this.
MAX_FALSE_ABSTENTION = 0.015


def model_path(version: str) -> Path:
    """Where the fitted weights of ``version`` live."""
    if version not in VERSIONS:
        raise ConfigurationError(f"no abstention model version {version!r}",
                                 hint=f"set SCOPEBOT_ANSWER_ABSTENTION_MODEL to one of {', '.join(VERSIONS)}")
    return DATA_DIR / f"abstain_model_v{version}.yaml"


def features(decision: EvidenceDecision, names: Sequence[str] = FEATURES) -> np.ndarray:
    """The inputs ``names`` of ``decision`` (a missing measure is NaN; booleans are 0/1)."""
    values = [getattr(decision, n) for n in names]
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


@dataclass(frozen=True)
class AbstainModel(LogisticModel):
    """``answerable(decision)``: the probability that the passages answer the question (logistic over
    :data:`FEATURES`); below ``threshold`` scopebot abstains."""

    threshold: float = 0.5
    features: tuple[str, ...] = FEATURES
    #: The evidence score this model was fitted on counts at most this many missing words (None: all).
    missing_word_cap: int | None = None

    def needs(self, name: str) -> bool:
        """Whether ``name`` (a measure of the evidence that costs time) is one of this model's inputs."""
        return name in self.features

    def answerable(self, decision: EvidenceDecision) -> float:
        x = features(decision, self.features)
        x = np.where(np.isnan(x), np.asarray(self.mean), x)  # a measure that could not be taken: its mean
        return float(self.score(x)[0])

    @classmethod
    def load(cls, path: Path | None = None, version: str = DEFAULT_VERSION) -> AbstainModel:
        """The fitted model of ``version`` (or the file ``path``, whose features must be that version's)."""
        path = path or model_path(version)
        names = VERSIONS[version]
        data = cls.read(path, names, "model")
        cap = data.get("missing_word_cap")
        return cls(**cls.common(data), threshold=float(data["threshold"]), features=tuple(names),
                   missing_word_cap=None if cap is None else int(cap))


def choose_threshold(p: np.ndarray, y: np.ndarray, max_false: float = MAX_FALSE_ABSTENTION) -> float:
    """The highest threshold whose share of answerable (``y == 1``) questions below it is ≤ ``max_false``."""
    pos = np.sort(p[y > 0])
    if not len(pos):
        return 0.5
    allowed = int(np.floor(max_false * len(pos)))
    return float(pos[allowed]) - 1e-6 if allowed < len(pos) else float(pos[-1])


def _collect(names: Sequence[str], version: str) -> tuple[np.ndarray, np.ndarray, list[str], str]:  # pragma: no cover
    """Features and labels (1 answerable) of every question the rules leave to the model (a name found
    nowhere is abstained on, a number computed from cited formulas answered, by rule)."""
    from scopebot.answer.factory import build_answer_pipeline
    from scopebot.evals.datasets import load_dataset
    from scopebot.settings import PROJECT_ROOT, Settings

    pipeline = build_answer_pipeline(Settings(answer_abstention="threshold"), extractive_only=True)
    n = len(VERSIONS[version])  # a probe that never abstains but has every measure of the version taken
    pipeline.abstain_model = AbstainModel(weights=(0.0,) * n, bias=0.0, mean=(0.0,) * n, scale=(1.0,) * n,
                                          threshold=0.0, features=VERSIONS[version],
                                          missing_word_cap=MISSING_WORD_CAP_V4 if version == "4" else None)
    xs, ys, ids = [], [], []
    for name in names:
        for item in load_dataset(PROJECT_ROOT / "evals" / "datasets" / name, "answers").items:
            found = pipeline.retrieve(item.question)
            if found.decision.missing_entities or found.computation is not None:
                continue
            xs.append(features(found.decision, VERSIONS[version]))
            ys.append(float(item.answerable))
            ids.append(f"{name}:{item.id}")
    return np.vstack(xs), np.array(ys), ids, getattr(pipeline.embedder, "name", "")


def main(argv: Sequence[str]) -> int:  # pragma: no cover - a maintenance command
    """``python -m scopebot.answer.abstain_model [l2] [--version V]``: fit on :data:`TRAIN_SETS`, threshold on
    them and :data:`DEV_SETS`, write ``data/abstain_model_vV.yaml``."""
    from scopebot.answer.scorer import auc, fit

    args = list(argv)
    version = DEFAULT_VERSION
    if "--version" in args:
        i = args.index("--version")
        version = args[i + 1]
        del args[i: i + 2]
    path = model_path(version)
    train_sets, dev_sets = TRAIN_SETS_OF[version], DEV_SETS_OF[version]
    x, y, _, embedder = _collect(train_sets, version)
    model = fit(x, y, l2=float(args[0]) if args else 1.0)
    dx, dy, dev_ids, _ = _collect(dev_sets, version) if dev_sets else (np.zeros((0, x.shape[1])), np.zeros(0), [], "")
    dp = model.score(dx) if len(dy) else np.zeros(0)
    p = model.score(x)
    threshold = choose_threshold(np.concatenate([p, dp]), np.concatenate([y, dy]))
    train = {"false_abstention": round(float(np.mean(p[y > 0] < threshold)), 3),
             "abstention": round(float(np.mean(p[y == 0] < threshold)), 3), "auc": round(auc(p, y), 3)}
    dev = {"false_abstention": round(float(np.mean(dp[dy > 0] < threshold)), 3),
           "abstention": round(float(np.mean(dp[dy == 0] < threshold)), 3), "auc": round(auc(dp, dy), 3)} \
        if len(dy) else {}
    out = {"version": version, "features": list(VERSIONS[version]), "weights": [round(v, 5) for v in model.weights],
           "bias": round(model.bias, 5), "mean": [round(v, 5) for v in model.mean],
           "scale": [round(v, 5) for v in model.scale], "threshold": round(threshold, 4),
           "embedder": embedder, "trained_on": list(train_sets), "examples": int(len(y)),
           "answerable": int(y.sum()), "train": train, "dev_sets": list(dev_sets), "dev_examples": int(len(dy)),
           "dev": dev, "max_false_abstention": MAX_FALSE_ABSTENTION}
    if version == "4":
        out["missing_word_cap"] = MISSING_WORD_CAP_V4
    header = "# The learned abstention decision (scopebot.answer.abstain_model); written by its fit.\n"
    path.write_text(header + yaml.safe_dump(out, sort_keys=False), encoding="utf-8")
    print(json.dumps({k: v for k, v in out.items() if k not in {"mean", "scale"}}, indent=1))
    for i, pi, yi in zip(dev_ids, dp, dy, strict=True):
        if (pi < threshold) != (yi == 0):
            print("dev miss", i, round(float(pi), 3), "answerable" if yi else "unanswerable")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv[1:]))
