"""Rebuild the learned router: ``python -m scopebot.agent.train_router`` (or ``scopebot router train``).

1. Expand ``data/routing_templates.yaml`` into labelled turns (fixed seed) and add the hand-written
   examples of ``routing_examples.yaml`` to the training split.
2. Split by template (:func:`scopebot.agent.route_data.assign_splits`); embed every turn; drop from the
   calibration and test splits every turn whose cosine similarity to its nearest training turn is at
   least :data:`NEAR_DUP` (reported with the max/mean nearest similarity of what is kept).
3. Fit logistic regression and a small MLP on the training split, keep the one with the lower
   calibration log-loss, fit its temperature on the calibration split.
4. Score the test split once (never used for a choice) and write ``data/routing_model.npz``,
   ``data/routing_trainset.jsonl`` (every turn with its split) and ``data/routing_model_card.json``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from scopebot.agent.classifier import RouteClassifier, softmax
from scopebot.agent.models import ROUTES
from scopebot.agent.route_data import (
    DATA_DIR,
    Turn,
    assign_splits,
    expand,
    load_templates,
    nearest_similarity,
)
from scopebot.agent.route_features import CUE_NAMES, FEATURE_VERSION, feature_matrix
from scopebot.index.embeddings import Embedder

MODEL_VERSION = "router-3"
MODEL_PATH = DATA_DIR / "routing_model.npz"
TRAINSET_PATH = DATA_DIR / "routing_trainset.jsonl"
CARD_PATH = DATA_DIR / "routing_model_card.json"
#: Held-out turns at least this similar (cosine, MiniLM) to a training turn are dropped as near-duplicates.
NEAR_DUP = 0.90
#: The shipped model is trained on the reference (torch) MiniLM vectors; queries may use either backend.
TRAIN_BACKEND = "torch"
CANDIDATES: list[dict[str, Any]] = [
    {"name": "logreg", "hidden": 0, "l2": 1e-2, "epochs": 500, "lr": 0.01},
    {"name": "logreg-strong-l2", "hidden": 0, "l2": 5e-2, "epochs": 500, "lr": 0.01},
    {"name": "mlp64", "hidden": 64, "l2": 1e-2, "epochs": 300, "lr": 0.003},
]


def build_turns() -> list[Turn]:
    """Every labelled turn of the training data, with its split (before near-duplicate removal)."""
    from scopebot.agent.router import load_examples

    turns = expand(load_templates())
    assign_splits(turns)
    turns += [Turn(text=e.text, label=e.label, family="examples", template=f"examples#{i}")
              for i, e in enumerate(load_examples())]
    return turns


def training_texts(path: Path | None = None) -> list[str]:
    """The texts of the shipped model's training split (for near-duplicate checks of eval sets)."""
    path = path or TRAINSET_PATH
    if not path.is_file():
        return [t.text for t in build_turns() if t.split == "train"]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["text"] for r in rows if r.get("split") == "train"]


def features_for(embedder: Embedder, turns: list[Turn]) -> np.ndarray:
    emb = embedder.embed([t.text for t in turns])
    return feature_matrix(emb, [t.text for t in turns], [t.image for t in turns], [t.after for t in turns])


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy - confidence| over ten confidence bins, weighted by the bins' sizes."""
    conf, pred = probs.max(1), probs.argmax(1)
    total = 0.0
    for lo in np.linspace(0.0, 1.0, bins, endpoint=False):
        inside = (conf > lo) & (conf <= lo + 1.0 / bins)
        if inside.any():
            total += float(inside.mean()) * abs(float((pred[inside] == y[inside]).mean()) - float(conf[inside].mean()))
    return total


def _log_loss(model: RouteClassifier, x: np.ndarray, y: np.ndarray) -> float:
    p = model.predict_proba(x)[np.arange(len(y)), y]
    return float(-np.log(np.clip(p, 1e-12, 1)).mean())


