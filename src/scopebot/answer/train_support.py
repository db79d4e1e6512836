"""Rebuild the learned support check: ``scopebot support train`` (or ``python -m scopebot.answer.train_support``).

1. Take passages from the live index (book, training material, registries; read from the sources at run
   time) and write faithful and unsupported claims from their sentences (:mod:`scopebot.answer.support_data`:
   near copies, and free restatements); documents are split train / dev / test by a hash of their name,
   so no passage is in two splits. Dev/test claims that are near-duplicates of a training claim
   (boilerplate repeated across registry entries) are dropped.
2. Read the hand-written hallucination sets sentence by sentence (:mod:`scopebot.answer.support_human`:
   the tuned sets, our dev set, the held-out sets already run; never one that has not been run).
3. Features (:mod:`scopebot.answer.support_features`) with the MiniLM cosine and, for every generated
   training pair a second time, without it (so the model also runs without an embedder).
4. Fit logistic regression and a small MLP (:class:`scopebot.agent.classifier.RouteClassifier`) on the
   generated training pairs plus the human rows, keep the one with the lower dev log-loss, fit its
   temperature on the generated dev split.
5. Choose the threshold and the support-score floor on human answers the model has not seen: each human
   set is predicted by the same recipe trained without that set (cross-fitting); the pair with the highest
   human recall whose pooled human faithful answers pass at least ``TARGET_HUMAN_FAITHFUL``, while no
   copied source sentence of the generated dev split is flagged and at most
   :data:`MAX_GENERATED_FALSE_FLAG` of its faithful claims are. The threshold without the cosine (no
   embedder) is still chosen on the generated dev split alone (:data:`TARGET_FALSE_FLAG_NO_COSINE`).
6. Score the generated test split once (and the rule checks of :mod:`scopebot.answer.meaning` alone on dev
   and test), and write ``data/support_model.npz`` and ``data/support_model_card.json`` (figures and counts
   only: no source text is written).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from scopebot.agent.classifier import RouteClassifier
from scopebot.answer.meaning import conflicts
from scopebot.answer.support import LABEL_RE, SupportScorer
from scopebot.answer.support_data import Pair, make_pairs, passages_from_chunks
from scopebot.answer.support_features import FEATURE_NAMES, FEATURE_VERSION, lexicon, pair_features
from scopebot.answer.support_human import (
    HUMAN_REPEAT,
    HUMAN_SETS,
    TARGET_HUMAN_FAITHFUL,
    human_rows,
    pick,
    rates_by_set,
)
from scopebot.answer.support_model import CARD_PATH, DATA_DIR, LABELS, MODEL_PATH
from scopebot.answer.text import strip_citations

MODEL_VERSION = "support-2"
#: Generated faithful dev claims the check may flag (free restatements included); copies of a source
#: sentence (as it is, or with an extract label) never: an extractive answer is never flagged.
MAX_GENERATED_FALSE_FLAG = 0.02
COPY_KINDS = ("identity", "label")
#: Without the cosine (no embedder: tests, ``--embedder none``) the features separate less; its own target.
TARGET_FALSE_FLAG_NO_COSINE = 0.02
MAX_PASSAGES = 900
SUPPORT_THRESHOLD = 0.5
#: A dev/test claim at least this similar (MiniLM cosine) to a training claim is dropped as a near-duplicate.
NEAR_DUP = 0.95
CANDIDATES: list[dict[str, Any]] = [
    {"name": "logreg", "hidden": 0, "l2": 1e-2, "epochs": 600, "lr": 0.02},
    {"name": "mlp32", "hidden": 32, "l2": 1e-2, "epochs": 500, "lr": 0.005},
]


def featurise(pairs: list[Pair], scorer: SupportScorer, *, with_cos: bool,
              vecs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and the pipeline's support scores of ``pairs`` (grouped by passage for the cache);
    ``vecs`` are the claims' embeddings (the cosine features need them)."""
    bodies = [LABEL_RE.sub("", strip_citations(p.claim)) or p.claim for p in pairs]
    vecs = vecs if with_cos else None
    rows, scores = [], []
    for i, p in enumerate(pairs):
        cv = vecs[i] if vecs is not None else None
        pv = scorer.passage_vectors(p.passage) if cv is not None else None
        rows.append(pair_features(p.claim, p.passage, cosines=(pv @ cv) if pv is not None else None))
        scores.append(scorer.score(bodies[i], p.passage, cv) if cv is not None else scorer.lexical(bodies[i], p.passage))
    return np.stack(rows), np.asarray(scores, np.float32)


