"""Index building and hybrid search with the deterministic hash embedder and real chromadb."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scopebot.citations import KEY_PATTERN
from scopebot.errors import ConfigurationError, MissingIndexError
from scopebot.index.builder import IndexBuilder, live_dir
from scopebot.index.chunking import Chunker
from scopebot.index.embeddings import HashEmbedder
from scopebot.index.lexical import tokenize
from scopebot.knowledge import KnowledgeBase, as_langchain_retriever
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

BOOK = SourceSpec(id="testbook", title="Test Book", kind="book", license="BSD-3", attribution="us",
                  url="https://example.org/book", subpath="book", parser="markdown",
                  options={"label": "Book"})
REG = SourceSpec(id="testreg", title="Test Registry", kind="registry", license="CC0", attribution="us",
                 url="https://example.org/reg", subpath="reg", parser="markdown")


def sec(title: str, text: str, *, spec: SourceSpec = BOOK, chapter: str = "2 Restoration") -> Section:
    return Section(source_id=spec.id, kind=spec.kind, doc_title=chapter, path=[chapter, title],
                   anchor=title.lower().replace(" ", "-"), url=f"https://example.org/{chapter[0]}.html#x", text=text)


SECTIONS = [
    sec("Denoising", "Self-supervised denoising such as Noise2Void learns to remove shot noise without clean "
                     "ground truth images. It works on single noisy acquisitions at low laser power."),
    sec("Deconvolution", "Deconvolution reverses the blur of the point spread function of the microscope "
                         "with iterative Richardson-Lucy updates."),
    sec("Segmentation", "Instance segmentation of nuclei assigns a separate label to every nucleus; "
                        "watershed splits touching objects.", chapter="3 Segmentation"),
    sec("Long", " ".join(f"Sentence number {i} talks about registration of moving frames." for i in range(40)),
        chapter="4 Registration"),
]
TOOLS = [sec("Fiji", "Fiji is an image analysis platform with many plugins for thresholding.", spec=REG,
             chapter="Fiji")]


def build(settings: Settings) -> KnowledgeBase:
    b = IndexBuilder(settings, HashEmbedder())
    b.ingest_sections(BOOK, SECTIONS)
    b.ingest_sections(REG, TOOLS)
    return KnowledgeBase.open(settings, HashEmbedder())


def test_chunks_carry_breadcrumb_key_and_respect_cap() -> None:
    chunks = list(Chunker(300, 50).chunk_sections(BOOK, SECTIONS))
    long = [c for c in chunks if c.section == "Long"]
    assert len(long) > 3
    for c in chunks:
        assert c.text.startswith("Book › ")
        assert c.breadcrumb.split(" › ")[-1] == c.section
        assert len(c.body) <= 300
        import re

        assert re.fullmatch(KEY_PATTERN, c.key)
    # keys are stable (content-derived)
    again = list(Chunker(300, 50).chunk_sections(BOOK, SECTIONS))
    assert [c.key for c in chunks] == [c.key for c in again]


def test_chunker_keeps_code_blocks_together() -> None:
    code = "```python\nimport numpy as np\nx = np.zeros(3)\nprint(x)\n```"
    text = ("Intro paragraph about arrays. " * 12) + "\n\n" + code + "\n\n" + ("Outro text here. " * 12)
    pieces = Chunker(300, 40).split_text(text)
    assert any("import numpy as np\nx = np.zeros(3)\nprint(x)" in p for p in pieces)


def test_hybrid_search_finds_the_right_section(tmp_settings: Settings) -> None:
    kb = build(tmp_settings)
    res = kb.search("remove noise without ground truth", k=3)
    assert res[0].chunk.section == "Denoising"
    assert res[0].score > 0 and res[0].rank == 1
    assert all(r.score >= s.score for r, s in zip(res, res[1:], strict=False))
    only = kb.search("plugins for thresholding", k=3, kinds=["registry"])
    assert only and all(r.chunk.kind == "registry" for r in only)
    assert kb.get(res[0].chunk.key) == res[0].chunk


def test_search_diversifies_sections(tmp_settings: Settings) -> None:
    kb = build(tmp_settings)
    res = kb.search("registration of moving frames", k=4)
    assert sum(r.chunk.section == "Long" for r in res[:3]) <= 2
    assert len({r.chunk.key for r in res}) == len(res)


def test_bad_queries_are_usage_errors(tmp_settings: Settings) -> None:
    kb = build(tmp_settings)
    with pytest.raises(ConfigurationError):
        kb.search("   ")
    with pytest.raises(ConfigurationError, match="Unknown source kind"):
        kb.search("noise", kinds=["blog"])


def test_missing_index_is_a_clear_error(tmp_settings: Settings) -> None:
    with pytest.raises(MissingIndexError, match="scopebot ingest"):
        KnowledgeBase.open(tmp_settings, HashEmbedder())


def test_incremental_ingest_reuses_unchanged_chunks(tmp_settings: Settings) -> None:
    b = IndexBuilder(tmp_settings, HashEmbedder())
    m1 = b.ingest_sections(BOOK, SECTIONS)
    first = live_dir(tmp_settings)
    m2 = b.ingest_sections(BOOK, SECTIONS)  # identical content: nothing rebuilt
    assert m2.build_id == m1.build_id and live_dir(tmp_settings) == first
    assert m2.sources["testbook"].status == "skipped"
    changed = [*SECTIONS[:-1], sec("Long", "Now a short section about image registration.", chapter="4 Registration")]
    m3 = b.ingest_sections(BOOK, changed)
    assert m3.build_id != m1.build_id and live_dir(tmp_settings) != first
    kb = KnowledgeBase.open(tmp_settings, HashEmbedder())
    assert any("short section" in c.text for c in kb.iter_chunks())
    assert not any("Sentence number 3 " in c.text for c in kb.iter_chunks())


def test_other_sources_survive_a_source_update(tmp_settings: Settings) -> None:
    kb = build(tmp_settings)
    before = {c.key for c in kb.iter_chunks(["registry"])}
    IndexBuilder(tmp_settings, HashEmbedder()).ingest_sections(BOOK, SECTIONS[:2])
    kb2 = KnowledgeBase.open(tmp_settings, HashEmbedder())
    assert {c.key for c in kb2.iter_chunks(["registry"])} == before
    assert {c.section for c in kb2.iter_chunks(["book"])} == {"Denoising", "Deconvolution"}


def test_manifest_written(tmp_settings: Settings) -> None:
    build(tmp_settings)
    data = json.loads((live_dir(tmp_settings) / "manifest.json").read_text())
    assert data["total_chunks"] > 0 and set(data["sources"]) == {"testbook", "testreg"}
    assert data["embedder"] == "hash-256" and "chromadb" in data["versions"]


def test_embedder_mismatch_is_detected(tmp_settings: Settings) -> None:
    build(tmp_settings)
    with pytest.raises(ConfigurationError, match="embedder"):
        KnowledgeBase.open(tmp_settings, HashEmbedder(dim=64))


def test_langchain_adapter_returns_documents(tmp_settings: Settings) -> None:
    kb = build(tmp_settings)
    docs = as_langchain_retriever(kb, k=2).invoke("deconvolution point spread function")
    assert docs and docs[0].metadata["section"] == "Deconvolution"
    assert docs[0].metadata["url"].startswith("https://") and "score" in docs[0].metadata


def test_tokenizer_stems_and_keeps_dotted_names() -> None:
    assert tokenize("denoising")[0] == tokenize("denoise")[0]
    assert tokenize("nuclei") == tokenize("nucleus")
    assert "skimage.filters.threshold_otsu" in tokenize("use skimage.filters.threshold_otsu here")
    assert tokenize("the and of") == []


def test_index_dir_is_a_symlink_swap(tmp_settings: Settings) -> None:
    build(tmp_settings)
    link: Path = tmp_settings.index_dir
    assert link.is_symlink()
    assert not list((tmp_settings.home / "builds").glob("*.partial"))


def test_a_source_can_become_empty(tmp_settings: Settings) -> None:
    b = IndexBuilder(tmp_settings, HashEmbedder())
    b.ingest_sections(BOOK, SECTIONS[:1])
    m = b.ingest_sections(BOOK, [])
    assert m.total_chunks == 0
    kb = KnowledgeBase.open(tmp_settings, HashEmbedder())
    assert kb.search("denoising", k=3) == []
