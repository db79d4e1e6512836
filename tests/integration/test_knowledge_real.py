"""The knowledge layer on real components: packaged MiniLM (torch and int8 ONNX), chromadb on disk, the real
book source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import SentenceTransformerEmbedder
from scopebot.index.onnx_embedder import OnnxEmbedder
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


# ---------------------------------------------------------------- the int8 ONNX embedder (default query path)
@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_float(onnx_cache: Path) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=onnx_cache)


@pytest.fixture(scope="module")
def onnx_dq(onnx_cache: Path) -> OnnxEmbedder:
    return OnnxEmbedder(cache_dir=onnx_cache, int8_activations=True)


def test_onnx_vectors_match_the_torch_ones(book_kb: KnowledgeBase, embedder: SentenceTransformerEmbedder,
                                           onnx_float: OnnxEmbedder, onnx_dq: OnnxEmbedder) -> None:
    texts = [c.text for c in list(book_kb.iter_chunks())[::7][:80]]
    ref = embedder.embed(texts)
    cos = np.sum(onnx_float.embed(texts) * ref, axis=1)
    assert cos.min() > 0.995, cos.min()
    queries = ["how do I denoise low light images", "segment nuclei in 3D", "what is a point spread function"]
    q_cos = [float(onnx_dq.embed_one(q) @ embedder.embed_one(q)) for q in queries]
    assert min(q_cos) > 0.98, q_cos
    assert onnx_dq.variant == "onnx-int8-dq" and onnx_float.variant == "onnx-int8"


def test_onnx_query_path_searches_the_torch_built_index(book_kb: KnowledgeBase, onnx_dq: OnnxEmbedder) -> None:
    fast = KnowledgeBase.open(book_kb.settings, onnx_dq)
    for q in ["how can a network learn to remove noise when I have no clean images?",
              "what are the building blocks of a U-Net?", "deconvolution point spread function"]:
        a = [r.chunk.key for r in fast.search(q)]
        b = [r.chunk.key for r in book_kb.search(q)]
        assert a[0] == b[0] and len(set(a) & set(b)) >= 4, (q, a, b)


def test_onnx_graph_cache_is_reused_and_gives_the_same_vectors(onnx_cache: Path, onnx_float: OnnxEmbedder,
                                                               onnx_dq: OnnxEmbedder) -> None:
    texts = ["noise2void", "a longer sentence about registering drifting frames of a time-lapse " * 3]
    before = onnx_float.embed(texts)
    assert list(onnx_cache.glob("minilm-*/model.bin")) and list(onnx_cache.glob("minilm-dq-*/model.onnx"))
    again = OnnxEmbedder(cache_dir=onnx_cache)
    assert np.allclose(again.embed(texts), before, atol=1e-5)
    assert np.allclose(again.embed_one(texts[0]), before[0], atol=1e-5)
    dq_again = OnnxEmbedder(cache_dir=onnx_cache, int8_activations=True)
    assert np.allclose(dq_again.embed_one(texts[1]), onnx_dq.embed_one(texts[1]), atol=1e-5)
    many = again.embed(texts * 10)  # > 8 texts: the bulk session, token-budget batches, original order
    assert np.allclose(many[:2], before, atol=1e-5) and np.allclose(many[-2:], before, atol=1e-5)


@pytest.mark.integration
def test_minilm_embedder_does_not_crash_on_undecodable_text() -> None:
    """The tokenizer raises TypeError on a lone surrogate; the seam replaces it (same vector as U+FFFD)."""
    from scopebot.index.onnx_embedder import OnnxEmbedder

    emb = OnnxEmbedder()
    bad = b"segment \xff nuclei".decode("utf-8", "surrogateescape")
    vecs = emb.embed([bad, "segment \ufffd nuclei"])
    assert vecs.shape == (2, emb.dim)
    assert float(vecs[0] @ vecs[1]) > 0.999