def train(embedder: Embedder, *, out_dir: Path = DATA_DIR, log: Any = print) -> dict[str, Any]:
    """Train, calibrate, test and write the model, the training set and the model card."""
    from scopebot.agent.router import decide  # the same decision rules the router applies

    t0 = time.time()
    turns = build_turns()
    log(f"{len(turns)} turns from {len({t.family for t in turns})} families; embedding with {embedder.name}")
    emb = embedder.embed([t.text for t in turns])
    train_idx = np.array([i for i, t in enumerate(turns) if t.split == "train"])
    held = np.array([i for i, t in enumerate(turns) if t.split != "train"])
    sims, nearest = nearest_similarity(emb[held], emb[train_idx])
    for i, s, j in zip(held, sims, nearest, strict=True):
        turns[i].extra = {"nearest_train_similarity": round(float(s), 4),
                          "nearest_train_text": turns[int(train_idx[j])].text}
        if s >= NEAR_DUP:
            turns[i].split = f"dropped-{turns[i].split}"
    x = feature_matrix(emb, [t.text for t in turns], [t.image for t in turns], [t.after for t in turns])
    y = np.array([ROUTES.index(t.label) for t in turns])
    parts = {s: np.array([i for i, t in enumerate(turns) if t.split == s]) for s in ("train", "calib", "test")}
    data_sha = hashlib.sha256("\n".join(f"{t.label}\t{t.image}\t{t.after}\t{t.split}\t{t.text}"
                                        for t in turns).encode()).hexdigest()[:16]
    meta = {"version": MODEL_VERSION, "embedder": embedder.name, "embedder_variant": getattr(embedder, "variant", ""),
            "dim": int(emb.shape[1]),
            "feature_version": FEATURE_VERSION, "cue_features": list(CUE_NAMES), "data_sha256": data_sha}
    fitted = []
    for cand in CANDIDATES:
        model = RouteClassifier.fit(x[parts["train"]], y[parts["train"]], list(ROUTES), hidden=cand["hidden"],
                                    l2=cand["l2"], epochs=cand["epochs"], lr=cand["lr"], meta=meta)
        model.calibrate(x[parts["calib"]], y[parts["calib"]])
        loss = _log_loss(model, x[parts["calib"]], y[parts["calib"]])
        acc = float((model.predict_proba(x[parts["calib"]]).argmax(1) == y[parts["calib"]]).mean())
        log(f"  {cand['name']}: calibration log-loss {loss:.4f}, accuracy {acc:.4f}, T={model.temperature:.2f}")
        fitted.append((loss, cand["name"], model, acc))
    loss, name, model, calib_acc = min(fitted, key=lambda f: f[0])
    model.meta.update({"candidate": name, "calibration_log_loss": round(loss, 4)})
    test = parts["test"]
    probs = model.predict_proba(x[test])
    raw = probs.argmax(1)
    routed = [decide(dict(zip(ROUTES, map(float, p), strict=True)), turns[i].text, has_image=turns[i].image)
              for p, i in zip(probs, test, strict=True)]
    final = np.array([ROUTES.index(r[0]) for r in routed])
    matrix = {e: dict.fromkeys(ROUTES, 0) for e in ROUTES}
    for i, f in zip(test, final, strict=True):
        matrix[ROUTES[y[i]]][ROUTES[int(f)]] += 1
    uncalibrated = softmax(model.logits(x[test]))
    kept_sims = np.array([turns[i].extra["nearest_train_similarity"] for i in test])
    counts = Counter((t.label, t.split) for t in turns)
    card = {
        "version": MODEL_VERSION, "model": name, "embedder": embedder.name,
        "embedder_variant": getattr(embedder, "variant", ""), "feature_version": FEATURE_VERSION,
        "data_sha256": data_sha, "temperature": round(model.temperature, 4), "near_duplicate_threshold": NEAR_DUP,
        "turns": len(turns), "templates": len({t.template for t in turns}),
        "split_counts": {s: {lbl: counts.get((lbl, s), 0) for lbl in ROUTES}
                         for s in ("train", "calib", "test", "dropped-calib", "dropped-test")},
        "test_nearest_train_similarity": {"max": round(float(kept_sims.max()), 4),
                                          "mean": round(float(kept_sims.mean()), 4)},
        "candidates": {n: {"calibration_log_loss": round(lo, 4), "calibration_accuracy": round(a, 4)}
                       for lo, n, _, a in fitted},
        "test_expected_calibration_error": {"before": round(expected_calibration_error(uncalibrated, y[test]), 4),
                                            "after": round(expected_calibration_error(probs, y[test]), 4)},
        "test_accuracy_argmax": round(float((raw == y[test]).mean()), 4),
        "test_accuracy": round(float((final == y[test]).mean()), 4),
        "test_confusion": matrix,
        "seconds": round(time.time() - t0, 1),
    }
    model.meta["test_accuracy"] = card["test_accuracy"]
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(out_dir / MODEL_PATH.name)
    with open(out_dir / TRAINSET_PATH.name, "w", encoding="utf-8") as fh:
        for t in turns:
            fh.write(json.dumps({**t.to_json(), **t.extra}, ensure_ascii=False) + "\n")
    (out_dir / CARD_PATH.name).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    log(f"test split: accuracy {card['test_accuracy']} (argmax {card['test_accuracy_argmax']}), "
        f"{len(test)} turns, nearest-train similarity max {card['test_nearest_train_similarity']['max']} "
        f"mean {card['test_nearest_train_similarity']['mean']}")
    return card


def main(argv: list[str] | None = None) -> None:
    import argparse

    from scopebot.index.embeddings import make_embedder

    parser = argparse.ArgumentParser(description="Rebuild the learned router model.")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write the model and its card")
    parser.add_argument("--embedder", default=None, help="minilm (default) or a SentenceTransformer folder")
    parser.add_argument("--backend", default=TRAIN_BACKEND, choices=["torch", "onnx"],
                        help="MiniLM backend to embed the training turns with (torch, the reference, by default)")
    args = parser.parse_args(argv)
    train(make_embedder(training_settings(args.embedder, args.backend)), out_dir=args.out)


def training_settings(embedder: str | None = None, backend: str = "torch") -> Any:
    """Settings for embedding the training turns (the reference torch backend unless told otherwise)."""
    from scopebot.settings import Settings

    overrides: dict[str, Any] = {"embedding_backend": backend}
    if embedder:
        overrides["embedding_model"] = embedder
    return Settings(**overrides)


if __name__ == "__main__":
    main()
