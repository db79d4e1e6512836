"""Is the int8 ONNX query embedder equivalent to the torch one, and how much faster is it?

Measured side by side in one process, on an existing index (default ``~/.scopebot``, read only)::

    python bench/bench_embedder.py [--home DIR] [--chunks 300] [--queries 200]

* per-vector cosine between the ONNX and the torch (sentence-transformers) vectors of ``--chunks``
  index chunks (a fixed random sample), and between each backend's vectors and the stored ones; ONNX
  comes in two forms: float activations (ingest) and int8 activations (the default query path, "dq");
* query embedding time, torch vs both ONNX forms, median over distinct queries from the shipped
  datasets (query caches bypassed), three interleaved rounds, and the ratios;
* retrieval recall@1/@5 and MRR on the held-out set (all sources, and ``--kind book``) and on the
  tuning set, through ``KnowledgeBase.search`` (the product), for: torch query + Chroma HNSW (the path
  before this change), torch + exact ``dense.npy``, ONNX float + exact, ONNX dq + exact (the default).
  The held-out set was never used to tune anything here.

Writes ``bench/results/embedder.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_index import load_average, machine, queries  # noqa: E402

DATASETS = [("holdout", "retrieval_holdout_v1.yaml", None), ("holdout, --kind book", "retrieval_holdout_v1.yaml",
                                                              ["book"]),
            ("tuning set v1", "retrieval_v1.yaml", None)]


def recall(kb: object, dataset: str, kinds: list[str] | None) -> dict[str, float]:
    from scopebot.evals.datasets import load_dataset
    from scopebot.evals.suites.retrieval import score_item

    items = load_dataset(ROOT.parent / "evals" / "datasets" / dataset, "retrieval").items
    res = [score_item(kb, it, kinds=kinds) for it in items]
    return {m: round(sum(r.metrics[m] for r in res) / len(res), 4) for m in ("recall@1", "recall@5", "mrr")} | {
        "n": len(res)}


def query_ms(embedder: object, texts: list[str]) -> float:
    out = []
    for t in texts:
        s = time.perf_counter()
        embedder.embed([t])  # type: ignore[attr-defined]  # the uncached path
        out.append((time.perf_counter() - s) * 1000)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, default=Path.home() / ".scopebot")
    ap.add_argument("--chunks", type=int, default=300)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    import numpy as np

    from scopebot.index.embeddings import SentenceTransformerEmbedder
    from scopebot.index.onnx_embedder import OnnxEmbedder
    from scopebot.knowledge import KnowledgeBase
    from scopebot.settings import Settings

    settings = Settings(home=args.home)
    load_before = load_average()
    onnx = OnnxEmbedder(cache_dir=settings.cache_dir / "onnx")
    dq = OnnxEmbedder(cache_dir=settings.cache_dir / "onnx", int8_activations=True)
    torch_ = SentenceTransformerEmbedder()
    kb = {"onnx": KnowledgeBase.open(settings, onnx), "torch": KnowledgeBase.open(settings, torch_),
          "onnx dq": KnowledgeBase.open(settings, dq)}
    result: dict[str, object] = {"machine": machine(), "python": sys.version.split()[0], "home": str(args.home),
                                 "index": kb["onnx"].manifest.build_id, "chunks_in_index": len(kb["onnx"]),
                                 "built_by": kb["onnx"].manifest.embedder_variant or "torch"}

    chunks = list(kb["onnx"].iter_chunks())
    sample = random.Random(0).sample(chunks, min(args.chunks, len(chunks)))
    texts = [c.text for c in sample]
    v_onnx, v_torch = onnx.embed(texts), torch_.embed(texts)
    v_dq = np.stack([dq.embed([t])[0] for t in texts])  # one at a time: the query path
    stored = kb["onnx"].vectors.vectors([c.key for c in sample])
    v_stored = np.stack([stored[c.key] for c in sample])
    cos = {"onnx_vs_torch": np.sum(v_onnx * v_torch, axis=1), "onnx_vs_stored": np.sum(v_onnx * v_stored, axis=1),
           "torch_vs_stored": np.sum(v_torch * v_stored, axis=1), "onnx_dq_vs_torch": np.sum(v_dq * v_torch, axis=1),
           "onnx_dq_vs_stored": np.sum(v_dq * v_stored, axis=1)}
    qs = queries()[: args.queries]
    qv = {"torch": np.stack([torch_.embed([q])[0] for q in qs[:100]]),
          "dq": np.stack([dq.embed([q])[0] for q in qs[:100]]), "onnx": onnx.embed(qs[:100])}
    cos["queries_onnx_vs_torch"] = np.sum(qv["onnx"] * qv["torch"], axis=1)
    cos["queries_onnx_dq_vs_torch"] = np.sum(qv["dq"] * qv["torch"], axis=1)
    result["cosine"] = {k: {"chunks": len(v), "min": round(float(v.min()), 5), "p1": round(float(np.percentile(v, 1)), 5),
                            "mean": round(float(v.mean()), 5)} for k, v in cos.items()}
    print("per-vector cosine:", json.dumps(result["cosine"]))

    for e in (onnx, dq, torch_):  # warm-up (thread pools, first-call allocations) on unmeasured text
        e.embed(["warm-up sentence about microscopy"])
    rounds = []
    for _ in range(3):  # interleaved so that load changes hit every backend alike
        rounds.append((query_ms(torch_, qs), query_ms(onnx, qs), query_ms(dq, qs)))
    t_ms, o_ms, d_ms = (statistics.median(r[i] for r in rounds) for i in range(3))
    result["query_embedding"] = {"queries": len(qs), "rounds": 3, "torch_ms_p50": round(t_ms, 2),
                                 "onnx_float_ms_p50": round(o_ms, 2), "onnx_dq_ms_p50": round(d_ms, 2),
                                 "onnx_float_over_torch": round(o_ms / t_ms, 3),
                                 "onnx_dq_over_torch": round(d_ms / t_ms, 3)}
    print(f"query embedding p50: torch {t_ms:.2f} ms, onnx float {o_ms:.2f} ms ({o_ms / t_ms:.3f}), "
          f"onnx dq {d_ms:.2f} ms ({d_ms / t_ms:.3f})")

    paths = {}
    exact = kb["torch"].vectors
    kb["torch"].vectors = kb["torch"]._chroma()
    paths["torch + chroma (before)"] = {label: recall(kb["torch"], ds, kinds) for label, ds, kinds in DATASETS}
    kb["torch"].vectors = exact
    for name in ("torch", "onnx", "onnx dq"):
        paths[f"{name} + exact"] = {label: recall(kb[name], ds, kinds) for label, ds, kinds in DATASETS}
    result["retrieval"] = paths
    for path, figures in paths.items():
        print(path, json.dumps(figures))
    result["load_average"] = {"before": load_before, "after": load_average()}
    out = ROOT / "results" / "embedder.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print("written", out)


if __name__ == "__main__":
    main()
