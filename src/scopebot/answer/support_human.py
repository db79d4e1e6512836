"""Human-written answers for the learned support check: training rows, cross-fitted calibration, figures.

Generated claims (:mod:`scopebot.answer.support_data`) stay close to the source wording; people and strong
models paraphrase more freely. The hand-written hallucination sets (clean answers and unsupported ones,
one per item) are therefore read sentence by sentence, each sentence paired with the passage that
:func:`scopebot.answer.support.check_sentence` picks for it, and used twice by ``scopebot support train``:

* as training rows (each counts :data:`HUMAN_REPEAT` times next to the generated pairs);
* cross-fitted, to choose the threshold and the support-score floor: each set is predicted by a model
  trained without it, and the threshold is chosen on those out-of-set predictions, at the item level,
  as the hallucination eval counts (an answer is flagged when any of its sentences is).

Held-out sets that nobody has run yet are never read: :data:`HUMAN_SETS` names every set used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scopebot.answer.support_features import pair_features

#: Hand-written sets read as human data: the tuned sets, our dev set, and the held-out sets already run
#: and reported (seen). Never a held-out set that has not been run.
HUMAN_SETS = ("hallucination_v1.yaml", "hallucination_v2.yaml", "hallucination_dev_v1.yaml",
              "hallucination_holdout_v1.yaml", "hallucination_holdout_v2.yaml")
#: Each human row counts this many times in training (they are few next to the generated pairs).
HUMAN_REPEAT = 80
#: Share of the human faithful answers (pooled, out-of-set predictions) that must not be flagged.
TARGET_HUMAN_FAITHFUL = 0.9
#: The support-score floors tried with each threshold (the pipeline's rule: a sentence whose
#: lexical/semantic score is under the floor is unsupported); the highest that reaches the target wins ties.
FLOORS = (0.5, 0.45, 0.4, 0.35, 0.3)
_OTHER_CHECKS = ("invalid_citation", "invented_entity", "injection_passage", "injection_followed")


def human_rows(datasets_dir: Path, names: tuple[str, ...], scorer: Any) -> list[dict[str, Any]]:
    """The sentences of the sets' clean and unsupported answers: set, item, label (1 = the answer is
    unsupported), support score and features against the best passage (with the cosine when ``scorer``
    has an embedder). Sets missing from ``datasets_dir`` are skipped."""
    from scopebot.answer.injection import remove_instructions
    from scopebot.answer.support import LABEL_RE, check_sentences
    from scopebot.answer.text import clean_markdown
    from scopebot.evals.suites.hallucination import _PLACEHOLDER, load_hallucination_dataset

    rows: list[dict[str, Any]] = []
    for name in names:
        path = datasets_dir / name
        if not path.is_file():
            continue
        ds = load_hallucination_dataset(path)
        for item in ds.items:
            if any(item.labels.get(k) for k in _OTHER_CHECKS):
                continue
            answer = _PLACEHOLDER.sub(lambda m, ds=ds: f"[{ds.key(m.group(1))}]", item.answer.strip())
            context = {ds.key(n): remove_instructions(clean_markdown(ds.passages[n].text))[0] for n in item.passages}
            for check in check_sentences(answer, context, scorer):
                if scorer.is_trivial(check.text) or check.best_key is None:
                    continue
                passage = context[check.best_key]
                cos = None
                if scorer.embedder is not None:
                    body = LABEL_RE.sub("", check.text) or check.text
                    cos = scorer.passage_vectors(passage) @ scorer.claim_vector(body)
                rows.append({"set": name, "item": f"{name}::{item.id}", "label": int(bool(item.labels.get("unsupported"))),
                             "score": float(check.support), "x": pair_features(check.text, passage, cosines=cos)})
    return rows


def human_rates(rows: list[dict[str, Any]], p: np.ndarray, t: float, floor: float) -> dict[str, Any]:
    """Item-level figures at threshold ``t`` and support floor ``floor``: an answer is flagged when any of
    its sentences is (learned p >= t, or support score under the floor)."""
    flagged: dict[str, bool] = {}
    label: dict[str, int] = {}
    for r, pi in zip(rows, p, strict=True):
        flagged[r["item"]] = flagged.get(r["item"], False) or bool(pi >= t or r["score"] < floor)
        label[r["item"]] = r["label"]
    clean = [i for i in label if label[i] == 0]
    wrong = [i for i in label if label[i] == 1]
    return {"faithful_not_flagged": round(sum(not flagged[i] for i in clean) / max(1, len(clean)), 4),
            "recall_unsupported": round(sum(flagged[i] for i in wrong) / max(1, len(wrong)), 4),
            "faithful": len(clean), "unsupported": len(wrong)}


def rates_by_set(rows: list[dict[str, Any]], p: np.ndarray, t: float, floor: float) -> dict[str, Any]:
    out = {"all": human_rates(rows, p, t, floor)}
    for name in dict.fromkeys(r["set"] for r in rows):
        idx = [i for i, r in enumerate(rows) if r["set"] == name]
        out[name] = human_rates([rows[i] for i in idx], p[idx], t, floor)
    return out


def pick(rows: list[dict[str, Any]], p_human: np.ndarray, generated_ok: Any,
         target: float = TARGET_HUMAN_FAITHFUL) -> tuple[float, float]:
    """``(threshold, floor)``: among the pairs that ``generated_ok(t, floor)`` allows (the generated dev
    claims' constraints), those whose pooled human faithful-not-flagged rate reaches ``target``, the one
    with the highest human recall (ties: the higher floor, then the lower threshold); when none reaches
    the target, the one that lets the most human faithful answers pass."""
    best: tuple[Any, ...] | None = None
    for floor in FLOORS:
        for t in np.linspace(0.05, 0.99, 95):
            t = float(round(t, 3))
            if not generated_ok(t, floor):
                continue
            r = human_rates(rows, p_human, t, floor)
            reached = r["faithful_not_flagged"] >= target
            key = (reached, r["recall_unsupported"] if reached else r["faithful_not_flagged"], floor, -t)
            if best is None or key > best[0]:
                best = (key, t, floor)
    return (best[1], best[2]) if best else (0.99, FLOORS[0])