def near_duplicates(pairs: list[Pair], vecs: np.ndarray) -> dict[str, Any]:
    """Move dev/test pairs whose claim is a near-duplicate of a training claim (cosine >= :data:`NEAR_DUP`;
    repeated boilerplate across registry entries) to ``dropped-<split>``; the nearest similarities kept."""
    train = np.array([i for i, p in enumerate(pairs) if p.split == "train"])
    out: dict[str, Any] = {}
    for split in ("dev", "test"):
        idx = np.array([i for i, p in enumerate(pairs) if p.split == split])
        if not len(idx) or not len(train):
            continue
        best = np.concatenate([(vecs[idx[j:j + 512]] @ vecs[train].T).max(1) for j in range(0, len(idx), 512)])
        for i, sim in zip(idx, best, strict=True):
            if sim >= NEAR_DUP:
                pairs[i].split = f"dropped-{split}"
        kept = best[best < NEAR_DUP]
        out[split] = {"dropped": int((best >= NEAR_DUP).sum()), "kept_max": round(float(kept.max()), 4),
                      "kept_mean": round(float(kept.mean()), 4)}
    return out


def pick_threshold(p: np.ndarray, y: np.ndarray, score: np.ndarray, target: float) -> float:
    """The lowest threshold whose false-flag rate on faithful rows (with the support score rule) is <= target."""
    faithful = y == 0
    for t in np.linspace(0.05, 0.99, 95):
        flagged = (p >= t) | (score < SUPPORT_THRESHOLD)
        if float(flagged[faithful].mean()) <= target:
            return float(round(t, 3))
    return 0.99


def rates(p: np.ndarray, y: np.ndarray, score: np.ndarray, t: float, kinds: list[str],
          floor: float = SUPPORT_THRESHOLD) -> dict[str, Any]:
    flagged = (p >= t) | (score < floor)
    by_kind: dict[str, Any] = {}
    for k in sorted(set(kinds)):
        m = np.array([x == k for x in kinds])
        by_kind[k] = {"n": int(m.sum()), "flagged": round(float(flagged[m].mean()), 4)}
    return {"recall_unsupported": round(float(flagged[y == 1].mean()), 4) if (y == 1).any() else None,
            "false_flag_rate": round(float(flagged[y == 0].mean()), 4) if (y == 0).any() else None,
            "by_kind": by_kind}


def build(kb: Any, embedder: Any, *, datasets_dir: Path, max_passages: int = MAX_PASSAGES, seed: int = 0,
          log: Any = print) -> dict[str, Any]:
    """Pairs, their features (with and without the cosine), the human rows: everything :func:`fit` needs."""
    passages = passages_from_chunks(kb.iter_chunks())
    rng = np.random.default_rng(seed)
    if len(passages) > max_passages:
        passages = [passages[i] for i in sorted(rng.choice(len(passages), max_passages, replace=False))]
    pairs = make_pairs(passages, seed=seed)
    pairs.sort(key=lambda p: p.passage)
    log(f"{len(pairs)} pairs from {len(passages)} passages of {len({p.document for p in passages})} documents; "
        f"embedding with {embedder.name}")
    scorer = SupportScorer(embedder, SUPPORT_THRESHOLD, model=None)
    vecs = embedder.embed([LABEL_RE.sub("", strip_citations(p.claim)) or p.claim for p in pairs])
    dups = near_duplicates(pairs, vecs)
    log(f"near-duplicates of training claims dropped from dev/test: {dups}")
    x_cos, s_cos = featurise(pairs, scorer, with_cos=True, vecs=vecs)
    x_lex, s_lex = featurise(pairs, scorer, with_cos=False)
    human = human_rows(datasets_dir, HUMAN_SETS, scorer)
    log(f"{len(human)} sentences of human-written answers from {sorted({r['set'] for r in human})}")
    data_sha = hashlib.sha256("\n".join(f"{p.label}\t{p.kind}\t{p.split}\t{p.claim}\t{p.passage}"
                                        for p in pairs).encode()).hexdigest()[:16]
    return {"pairs": pairs, "x_cos": x_cos, "s_cos": s_cos, "x_lex": x_lex, "s_lex": s_lex, "human": human,
            "dups": dups, "passages": len(passages), "documents": len({p.document for p in passages}),
            "data_sha": data_sha}


