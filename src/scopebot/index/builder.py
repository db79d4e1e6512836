"""Building the index: parse → chunk → embed → store, incrementally and atomically.

Layout in the home directory::

    home/index            -> symlink to builds/<build-id> (the live index)
    home/builds/<id>/     manifest.json, chunks.jsonl, bm25/, chroma/ (embedded mode)

A build is written beside the live one (``builds/<id>.partial``), renamed when complete and
made live by atomically replacing the ``index`` symlink, so a crash or Ctrl-C mid-ingest leaves
the previous index untouched and usable. Sources whose content fingerprint (files + parser code +
chunking settings + embedder) did not change are skipped and their chunks reused; chunks whose
key already exists are not re-embedded (their vectors are copied from the previous build's
``dense.npy``, or its Chroma collection for older builds). When nothing needs embedding the model
is never loaded.

Chunks to embed are sorted by length and handed to the embedder in groups, so each batch pads to
a similar length (the ONNX embedder packs each group under a token budget). The vectors go to
Chroma and, as one matrix in chunk order, to ``dense.npy`` (what search reads).

When the embedder backend changed since the previous build (torch ↔ int8 ONNX), a few probe chunks
are re-embedded first: if their vectors differ from the stored ones by more than
``Settings.embedding_tolerance``, every chunk is re-embedded (the manifest's ``notes`` say so).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from scopebot.errors import ScopebotError, SourceError
from scopebot.index.chunking import Chunker
from scopebot.index.compat import agreement, built_variant
from scopebot.index.dense import load_matrix, save_matrix
from scopebot.index.embeddings import Embedder, embedder_variant, make_bulk_embedder
from scopebot.index.lexical import LexicalIndex
from scopebot.index.manifest import (
    CHUNKS_FILE,
    IndexManifest,
    SourceState,
    live_dir,
    package_versions,
    read_chunks,
)
from scopebot.index.models import Chunk
from scopebot.index.store import COLLECTION_PREFIX, VectorStore, make_client, placeholder_embedder
from scopebot.settings import Settings
from scopebot.sources.base import ParseReport, get_parser
from scopebot.sources.manifest import fingerprint, load_manifest, select, source_path
from scopebot.sources.models import Section, SourceSpec

Progress = Callable[[str, int, int], None]
KEEP_BUILDS = 2
#: Chunks handed to the embedder per call (sorted by length; the progress bar moves per group).
EMBED_GROUP = 256

__all__ = ["IndexBuilder", "live_dir", "read_chunks"]


class IndexBuilder:
    """Builds and updates the index in ``settings.home``."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, *,
                 progress: Progress | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self.progress = progress or (lambda stage, done, total: None)
        self.chunker = Chunker(settings.chunk_size, settings.chunk_overlap)

    @property
    def embedder(self) -> Embedder:
        """The bulk embedder, loaded on first use (an ingest with nothing to embed never loads it)."""
        if self._embedder is None:
            self._embedder = make_bulk_embedder(self.settings)
        return self._embedder

    # ------------------------------------------------------------------ public API
    def ingest(self, source_ids: Sequence[str] | None = None, *, force: bool = False) -> IndexManifest:
        """(Re)build the sources from the manifest; unchanged ones are skipped unless ``force``."""
        specs = select(load_manifest(self.settings.manifest_path), list(source_ids or []))
        return self._build({s.id: (s, None) for s in specs}, force=force, require_content=True)

    def ingest_sections(self, spec: SourceSpec, sections: Iterable[Section]) -> IndexManifest:
        """Replace one source's content with ``sections`` (used by connectors such as the forum)."""
        return self._build({spec.id: (spec, list(sections))}, force=False)

    # ------------------------------------------------------------------ internals
    def _fingerprint(self, spec: SourceSpec, data_hash: str) -> str:
        parser = get_parser(spec.parser)
        try:
            code = Path(inspect.getsourcefile(parser) or "").read_bytes()
        except (OSError, TypeError):
            code = spec.parser.encode()
        h = hashlib.sha256()
        for part in (data_hash, spec.model_dump_json(), hashlib.sha256(code).hexdigest(),
                     f"{self.chunker.chunk_size}/{self.chunker.chunk_overlap}", self._embedder_name()):
            h.update(part.encode())
        return h.hexdigest()

    def _embedder_name(self) -> str:
        return self._embedder.name if self._embedder is not None else (
            "all-MiniLM-L6-v2" if self.settings.embedding_model == "minilm" else
            ("hash-256" if self.settings.embedding_model == "hash" else self.settings.embedding_model))

    def _embedder_variant(self) -> str:
        if self._embedder is not None:
            return self._embedder.variant
        return embedder_variant(self.settings)

    def _vectors_agree(self, manifest: IndexManifest, directory: Path, chunks: list[Chunk]) -> bool:
        """Whether the stored vectors may be reused by this builder's embedder (measured once per backend,
        remembered in the manifest)."""
        built, mine = built_variant(manifest), self._embedder_variant()
        if not built or not mine or built == mine or not chunks:
            return True
        cos = manifest.variant_agreement.get(mine)
        if cos is None:
            cos = agreement(self.embedder, chunks, _StoredVectors(directory, manifest, chunks))
            if cos is not None:
                manifest.variant_agreement[mine] = round(cos, 5)
        return cos is None or cos >= self.settings.embedding_tolerance

    def _parse(self, spec: SourceSpec, state: SourceState) -> list[Section]:
        root = source_path(spec, self.settings.sources_dir)
        report = ParseReport(spec.id)
        parser = get_parser(spec.parser)
        sections = list(parser(root, spec, report))
        state.problems = [str(p) for p in report.problems]
        state.sections = len(sections)
        return sections

    def _build(self, plans: dict[str, tuple[SourceSpec, list[Section] | None]], *, force: bool,
               require_content: bool = False) -> IndexManifest:
        t0 = time.perf_counter()
        old_dir = live_dir(self.settings)
        old_manifest = IndexManifest.load(old_dir) if old_dir else None
        old_chunks = read_chunks(old_dir) if old_dir else []
        by_source: dict[str, list[Chunk]] = {}
        for c in old_chunks:
            by_source.setdefault(c.source_id, []).append(c)
        states: dict[str, SourceState] = dict(old_manifest.sources) if old_manifest else {}
        if old_manifest and old_manifest.embedder != self._embedder_name():
            force = True  # vectors are not comparable: rebuild everything we were asked for
        reusable = not (old_manifest and old_dir) or self._vectors_agree(old_manifest, old_dir, old_chunks)
        if not reusable:
            force = True  # the stored vectors differ from this embedder's: re-embed everything

        changed = False
        for n, (sid, (spec, given)) in enumerate(plans.items()):
            self.progress(f"parse {sid}", n, len(plans))
            start = time.perf_counter()
            state = SourceState(id=sid, title=spec.title, kind=spec.kind, license=spec.license,
                                revision=spec.revision, weight=spec.weight, status="ok")
            try:
                if given is None:
                    data_hash = fingerprint(source_path(spec, self.settings.sources_dir))
                else:
                    data_hash = hashlib.sha256(
                        "\n".join(s.model_dump_json() for s in given).encode()).hexdigest()
                fp = self._fingerprint(spec, data_hash) if given is None else data_hash + self._embedder_name()
                prev = states.get(sid)
                if not force and prev and prev.fingerprint == fp and prev.status in ("ok", "skipped") \
                        and sid in by_source:
                    prev.status = "skipped"
                    prev.message = "unchanged since the last build"
                    states[sid] = prev
                    continue
                sections = given if given is not None else self._parse(spec, state)
                if given is not None:
                    state.sections = len(sections)
                chunks = list(self.chunker.chunk_sections(spec, sections))
                state.fingerprint = fp
                state.chunks = len(chunks)
                state.seconds = round(time.perf_counter() - start, 3)
                by_source[sid] = chunks
                states[sid] = state
                changed = True
            except ScopebotError as exc:
                keep = states.get(sid)
                state.status = "missing" if isinstance(exc, SourceError) and "missing" in exc.message else "failed"
                state.message = str(exc)
                if keep:  # lose nothing: the previous content of this source stays in the index
                    state.chunks, state.fingerprint, state.sections = keep.chunks, "", keep.sections
                    state.message += " (previous content kept)"
                states[sid] = state
            except Exception as exc:  # a parser bug must not take the other sources down
                state.status = "failed"
                state.message = f"{type(exc).__name__}: {exc}"
                states[sid] = state
        self.progress("parse", len(plans), len(plans))
        stages = {"parse": time.perf_counter() - t0}

        if require_content and not any(by_source.get(sid) for sid in plans):
            bad = [st for sid in plans if (st := states.get(sid)) and st.status in ("missing", "failed")]
            if bad and len(bad) == len(plans):  # nothing at all could be read: don't swap in an empty index
                raise SourceError(
                    f"None of the {len(plans)} knowledge source(s) could be read from {self.settings.sources_dir}",
                    hint="set SCOPEBOT_SOURCES_DIR to the folder holding the offline copies "
                         "(e.g. ../shared/knowledge-sources); first problem: " + bad[0].message)
        if not changed and old_manifest is not None:
            old_manifest.sources = states
            old_manifest.save(old_dir)  # statuses (skipped/missing) are refreshed, data untouched
            return old_manifest
        all_chunks = [c for sid in sorted(by_source) for c in by_source[sid]]
        return self._write(all_chunks, states, old_dir, old_manifest, t0,
                           old_chunks=old_chunks if reusable else [], stages=stages)

    def _write(self, chunks: list[Chunk], states: dict[str, SourceState], old_dir: Path | None,
               old_manifest: IndexManifest | None, t0: float, *, old_chunks: list[Chunk],
               stages: dict[str, float]) -> IndexManifest:
        s = self.settings
        lap = _Lap(stages)
        builds = s.home / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        build_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        partial = builds / f"{build_id}.partial"
        partial.mkdir()
        collection = COLLECTION_PREFIX + build_id.replace("-", "_")

        notes: list[str] = []
        if old_manifest and not old_chunks and chunks:
            cos = old_manifest.variant_agreement.get(self._embedder_variant())
            if cos is not None and cos < s.embedding_tolerance:
                notes.append(f"every chunk re-embedded: the {built_variant(old_manifest)} vectors of the previous "
                             f"build differ from the {self._embedder_variant()} embedder's (cosine {cos:.4f} < "
                             f"{s.embedding_tolerance})")
        # vectors: reuse the previous build's where the key (a content hash) is unchanged
        reuse: dict[str, np.ndarray] = {}
        if old_dir and old_manifest and old_chunks and old_manifest.embedder == self._embedder_name():
            reuse = _StoredVectors(old_dir, old_manifest, old_chunks).vectors([c.key for c in chunks])
        todo = [i for i, c in enumerate(chunks) if c.key not in reuse]
        dim = self.embedder.dim if todo or self._embedder is not None else (
            next(iter(reuse.values())).shape[0] if reuse else (old_manifest.embedding_dim if old_manifest else 0))
        vectors = np.zeros((len(chunks), dim), dtype=np.float32)
        for i, c in enumerate(chunks):
            if c.key in reuse:
                vectors[i] = reuse[c.key]
        lap("reuse")
        self._embed_into(vectors, [chunks[i].text for i in todo], todo)
        lap("embed")
        variant = self._embedder_variant() if todo or not old_manifest else old_manifest.embedder_variant

        client = make_client(partial / "chroma", s.chroma_url)
        store = VectorStore(client, collection, placeholder_embedder(self._embedder_name()))
        store.add([c.key for c in chunks], vectors, [c.kind for c in chunks], [c.source_id for c in chunks])
        if not s.chroma_url:
            save_matrix(partial, vectors)
        self.progress("store", len(chunks), len(chunks))
        lap("store")
        LexicalIndex.build([c.key for c in chunks], [c.text for c in chunks]).save(partial / "bm25")
        lap("bm25")
        with (partial / CHUNKS_FILE).open("w", encoding="utf-8") as fh:
            for c in chunks:
                fh.write(c.model_dump_json() + "\n")
        lap("chunks")
        manifest = IndexManifest(
            build_id=build_id, built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - t0, 2), embedder=self._embedder_name(),
            embedder_variant=variant, embedding_dim=dim, notes=notes,
            stage_seconds={k: round(v, 3) for k, v in stages.items()},
            chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap, collection=collection,
            chroma_url=s.chroma_url, total_chunks=len(chunks), versions=package_versions(), sources=states)
        for st in manifest.sources.values():
            st.chunks = sum(1 for c in chunks if c.source_id == st.id)
        manifest.save(partial)
        del store, client
        final = builds / build_id
        os.replace(partial, final)
        self._swap(final)
        self._cleanup(builds, keep={final.name})
        return manifest

    def _embed_into(self, vectors: np.ndarray, texts: list[str], rows: list[int]) -> None:
        """Embed ``texts`` into ``vectors[rows]``, longest first, in groups of similar length."""
        if not texts:
            self.progress("embed", 0, 0)
            return
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        done = 0
        for start in range(0, len(order), EMBED_GROUP):
            group = order[start:start + EMBED_GROUP]
            vectors[[rows[i] for i in group]] = self.embedder.embed([texts[i] for i in group])
            done += len(group)
            self.progress("embed", done, len(texts))

    def _swap(self, target: Path) -> None:
        link = self.settings.index_dir
        tmp = link.with_name(f".index-{uuid.uuid4().hex[:8]}")
        os.symlink(os.path.relpath(target, link.parent), tmp)
        if link.exists() and not link.is_symlink():  # an old plain directory: move it aside first
            shutil.move(str(link), str(link.with_name("index.old")))
        os.replace(tmp, link)

    def _cleanup(self, builds: Path, keep: set[str]) -> None:
        done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".partial")),
                      key=lambda p: p.name)
        for old in done[:-KEEP_BUILDS]:
            if old.name in keep:
                continue
            if self.settings.chroma_url:
                try:
                    m = IndexManifest.load(old)
                    make_client(None, self.settings.chroma_url).delete_collection(m.collection)
                except Exception:
                    pass
            shutil.rmtree(old, ignore_errors=True)
        for stale in builds.glob("*.partial"):  # leftovers of interrupted builds
            if stale.stat().st_mtime < time.time() - 3600:
                shutil.rmtree(stale, ignore_errors=True)



class _Lap:
    """Adds the seconds since the previous call to ``stages[name]``."""

    def __init__(self, stages: dict[str, float]) -> None:
        self.stages = stages
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - self.last
        self.last = now


class _StoredVectors:
    """The vectors of a previous build: its ``dense.npy`` when present, else its Chroma collection."""

    def __init__(self, directory: Path, manifest: IndexManifest, chunks: list[Chunk]) -> None:
        self.directory, self.manifest, self.chunks = directory, manifest, chunks
        self._rows: dict[str, np.ndarray] | None = None

    def vectors(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        if self._rows is None:
            matrix = load_matrix(self.directory, len(self.chunks)) if not self.manifest.chroma_url else None
            if matrix is not None:
                self._rows = {c.key: matrix[i] for i, c in enumerate(self.chunks)}
        if self._rows is not None:
            return {k: self._rows[k] for k in keys if k in self._rows}
        try:
            client = make_client(self.directory / "chroma", self.manifest.chroma_url)
            return VectorStore(client, self.manifest.collection,
                               placeholder_embedder(self.manifest.embedder)).vectors(list(keys))
        except Exception:  # a damaged previous store only costs re-embedding
            return {}
