"""A small softmax classifier in numpy (multinomial logistic regression or a one-hidden-layer MLP).

Trained with full-batch Adam, L2 weight decay and class weights that balance the routes; calibrated
with one temperature fitted on a calibration split (minimum negative log-likelihood). Saved as a
small ``.npz`` with its metadata (model version, embedder, feature layout, training data hash), so a
model trained for another embedder or feature layout is refused instead of silently misrouting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scopebot.errors import ConfigurationError


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class RouteClassifier:
    """Standardised features → (hidden ReLU layer →) logits over ``labels``; see the module docstring."""

    labels: list[str]
    mean: np.ndarray
    std: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    temperature: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    # -- inference -------------------------------------------------------------------------------------
    def logits(self, x: np.ndarray) -> np.ndarray:
        h = (np.asarray(x, np.float32) - self.mean) / self.std
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                h = np.maximum(h, 0.0)
        return h

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, one row per input row."""
        return softmax(self.logits(x) / self.temperature)

    # -- training --------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, labels: list[str], *, hidden: int = 0, l2: float = 1e-3,
            epochs: int = 400, lr: float = 0.01, seed: int = 0, meta: dict[str, Any] | None = None) -> RouteClassifier:
        """Fit on ``x`` (rows) and integer labels ``y``; ``hidden=0`` is logistic regression."""
        x = np.asarray(x, np.float32)
        mean = x.mean(0)
        std = x.std(0) + 1e-3
        xs = (x - mean) / std
        n, d = xs.shape
        k = len(labels)
        rng = np.random.default_rng(seed)
        sizes = [d, hidden, k] if hidden else [d, k]
        weights = [rng.normal(0, np.sqrt(2.0 / a), (a, b)).astype(np.float32) * (0.5 if not hidden else 1.0)
                   for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
        biases = [np.zeros(b, np.float32) for b in sizes[1:]]
        counts = np.bincount(y, minlength=k).astype(np.float32)
        class_w = (n / (k * np.maximum(counts, 1.0)))[y][:, None]
        onehot = np.eye(k, dtype=np.float32)[y]
        params = weights + biases
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        b1, b2, eps = 0.9, 0.999, 1e-8
        for step in range(1, epochs + 1):
            acts = [xs]
            h = xs
            for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
                h = h @ w + b
                if i < len(weights) - 1:
                    h = np.maximum(h, 0.0)
                    acts.append(h)
            grad = (softmax(h) - onehot) * class_w / n
            gws, gbs = [], []
            for i in range(len(weights) - 1, -1, -1):
                gws.insert(0, acts[i].T @ grad + l2 * weights[i])
                gbs.insert(0, grad.sum(0))
                if i > 0:
                    grad = (grad @ weights[i].T) * (acts[i] > 0)
            for j, (p, g) in enumerate(zip(params, gws + gbs, strict=True)):
                m[j] = b1 * m[j] + (1 - b1) * g
                v[j] = b2 * v[j] + (1 - b2) * g * g
                p -= lr * (m[j] / (1 - b1 ** step)) / (np.sqrt(v[j] / (1 - b2 ** step)) + eps)
        return cls(labels=list(labels), mean=mean, std=std, weights=weights, biases=biases, meta=dict(meta or {}))

    def calibrate(self, x: np.ndarray, y: np.ndarray) -> float:
        """Fit the temperature on a calibration split (grid search on the negative log-likelihood)."""
        z = self.logits(x)
        best_t, best_nll = 1.0, float("inf")
        for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 121)):
            p = softmax(z / t)[np.arange(len(y)), y]
            nll = float(-np.log(np.clip(p, 1e-12, 1.0)).mean())
            if nll < best_nll:
                best_t, best_nll = float(t), nll
        self.temperature = best_t
        return best_t

    # -- storage ---------------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        arrays: dict[str, np.ndarray] = {"mean": self.mean, "std": self.std}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"] = w.astype(np.float32)
            arrays[f"b{i}"] = b.astype(np.float32)
        meta = {**self.meta, "labels": self.labels, "temperature": self.temperature, "layers": len(self.weights)}
        arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: Path) -> RouteClassifier:
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                layers = int(meta["layers"])
                return cls(labels=list(meta["labels"]), mean=data["mean"], std=data["std"],
                           weights=[data[f"w{i}"] for i in range(layers)],
                           biases=[data[f"b{i}"] for i in range(layers)],
                           temperature=float(meta.get("temperature", 1.0)), meta=meta)
        except (OSError, KeyError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the router model {path}: {exc}",
                                     hint="rebuild it with `python -m scopebot.agent.train_router`") from exc