def _fit(x: np.ndarray, y: np.ndarray, cand: dict[str, Any], seed: int, meta: dict[str, Any]) -> RouteClassifier:
    return RouteClassifier.fit(x, y, LABELS, hidden=cand["hidden"], l2=cand["l2"], epochs=cand["epochs"],
                               lr=cand["lr"], seed=seed, meta=meta)


def fit(data: dict[str, Any], embedder: Any, *, out_dir: Path = DATA_DIR, seed: int = 0, log: Any = print,
        human_repeat: int = HUMAN_REPEAT) -> dict[str, Any]:
    """Train on :func:`build`'s data, cross-fit the human sets, calibrate, test, save; returns the card."""
    t0 = time.time()
    pairs, x_cos, s_cos, x_lex, s_lex, human = (data[k] for k in ("pairs", "x_cos", "s_cos", "x_lex", "s_lex",
                                                                   "human"))
    y = np.array([p.label for p in pairs])
    split = np.array([p.split for p in pairs])
    tr, dev, test = (np.where(split == s)[0] for s in ("train", "dev", "test"))
    hx = np.stack([r["x"] for r in human]) if human else np.zeros((0, len(FEATURE_NAMES)), np.float32)
    hy = np.array([r["label"] for r in human], dtype=int)
    hset = np.array([r["set"] for r in human])

    def training_rows(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (np.vstack([x_cos[tr], x_lex[tr], *[hx[keep]] * human_repeat]),
                np.concatenate([y[tr], y[tr], *[hy[keep]] * human_repeat]))

    meta = {"version": MODEL_VERSION, "embedder": embedder.name, "embedder_variant": getattr(embedder, "variant", ""),
            "feature_version": FEATURE_VERSION, "features": list(FEATURE_NAMES),
            "lexicon_version": lexicon().version, "data_sha256": data["data_sha"]}
    x_train, y_train = training_rows(np.ones(len(human), bool))
    fitted = []
    for cand in CANDIDATES:
        model = _fit(x_train, y_train, cand, seed, meta)
        model.calibrate(x_cos[dev], y[dev])
        pd = model.predict_proba(x_cos[dev])[np.arange(len(dev)), y[dev]]
        loss = float(-np.log(np.clip(pd, 1e-12, 1)).mean())
        log(f"  {cand['name']}: dev log-loss {loss:.4f}, T={model.temperature:.2f}")
        fitted.append((loss, cand["name"], model, cand))
    loss, name, model, cand = min(fitted, key=lambda f: f[0])
    # cross-fitting: each human set predicted by the same recipe trained without it
    p_human = np.zeros(len(human))
    for name_set in dict.fromkeys(hset.tolist()):
        out = hset == name_set
        m = _fit(*training_rows(~out), cand, seed, meta)
        m.calibrate(x_cos[dev], y[dev])
        p_human[out] = m.predict_proba(hx[out])[:, 1]
    p_dev = model.predict_proba(x_cos[dev])[:, 1]
    kinds = [p.kind for p in pairs]
    faithful = y[dev] == 0
    copies = np.array([kinds[i] in COPY_KINDS for i in dev]) & faithful

    def generated_ok(t: float, floor: float) -> bool:
        flagged = (p_dev >= t) | (s_cos[dev] < floor)
        return float(flagged[faithful].mean()) <= MAX_GENERATED_FALSE_FLAG and not flagged[copies].any()

    threshold, floor = pick(human, p_human, generated_ok)
    threshold_lex = pick_threshold(model.predict_proba(x_lex[dev])[:, 1], y[dev], s_lex[dev],
                                   TARGET_FALSE_FLAG_NO_COSINE)
    human_cv = rates_by_set(human, p_human, threshold, floor) if human else {}
    log(f"threshold {threshold}, support floor {floor}; human answers, cross-fitted: {human_cv.get('all')}")
    model.meta.update({"candidate": name, "dev_log_loss": round(loss, 4), "threshold": threshold,
                       "threshold_no_cosine": threshold_lex, "support_floor": floor})
    report = {}
    for sname, idx in (("train", tr), ("dev", dev), ("test", test)):
        ks = [kinds[i] for i in idx]
        report[sname] = {"with_cosine": rates(model.predict_proba(x_cos[idx])[:, 1], y[idx], s_cos[idx], threshold, ks,
                                              floor),
                         "without_cosine": rates(model.predict_proba(x_lex[idx])[:, 1], y[idx], s_lex[idx],
                                                 threshold_lex, ks)}
    for sname, idx in (("dev", dev), ("test", test)):  # the rule checks alone (before this model), same pairs
        rule = np.array([float(bool(conflicts(pairs[i].claim, pairs[i].passage))) for i in idx])
        report[sname]["rules_only"] = rates(rule, y[idx], s_cos[idx], 0.5, [kinds[i] for i in idx])
    counts = Counter((p.split, p.label) for p in pairs)
    curve = {}
    for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        r = rates(p_dev, y[dev], s_cos[dev], t, [kinds[i] for i in dev], floor)
        curve[t] = {"recall_unsupported": r["recall_unsupported"], "false_flag_rate": r["false_flag_rate"],
                    "human_cross_fitted": rates_by_set(human, p_human, t, floor)["all"] if human else None}
    card = {"version": MODEL_VERSION, "model": name, "embedder": embedder.name,
            "embedder_variant": getattr(embedder, "variant", ""), "feature_version": FEATURE_VERSION,
            "features": list(FEATURE_NAMES), "lexicon_version": lexicon().version, "data_sha256": data["data_sha"],
            "temperature": round(model.temperature, 4), "threshold": threshold, "support_floor": floor,
            "threshold_no_cosine": threshold_lex,
            "calibration": {"human_sets": sorted(set(hset.tolist())), "human_repeat": human_repeat,
                            "target_human_faithful": TARGET_HUMAN_FAITHFUL,
                            "max_generated_false_flag": MAX_GENERATED_FALSE_FLAG, "copy_kinds": list(COPY_KINDS),
                            "human_cross_fitted": human_cv},
            "target_false_flag_rate_no_cosine": TARGET_FALSE_FLAG_NO_COSINE, "support_threshold": SUPPORT_THRESHOLD,
            "passages": data["passages"], "documents": data["documents"],
            "pairs": {s: {"faithful": counts.get((s, 0), 0), "unsupported": counts.get((s, 1), 0)}
                      for s in ("train", "dev", "test")},
            "human_rows": {s: {"faithful": int(((hset == s) & (hy == 0)).sum()),
                               "unsupported": int(((hset == s) & (hy == 1)).sum())} for s in sorted(set(hset.tolist()))},
            "near_duplicate_threshold": NEAR_DUP, "near_duplicates": data["dups"],
            "candidates": {n: round(lo, 4) for lo, n, _, _ in fitted},
            "weights_logreg": ({f: round(float(w), 3) for f, w in
                                zip(FEATURE_NAMES, (model.weights[0][:, 1] - model.weights[0][:, 0]) / model.std,
                                    strict=True)} if len(model.weights) == 1 else None),
            "dev_threshold_curve": curve, "splits": report, "seconds": round(time.time() - t0, 1)}
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / MODEL_PATH.name)
    (out_dir / CARD_PATH.name).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    for sname in ("dev", "test"):
        r, b = report[sname]["with_cosine"], report[sname]["rules_only"]
        log(f"{sname}: recall[unsupported] {r['recall_unsupported']}, false-flag rate {r['false_flag_rate']} "
            f"(threshold {threshold}, floor {floor}); the rules alone: {b['recall_unsupported']}, "
            f"{b['false_flag_rate']}")
    return card


