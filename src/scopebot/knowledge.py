"""The knowledge base: hybrid (dense + BM25) search over the live index, with scores exposed.

Ranking: the query is embedded once; the dense retriever returns the nearest chunks by cosine
similarity (exactly, over the build's ``dense.npy`` matrix; through Chroma when the index lives on a
Chroma server) and BM25 the best lexical matches (``settings.candidates`` each). The two rankings are merged with
weighted reciprocal-rank fusion (``w / (rrf_k + rank)``), multiplied by the source's retrieval
prior (``weight`` in ``knowledge/sources.yaml``: the curated book counts a little more, catalog
entries that only point to material elsewhere a little less); near-duplicate passages (token Jaccard
above ``dedupe_threshold``) are dropped, and at most ``per_section`` passages of one section are
kept in the first results so that the top-k covers several sections.

``KnowledgeBase`` follows the :class:`scopebot.index.protocols.Retriever` protocol;
:func:`as_langchain_retriever` adapts it to LangChain's ``BaseRetriever``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from scopebot.errors import ConfigurationError, MissingIndexError
from scopebot.index.compat import check_query_embedder
from scopebot.index.dense import DenseMatrix, load_or_fill
from scopebot.index.derived import cached_json
from scopebot.index.embeddings import Embedder, make_embedder
from scopebot.index.lexical import LexicalIndex
from scopebot.index.manifest import IndexManifest, live_dir, read_chunks
from scopebot.index.models import Chunk, SearchResult
from scopebot.settings import Settings
from scopebot.sources.models import SOURCE_KINDS

_WORD = re.compile(r"[a-z0-9]+")
T = TypeVar("T")


def _tokens(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def check_kinds(kinds: Sequence[str] | None) -> list[str] | None:
    """Validate source-kind filters; unknown kinds are a usage error."""
    if not kinds:
        return None
    bad = [k for k in kinds if k not in SOURCE_KINDS]
    if bad:
        raise ConfigurationError(f"Unknown source kind(s): {', '.join(bad)}",
                                 hint=f"use one of: {', '.join(SOURCE_KINDS)}")
    return list(kinds)


class KnowledgeBase:
    """Searchable view of one index build."""

    def __init__(self, directory: Path, settings: Settings, embedder: Embedder) -> None:
        self.directory = directory
        self.settings = settings
        self.embedder = embedder
        self.manifest = IndexManifest.load(directory)
        if embedder.name != self.manifest.embedder:
            raise ConfigurationError(
                f"The index was built with the embedder {self.manifest.embedder!r} but {embedder.name!r} is configured",
                hint="set SCOPEBOT_EMBEDDING_MODEL to match, or rebuild with `scopebot ingest --force`")
        self._chunks = read_chunks(directory)
        self.weights = {sid: st.weight for sid, st in self.manifest.sources.items()}
        self._by_key = {c.key: c for c in self._chunks}
        self._tokens: dict[str, set[str]] = {}
        self.vectors: Any = self._open_vectors()
        check_query_embedder(self.manifest, embedder, self._chunks, self.vectors, settings.embedding_tolerance)
        self.lexical = LexicalIndex.load(directory / "bm25")

    def _open_vectors(self) -> Any:
        """The dense matrix beside an embedded store (filled from Chroma once for older builds), or the
        Chroma collection when the index lives on a Chroma server."""
        if not self.manifest.chroma_url:
            keys = [c.key for c in self._chunks]
            matrix = load_or_fill(self.directory, keys, lambda ks: self._chroma().vectors(ks),
                                  self.manifest.embedding_dim)
            if matrix is not None:
                return DenseMatrix(keys, [c.kind for c in self._chunks], matrix)
        return self._chroma()

    def _chroma(self) -> Any:
        from scopebot.index.store import VectorStore, make_client

        client = make_client(self.directory / "chroma", self.manifest.chroma_url)
        store = VectorStore(client, self.manifest.collection, self.embedder)
        store.freeze()  # a build is immutable once live
        return store

    @classmethod
    def open(cls, settings: Settings | None = None, embedder: Embedder | None = None) -> KnowledgeBase:
        """Open the live index of ``settings.home``; a clear error when none was built."""
        settings = settings or Settings()
        directory = live_dir(settings)
        if directory is None:
            raise MissingIndexError(f"No index found in {settings.home}",
                                    hint="build it with `scopebot ingest` (or set SCOPEBOT_HOME)")
        return cls(directory, settings, embedder or make_embedder(settings))

    # ---------------------------------------------------------------- Retriever protocol
    def search(self, query: str, k: int = 5, kinds: Sequence[str] | None = None, *,
               per_section: int | None = 2) -> list[SearchResult]:
        """The ``k`` best passages for ``query`` (hybrid, deduplicated, scores exposed)."""
        query = (query or "").strip()
        if not query:
            raise ConfigurationError("The search query is empty", hint="type a question or some keywords")
        kinds = check_kinds(kinds)
        s = self.settings
        n = max(s.candidates, k * 4)
        qvec = self.embedder.embed_one(query)
        dense = self.vectors.query(qvec, n, kinds)
        lexical = self.lexical.search(query, n * (3 if kinds else 1))
        if kinds:
            lexical = [(key, sc) for key, sc in lexical if self._by_key[key].kind in kinds][:n]
        fused: dict[str, float] = {}
        dscore = dict(dense)
        lscore = dict(lexical)
        for rank, (key, _) in enumerate(dense):
            fused[key] = fused.get(key, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        for rank, (key, _) in enumerate(lexical):
            fused[key] = fused.get(key, 0.0) + s.lexical_weight / (s.rrf_k + rank + 1)
        for key in fused:  # per-source retrieval prior (sources.yaml `weight`)
            chunk = self._by_key.get(key)
            if chunk is not None:
                fused[key] *= self.weights.get(chunk.source_id, 1.0)
        order = sorted(fused, key=lambda key: -fused[key])
        results: list[SearchResult] = []
        kept_tokens: list[set[str]] = []
        per_sec: dict[tuple[str, str], int] = {}
        deferred: list[str] = []
        for key in order:
            chunk = self._by_key.get(key)
            if chunk is None:
                continue
            toks = self._tok(chunk)
            if any(_jaccard(toks, other) >= s.dedupe_threshold for other in kept_tokens):
                continue
            sec = (chunk.url, chunk.breadcrumb)
            if per_section and per_sec.get(sec, 0) >= per_section:
                deferred.append(key)
                continue
            per_sec[sec] = per_sec.get(sec, 0) + 1
            kept_tokens.append(toks)
            results.append(self._result(chunk, fused[key], dscore.get(key), lscore.get(key), len(results) + 1))
            if len(results) >= k:
                break
        for key in deferred:  # fill up with same-section passages only when nothing else is left
            if len(results) >= k:
                break
            chunk = self._by_key[key]
            results.append(self._result(chunk, fused[key], dscore.get(key), lscore.get(key), len(results) + 1))
        return results

    def get(self, key: str) -> Chunk | None:
        return self._by_key.get(key)

    def derived(self, name: str, compute: Callable[[], T], version: str) -> T:
        """Data computed from this build's chunks (JSON values), computed once per build and kept in the
        build directory; ``version`` must change when the computation does (see
        :func:`scopebot.index.derived.code_version`)."""
        return cached_json(self.directory, name, version, compute)

    def iter_chunks(self, kinds: Sequence[str] | None = None) -> Iterator[Chunk]:
        return (c for c in self._chunks if not kinds or c.kind in kinds)

    def __len__(self) -> int:
        return len(self._chunks)

    # ---------------------------------------------------------------- helpers
    def _tok(self, chunk: Chunk) -> set[str]:
        toks = self._tokens.get(chunk.key)
        if toks is None:
            toks = self._tokens[chunk.key] = _tokens(chunk.body)
        return toks

    @staticmethod
    def _result(chunk: Chunk, score: float, dense: float | None, lexical: float | None, rank: int) -> SearchResult:
        return SearchResult(chunk=chunk, score=score, dense_score=dense, lexical_score=lexical, rank=rank)


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def as_langchain_retriever(kb: Any, k: int = 5, kinds: Sequence[str] | None = None) -> Any:
    """A LangChain ``BaseRetriever`` over any scopebot retriever (documents carry key, url, scores)."""
    from scopebot.index.langchain import ScopebotRetriever

    return ScopebotRetriever(kb=kb, k=k, kinds=list(kinds) if kinds else None)
