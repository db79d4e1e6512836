"""The chunk vectors as one numpy matrix beside the Chroma store, for exact search without chromadb.

``dense.npy`` holds one L2-normalised float32 row per chunk, in the order of ``chunks.jsonl``. The
builder writes it with every build; for a build made before the file existed it is filled once from
the Chroma collection (see :func:`load_or_fill`). Importing chromadb and opening a persistent client
costs a CLI process more than a second; reading the matrix costs milliseconds, and exact
brute-force cosine over a few thousand rows takes about a millisecond.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

DENSE_FILE = "dense.npy"


class DenseMatrix:
    """Exact cosine search over the rows of a matrix; the same interface as :class:`VectorStore`."""

    def __init__(self, keys: Sequence[str], kinds: Sequence[str], matrix: np.ndarray) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != len(keys):
            raise ValueError(f"{matrix.shape[0]} vectors for {len(keys)} chunks")
        self.keys = list(keys)
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self._row = {k: i for i, k in enumerate(self.keys)}
        by_kind: dict[str, list[int]] = {}
        for i, kind in enumerate(kinds):
            by_kind.setdefault(kind, []).append(i)
        self._kind_rows = {k: np.asarray(v, dtype=np.int64) for k, v in by_kind.items()}

    def freeze(self) -> None:
        """Nothing to do: the matrix is read-only already (kept for the store interface)."""

    def count(self) -> int:
        return len(self.keys)

    def vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {k: self.matrix[i] for k in keys if (i := self._row.get(k)) is not None}

    def query(self, vector: np.ndarray, n: int, kinds: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Top ``n`` (key, cosine similarity) pairs, best first."""
        if kinds:
            parts = [r for k in kinds if (r := self._kind_rows.get(k)) is not None]
            rows = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
            sims = self.matrix[rows] @ np.asarray(vector, dtype=np.float32)
        else:
            rows = None
            sims = self.matrix @ np.asarray(vector, dtype=np.float32)
        n = min(n, len(sims))
        if n <= 0:
            return []
        top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        picked = rows[top] if rows is not None else top
        return [(self.keys[int(i)], float(s)) for i, s in zip(picked, sims[top], strict=True)]


def save_matrix(directory: Path, matrix: np.ndarray) -> None:
    """Write ``dense.npy`` atomically (a reader never sees half a file)."""
    tmp = directory / f".{DENSE_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    with tmp.open("wb") as fh:
        np.save(fh, np.ascontiguousarray(matrix, dtype=np.float32))
    os.replace(tmp, directory / DENSE_FILE)


def load_matrix(directory: Path, rows: int) -> np.ndarray | None:
    """The saved matrix when it exists and has one row per chunk, else None."""
    path = directory / DENSE_FILE
    if not path.is_file():
        return None
    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    return matrix if matrix.ndim == 2 and matrix.shape[0] == rows else None


def load_or_fill(directory: Path, keys: Sequence[str], fetch: Callable[[Sequence[str]], dict[str, np.ndarray]],
                 dim: int) -> np.ndarray | None:
    """The build's matrix; for an older build without one, fetched once from Chroma and saved beside it.

    Returns None when some chunk has no stored vector (a damaged store): the caller keeps Chroma.
    """
    matrix = load_matrix(directory, len(keys))
    if matrix is not None:
        return matrix
    got = fetch(keys)
    if len(got) != len(keys):
        return None
    matrix = np.stack([got[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
    try:
        save_matrix(directory, matrix)
    except OSError:  # a read-only index still works, it just pays the Chroma start next time too
        pass
    return matrix
