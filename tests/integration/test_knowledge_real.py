"""The knowledge layer on real components: packaged MiniLM, chromadb on disk, the real book source."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import SentenceTransformerEmbedder
from scopebot.knowledge import KnowledgeBase, as_langchain_retriever
from scopebot.settings import Settings

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not Settings().sources_dir.is_dir(), reason="knowledge sources not available")]


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def book_kb(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> KnowledgeBase:
    settings = Settings(home=tmp_path_factory.mktemp("real") / "home")
    manifest = IndexBuilder(settings, embedder).ingest(["janelia-book"])
    assert manifest.sources["janelia-book"].status == "ok"
    assert manifest.total_chunks > 300
    return KnowledgeBase.open(settings, embedder)


def test_minilm_embeddings_are_normalised_and_semantic(embedder: SentenceTransformerEmbedder) -> None:
    v = embedder.embed(["removing noise from images", "denoising micrographs", "the price of coffee"])
    assert v.shape == (3, 384)
    assert abs(float((v[0] ** 2).sum()) - 1.0) < 1e-4
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.2


@pytest.mark.parametrize("question, heading", [
    ("how can a network learn to remove noise when I have no clean images?", "Denoising"),
    ("what is a hallucination in a model output?", "Hallucinations"),
    ("what are the building blocks of a U-Net?", "U-Net"),
])
def test_real_questions_find_their_book_section(book_kb: KnowledgeBase, question: str, heading: str) -> None:
    res = book_kb.search(question, k=5)
    paths = [" › ".join(r.chunk.path + [r.chunk.title]).lower() for r in res]
    assert any(heading.lower() in p for p in paths), paths
    assert all(r.chunk.url.startswith("https://bioimagingai.janelia.org/") for r in res)
    assert all(r.dense_score is not None or r.lexical_score is not None for r in res)


def test_reopening_reads_the_same_on_disk_index(book_kb: KnowledgeBase, embedder: SentenceTransformerEmbedder) -> None:
    again = KnowledgeBase.open(book_kb.settings, embedder)
    q = "deconvolution point spread function"
    assert [r.chunk.key for r in again.search(q)] == [r.chunk.key for r in book_kb.search(q)]
    assert again.vectors.count() == len(again)


def test_unchanged_reingest_is_skipped(book_kb: KnowledgeBase, embedder: SentenceTransformerEmbedder) -> None:
    m = IndexBuilder(book_kb.settings, embedder).ingest(["janelia-book"])
    assert m.sources["janelia-book"].status == "skipped"
    assert Path(book_kb.settings.index_dir).resolve() == book_kb.directory


def test_langchain_retriever_on_the_real_index(book_kb: KnowledgeBase) -> None:
    docs = as_langchain_retriever(book_kb, k=3, kinds=["book"]).invoke("training data annotation")
    assert len(docs) == 3 and all(d.metadata["kind"] == "book" for d in docs)


def test_fast_query_path_equals_encode(embedder: SentenceTransformerEmbedder) -> None:
    for text in ["denoising with Noise2Void", "a much longer question " * 40]:
        fast = embedder.embed_one(text)
        slow = embedder.embed([text])[0]
        assert float(fast @ slow) > 0.9999
