"""The retriever seam every consumer (answers, tools, code, agent, UI) depends on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from scopebot.index.embeddings import Embedder, HashEmbedder
from scopebot.index.models import Chunk, SearchResult


@runtime_checkable
class Retriever(Protocol):
    """Anything that can search scopebot's passages."""

    def search(self, query: str, k: int = 5, kinds: Sequence[str] | None = None) -> list[SearchResult]:
        """The ``k`` best passages for ``query``, optionally restricted to source kinds."""
        ...

    def get(self, key: str) -> Chunk | None:
        """The chunk with citation key ``key``, or None."""
        ...

    def iter_chunks(self, kinds: Sequence[str] | None = None) -> Iterator[Chunk]:
        """Every chunk (of the given kinds)."""
        ...


class InMemoryRetriever:
    """A small dense-only retriever over a list of chunks: a test double and a fallback.

    It follows :class:`Retriever`, so unit tests can inject it where the real
    :class:`scopebot.knowledge.KnowledgeBase` would go.
    """

    def __init__(self, chunks: Iterable[Chunk], embedder: Embedder | None = None) -> None:
        self.chunks = list(chunks)
        self.embedder = embedder or HashEmbedder()
        self._by_key = {c.key: c for c in self.chunks}
        self._matrix = (self.embedder.embed([c.text for c in self.chunks]) if self.chunks
                        else np.zeros((0, self.embedder.dim or 1), dtype=np.float32))

    def search(self, query: str, k: int = 5, kinds: Sequence[str] | None = None) -> list[SearchResult]:
        if not self.chunks:
            return []
        q = self.embedder.embed_one(query)
        sims = self._matrix @ q
        order = np.argsort(-sims)
        out: list[SearchResult] = []
        for idx in order:
            chunk = self.chunks[int(idx)]
            if kinds and chunk.kind not in kinds:
                continue
            out.append(SearchResult(chunk=chunk, score=float(sims[idx]), dense_score=float(sims[idx]),
                                    rank=len(out) + 1))
            if len(out) >= k:
                break
        return out

    def get(self, key: str) -> Chunk | None:
        return self._by_key.get(key)

    def iter_chunks(self, kinds: Sequence[str] | None = None) -> Iterator[Chunk]:
        return (c for c in self.chunks if not kinds or c.kind in kinds)