def train(kb: Any, embedder: Any, *, datasets_dir: Path, out_dir: Path = DATA_DIR,
          max_passages: int = MAX_PASSAGES, seed: int = 0, log: Any = print) -> dict[str, Any]:
    """Write the pairs, read the human sets, train, calibrate, test, and save the model and its card."""
    t0 = time.time()
    data = build(kb, embedder, datasets_dir=datasets_dir, max_passages=max_passages, seed=seed, log=log)
    card = fit(data, embedder, out_dir=out_dir, seed=seed, log=log)
    card["seconds"] = round(time.time() - t0, 1)
    (out_dir / CARD_PATH.name).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> None:
    import argparse

    from scopebot.index.embeddings import make_embedder
    from scopebot.knowledge import KnowledgeBase
    from scopebot.settings import Settings

    parser = argparse.ArgumentParser(description="Rebuild the learned support check.")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    parser.add_argument("--max-passages", type=int, default=MAX_PASSAGES)
    parser.add_argument("--datasets", type=Path, default=Path("evals/datasets"))
    args = parser.parse_args(argv)
    settings = Settings()
    emb = make_embedder(settings)
    train(KnowledgeBase.open(settings, embedder=emb), emb, datasets_dir=args.datasets, out_dir=args.out,
          max_passages=args.max_passages)


if __name__ == "__main__":
    main()
