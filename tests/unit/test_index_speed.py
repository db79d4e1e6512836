"""The fast paths of the knowledge layer: exact dense matrix, BM25 from saved arrays, no model work on
unchanged re-ingests, the backend agreement check, per-build derived data, and a CLI that imports only
what a command needs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scopebot.errors import ConfigurationError
from scopebot.index.builder import IndexBuilder, live_dir
from scopebot.index.dense import DENSE_FILE, DenseMatrix
from scopebot.index.derived import cached_json, code_version
from scopebot.index.embeddings import HashEmbedder
from scopebot.index.lexical import LexicalIndex, SavedBM25, tokenize
from scopebot.index.manifest import IndexManifest
from scopebot.index.onnx_embedder import token_batches
from scopebot.knowledge import KnowledgeBase
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

SPEC = SourceSpec(id="speedbook", title="Speed Book", kind="book", license="x", attribution="x",
                  url="https://example.org", subpath="x", parser="markdown")
TOPICS = ["denoising with self-supervised networks removes shot noise", "deconvolution reverses the blur of "
          "the point spread function", "watershed splits touching nuclei after a distance transform",
          "tracking links detections across frames", "registration aligns drifting frames",
          "thresholding with Otsu separates foreground from background"]


def sections(n: int = 6, extra: str = "") -> list[Section]:
    return [Section(source_id="speedbook", kind="book", doc_title=f"{i} Chapter", path=[f"{i} Chapter", f"Part {i}"],
                    anchor=f"part-{i}", url=f"https://example.org/{i}.html#part-{i}",
                    text=f"{TOPICS[i % len(TOPICS)]}. " * 3 + extra) for i in range(n)]


class CountingEmbedder(HashEmbedder):
    """The hash embedder, counting the texts it embeds (the model work of an ingest)."""

    def __init__(self, variant: str = "", flip: bool = False) -> None:
        super().__init__()
        self.variant = variant
        self.flip = flip
        self.texts = 0

    def _encode(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        out = super()._encode(texts)
        return out[:, ::-1].copy() if self.flip else out  # same norm, different direction


# ------------------------------------------------------------------ ingest: no model work when nothing changed
def test_unchanged_reingest_does_no_model_work(tmp_settings: Settings) -> None:
    emb = CountingEmbedder()
    IndexBuilder(tmp_settings, emb).ingest_sections(SPEC, sections())
    first = emb.texts
    assert first > 0
    again = IndexBuilder(tmp_settings, emb).ingest_sections(SPEC, sections())
    assert again.sources["speedbook"].status == "skipped" and emb.texts == first


def test_unchanged_reingest_never_loads_the_model(tmp_settings: Settings) -> None:
    IndexBuilder(tmp_settings, HashEmbedder()).ingest_sections(SPEC, sections())
    builder = IndexBuilder(tmp_settings)  # the embedder would come from the factory, lazily
    builder.ingest_sections(SPEC, sections())
    assert builder._embedder is None


def test_changed_source_embeds_only_new_chunks_and_force_embeds_nothing(tmp_settings: Settings) -> None:
    emb = CountingEmbedder()
    b = IndexBuilder(tmp_settings, emb)
    m1 = b.ingest_sections(SPEC, sections(6))
    before = emb.texts
    m2 = b.ingest_sections(SPEC, sections(7))  # one new section, six unchanged chunks
    assert m2.total_chunks == m1.total_chunks + 1 and emb.texts == before + 1
    before = emb.texts
    m3 = b._build({SPEC.id: (SPEC, sections(7))}, force=True)  # rebuilt, vectors reused from dense.npy
    assert m3.build_id != m2.build_id and emb.texts == before


def test_build_writes_the_dense_matrix_in_chunk_order(tmp_settings: Settings) -> None:
    emb = HashEmbedder()
    m = IndexBuilder(tmp_settings, emb).ingest_sections(SPEC, sections())
    d = live_dir(tmp_settings)
    matrix = np.load(d / DENSE_FILE)
    kb = KnowledgeBase.open(tmp_settings, emb)
    assert matrix.shape == (m.total_chunks, emb.dim) and isinstance(kb.vectors, DenseMatrix)
    texts = [c.text for c in kb.iter_chunks()]
    assert np.allclose(matrix, emb.embed(texts), atol=1e-6)
    assert set(m.stage_seconds) >= {"parse", "embed", "store", "bm25"}


def test_an_older_build_without_the_matrix_is_filled_once_from_chroma(tmp_settings: Settings) -> None:
    emb = HashEmbedder()
    IndexBuilder(tmp_settings, emb).ingest_sections(SPEC, sections())
    d = live_dir(tmp_settings)
    want = [r.chunk.key for r in KnowledgeBase.open(tmp_settings, emb).search("split touching nuclei", k=3)]
    (d / DENSE_FILE).unlink()
    kb = KnowledgeBase.open(tmp_settings, emb)
    assert (d / DENSE_FILE).is_file() and isinstance(kb.vectors, DenseMatrix)
    assert [r.chunk.key for r in kb.search("split touching nuclei", k=3)] == want


# ------------------------------------------------------------------ dense matrix and BM25 from saved arrays
def test_dense_matrix_is_exact_and_filters_kinds() -> None:
    rng = np.random.default_rng(0)
    m = rng.normal(size=(50, 8)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    keys = [f"k{i}" for i in range(50)]
    kinds = ["book" if i % 3 else "registry" for i in range(50)]
    dm = DenseMatrix(keys, kinds, m)
    q = m[7] * 0.9 + m[8] * 0.1
    got = dm.query(q, 5)
    sims = m @ q
    assert [k for k, _ in got] == [keys[i] for i in np.argsort(-sims)[:5]]
    assert got[0][0] == "k7" and abs(got[0][1] - float(sims[7])) < 1e-6
    only = dm.query(q, 10, ["registry"])
    assert len(only) == 10 and all(kinds[int(k[1:])] == "registry" for k, _ in only)
    assert dm.query(q, 500) and len(dm.query(q, 500)) == 50 and dm.count() == 50
    assert set(dm.vectors(["k1", "nope"])) == {"k1"}


def test_saved_bm25_scores_like_bm25s(tmp_path: Path) -> None:
    import bm25s

    rng = np.random.default_rng(1)
    words = "noise denoise deconvolution nuclei nucleus watershed tracking frame otsu threshold laser stack".split()
    texts = [" ".join(rng.choice(words, size=int(rng.integers(3, 30)))) for _ in range(120)]
    keys = [f"c{i}" for i in range(len(texts))]
    LexicalIndex.build(keys, texts).save(tmp_path)
    ours = LexicalIndex.load(tmp_path)
    assert isinstance(ours._model, SavedBM25)
    theirs = LexicalIndex(bm25s.BM25.load(str(tmp_path)), keys)
    for q in ["noise laser", "nuclei watershed watershed", "tracking frames threshold otsu", "stack", "zebra"]:
        a, b = ours.search(q, 40), theirs.search(q, 40)
        assert [k for k, _ in a] == [k for k, _ in b], q
        assert np.allclose([s for _, s in a], [s for _, s in b])
    assert tokenize("zebra") and ours.search("zebra", 5) == []


def test_token_batches_sort_by_length_and_respect_the_budget() -> None:
    lengths = np.array([5, 200, 7, 120, 9, 256, 30, 31])
    batches = token_batches(lengths, budget=256, max_rows=4)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths.tolist())
    for b in batches:
        assert len(b) <= 4 and (len(b) == 1 or len(b) * lengths[b].max() <= 256)


# ------------------------------------------------------------------ backends must agree with the stored vectors
def test_a_disagreeing_query_backend_is_refused_with_a_fix(tmp_settings: Settings) -> None:
    IndexBuilder(tmp_settings, CountingEmbedder(variant="one")).ingest_sections(SPEC, sections())
    with pytest.raises(ConfigurationError, match=r"cosine .* < 0.98") as err:
        KnowledgeBase.open(tmp_settings, CountingEmbedder(variant="two", flip=True))
    assert "scopebot ingest --force" in err.value.hint
    kb = KnowledgeBase.open(tmp_settings, CountingEmbedder(variant="two"))  # same vectors, other backend: fine
    assert kb.search("split touching nuclei", k=1)


def test_ingest_reembeds_everything_when_the_backend_changed_its_vectors(tmp_settings: Settings) -> None:
    m1 = IndexBuilder(tmp_settings, CountingEmbedder(variant="one")).ingest_sections(SPEC, sections())
    new = CountingEmbedder(variant="two", flip=True)
    m2 = IndexBuilder(tmp_settings, new).ingest_sections(SPEC, sections())
    assert m2.build_id != m1.build_id and m2.embedder_variant == "two"
    assert new.texts >= m1.total_chunks  # probes + every chunk
    assert any("re-embedded" in n for n in m2.notes)
    KnowledgeBase.open(tmp_settings, CountingEmbedder(variant="two", flip=True))  # consistent again


def test_an_agreeing_backend_reuses_vectors_and_remembers_the_check(tmp_settings: Settings) -> None:
    IndexBuilder(tmp_settings, CountingEmbedder(variant="one")).ingest_sections(SPEC, sections())
    other = CountingEmbedder(variant="two")
    m = IndexBuilder(tmp_settings, other).ingest_sections(SPEC, sections())
    assert m.sources["speedbook"].status == "skipped"
    assert other.texts <= 4  # only the probe chunks
    saved = IndexManifest.load(live_dir(tmp_settings))
    assert saved.variant_agreement["two"] > 0.999
    again = CountingEmbedder(variant="two")
    IndexBuilder(tmp_settings, again).ingest_sections(SPEC, sections())
    assert again.texts == 0  # the measured agreement is remembered in the manifest


# ------------------------------------------------------------------ derived data
def test_derived_data_is_computed_once_per_build_and_version(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        return {"a": 1}

    assert cached_json(tmp_path, "stats", "v1", compute) == {"a": 1}
    assert cached_json(tmp_path, "stats", "v1", compute) == {"a": 1} and len(calls) == 1
    assert cached_json(tmp_path, "stats", "v2", compute) == {"a": 1} and len(calls) == 2
    with pytest.raises(ValueError):
        cached_json(tmp_path, "../escape", "v1", compute)
    assert code_version(cached_json) == code_version(cached_json) and len(code_version(np)) == 12


def test_knowledge_base_derived(tmp_settings: Settings) -> None:
    IndexBuilder(tmp_settings, HashEmbedder()).ingest_sections(SPEC, sections())
    kb = KnowledgeBase.open(tmp_settings, HashEmbedder())
    n = kb.derived("chunk-count", lambda: len(kb), "1")
    assert n == len(kb) and kb.derived("chunk-count", lambda: -1, "1") == len(kb)


# ------------------------------------------------------------------ the CLI imports only what a command needs
HEAVY = ["torch", "sentence_transformers", "transformers", "chromadb", "bm25s", "scipy", "sklearn", "gradio",
         "llama_cpp", "bioimageio"]


def _modules_after(code: str, env: dict[str, str]) -> dict[str, object]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return {"modules": set(json.loads(out.stdout.strip().splitlines()[-1])), "stdout": out.stdout}


def test_importing_the_cli_imports_no_command_module(tmp_path: Path) -> None:
    got = _modules_after("import scopebot.cli", {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    mods = got["modules"]
    assert not any(m.endswith(".cli") and m != "scopebot.cli" for m in mods), sorted(mods)
    assert not mods & set(HEAVY)


def test_search_in_a_fresh_process_imports_no_heavy_module(tmp_path: Path) -> None:
    home = tmp_path / "home"
    IndexBuilder(Settings(home=home, embedding_model="hash"), HashEmbedder()).ingest_sections(SPEC, sections())
    code = ("import sys\nfrom scopebot.cli import app\nsys.argv = ['scopebot', 'search', 'split touching nuclei', "
            "'--json']\ntry:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code")
    got = _modules_after(code, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SCOPEBOT_HOME": str(home),
                                "SCOPEBOT_EMBEDDING_MODEL": "hash"})
    assert '"results"' in got["stdout"]
    loaded = {m.split(".")[0] for m in got["modules"]}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_every_command_has_a_lazy_loading_hint() -> None:
    from typer.main import get_group

    import scopebot.cli as cli

    group = get_group(cli.app)
    names = group.list_commands(None)  # type: ignore[arg-type]
    assert {"search", "ask", "chat", "status", "config", "recommend"} <= set(names)
    missing = [n for n in names if n not in cli.COMMAND_HINTS]
    assert not missing, f"add these commands to scopebot.cli.COMMAND_HINTS: {missing}"
    for name, module in cli.COMMAND_HINTS.items():
        assert module in cli.COMMAND_MODULES, (name, module)
