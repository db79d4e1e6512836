"""Benchmark the knowledge layer: full ingest time and peak memory, search latency p50/p95.

Usage::

    python bench/bench_index.py                 # ingest into a temporary home, then search
    python bench/bench_index.py --home ~/.scopebot --skip-ingest   # search an existing index

Search latency is measured in a warm process over >= 200 queries and includes the query
embedding (MiniLM on CPU), the Chroma query, BM25, fusion and de-duplication.
Results are printed and written to bench/results/index.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]

INGEST = """
import sys, time, resource
from pathlib import Path
from scopebot.index.builder import IndexBuilder
from scopebot.settings import Settings
t = time.perf_counter()
m = IndexBuilder(Settings(home=Path(sys.argv[1]))).ingest(force=True)
print(m.total_chunks, round(time.perf_counter() - t, 2), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu or platform.processor()}), {mem:.0f} GiB RAM, {platform.system()}"


def queries() -> list[str]:
    """Distinct user questions from the shipped eval datasets (retrieval, answers, tools, routing)."""
    import yaml

    d = ROOT / "evals" / "datasets"
    out: list[str] = []
    for name, field in (("retrieval_v1.yaml", "question"), ("answers_v1.yaml", "question"),
                        ("tools_v1.yaml", "request"), ("routing_v1.yaml", "text")):
        out += [it[field] for it in yaml.safe_load((d / name).read_text())["items"]]
    return list(dict.fromkeys(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path)
    ap.add_argument("--skip-ingest", action="store_true")
    ap.add_argument("--n", type=int, default=400, help="number of distinct queries (>= 200)")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="scopebot-bench-"))
    result: dict[str, object] = {"machine": machine(), "python": sys.version.split()[0]}
    if not args.skip_ingest:
        out = subprocess.run([sys.executable, "-c", INGEST, str(home)], capture_output=True, text=True, check=True)
        chunks, secs, rss_kb = out.stdout.split()[-3:]
        result["ingest"] = {"chunks": int(chunks), "seconds": float(secs), "peak_rss_mib": round(int(rss_kb) / 1024, 1)}
        print(f"full ingest: {chunks} chunks in {secs} s, peak RSS {int(rss_kb) / 1024:.0f} MiB")

    from scopebot.knowledge import KnowledgeBase
    from scopebot.settings import Settings

    t = time.perf_counter()
    kb = KnowledgeBase.open(Settings(home=home))
    open_s = time.perf_counter() - t
    qs = queries()[: args.n]
    for i in range(10):  # warm-up on strings that are not measured (query embeddings are cached)
        kb.search(f"warm-up query number {i} about microscopy", k=5)
    lat = []
    for q in qs:
        t = time.perf_counter()
        kb.search(q, k=5)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    p50 = statistics.median(lat)
    p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
    prev = json.loads(out_path.read_text()) if (out_path := ROOT / "bench" / "results" / "index.json").is_file() else {}
    if "ingest" not in result and "ingest" in prev:
        result["ingest"] = prev["ingest"]
    result["search"] = {"queries": len(lat), "p50_ms": round(p50, 2), "p95_ms": round(p95, 2),
                        "mean_ms": round(statistics.mean(lat), 2), "open_s": round(open_s, 2),
                        "chunks": len(kb), "rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(f"search over {len(kb)} chunks, {len(lat)} queries: p50 {p50:.1f} ms, p95 {p95:.1f} ms (open {open_s:.1f} s)")
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "index.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
