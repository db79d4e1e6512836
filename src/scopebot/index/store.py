"""The dense vector store: chromadb, embedded on disk or a Chroma server.

We always hand Chroma our own vectors and our own embedding function (never Chroma's default,
which would download a model), and telemetry is off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scopebot.errors import ConfigurationError, ScopebotRuntimeError
from scopebot.index.embeddings import Embedder

COLLECTION_PREFIX = "scopebot_"


class _Unbound(Embedder):
    """Stands in for the embedder where a collection only stores and returns given vectors."""

    def __init__(self, name: str = "unbound") -> None:
        self.name = name

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise ScopebotRuntimeError("scopebot collections must be opened through scopebot.knowledge.KnowledgeBase")


def placeholder_embedder(name: str) -> Embedder:
    """An embedder named ``name`` that refuses to embed: for collections that are given vectors."""
    return _Unbound(name)


class ChromaEmbeddingFunction:
    """Adapter giving Chroma our embedder, so it never falls back to its downloading default."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 (Chroma's signature)
        return list(self._embedder.embed(list(input)))

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return self(input)

    def embed_documents(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002
        return self(input)

    @staticmethod
    def name() -> str:
        return "scopebot"

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        """Chroma rebuilds functions from stored config; ours needs the live embedder, so this one refuses to embed."""
        return ChromaEmbeddingFunction(_Unbound())


def make_client(path: Path | None, url: str | None) -> Any:
    """A Chroma client: ``HttpClient`` when ``url`` is set, else ``PersistentClient`` at ``path``."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if not parsed.hostname:
            raise ConfigurationError(f"Invalid Chroma URL {url!r}", hint="use http://host:port")
        try:
            return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000,
                                       ssl=parsed.scheme == "https", settings=cs)
        except Exception as exc:
            raise ScopebotRuntimeError(f"Cannot reach the Chroma server at {url}: {exc}",
                                       hint="start it (chroma run --path DIR) or unset SCOPEBOT_CHROMA_URL") from exc
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=cs)


class VectorStore:
    """One Chroma collection of chunk vectors (id = citation key, metadata = kind and source)."""

    def __init__(self, client: Any, collection_name: str, embedder: Embedder) -> None:
        self.client = client
        self.name = collection_name
        self.embedder = embedder
        self._col = client.get_or_create_collection(
            collection_name, embedding_function=ChromaEmbeddingFunction(embedder),
            metadata={"hnsw:space": "cosine", "embedder": embedder.name})
        self._total: int | None = None

    def freeze(self) -> None:
        """Remember the collection size: a read-only store then skips a count query per search."""
        self._total = self.count()

    def add(self, keys: Sequence[str], vectors: np.ndarray, kinds: Sequence[str], sources: Sequence[str],
            batch: int = 2000) -> None:
        for i in range(0, len(keys), batch):
            self._col.add(ids=list(keys[i:i + batch]), embeddings=vectors[i:i + batch],
                          metadatas=[{"kind": k, "source": s} for k, s in
                                     zip(kinds[i:i + batch], sources[i:i + batch], strict=True)])

    def vectors(self, keys: Sequence[str], batch: int = 2000) -> dict[str, np.ndarray]:
        """Stored vectors of the given keys (missing keys are absent from the result)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), batch):
            got = self._col.get(ids=list(keys[i:i + batch]), include=["embeddings"])
            for key, vec in zip(got["ids"], got["embeddings"], strict=True):
                out[key] = np.asarray(vec, dtype=np.float32)
        return out

    def count(self) -> int:
        return int(self._col.count())

    def query(self, vector: np.ndarray, n: int, kinds: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Top ``n`` (key, cosine similarity) pairs."""
        total = self._total if self._total is not None else self.count()
        if total == 0:
            return []
        where: dict[str, Any] | None = None
        if kinds:
            where = {"kind": kinds[0]} if len(kinds) == 1 else {"kind": {"$in": list(kinds)}}
        res = self._col.query(query_embeddings=[vector], n_results=min(n, total), where=where,
                              include=["distances"])
        ids = res["ids"][0]
        dists = res["distances"][0]
        return [(k, 1.0 - float(d)) for k, d in zip(ids, dists, strict=True)]

    def drop(self) -> None:
        self.client.delete_collection(self.name)
