"""Benchmark the embedded chat model: load time, time to first token and total answer time.

Runs 10 short microscopy prompts through SmolLM2-135M (llama.cpp in process) with 1 and 2 threads,
prints a table and writes ``bench/results/llm.json``. Greedy decoding, so runs are comparable.

    python bench/bench_llm.py [--max-tokens 64] [--threads 1 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scopebot.llm import Message  # noqa: E402
from scopebot.llm.embedded import LlamaCache, LlamaCppModel  # noqa: E402

PROMPTS = [
    "What does a pinhole do in a confocal microscope?",
    "Name one way to reduce photobleaching.",
    "What is a point spread function?",
    "Why would I use a maximum intensity projection?",
    "What is the difference between widefield and confocal imaging?",
    "How can I count nuclei in a fluorescence image?",
    "What does Otsu thresholding do?",
    "Why is flat-field correction useful?",
    "What file format keeps microscope metadata?",
    "What is deconvolution used for?",
]
RESULTS = Path(__file__).resolve().parent / "results" / "llm.json"


def run_one(model: LlamaCppModel, prompt: str, max_tokens: int) -> dict[str, float | int]:
    """Time one streamed answer: seconds to the first text piece, total seconds, pieces produced."""
    start = time.perf_counter()
    first: float | None = None
    pieces = 0
    for delta in model.stream([Message(role="user", content=prompt)], max_tokens=max_tokens, temperature=0.0):
        if delta.text:
            pieces += 1
            if first is None:
                first = time.perf_counter() - start
    total = time.perf_counter() - start
    return {"ttft_s": first if first is not None else total, "total_s": total, "tokens": pieces}


def bench(threads: int, max_tokens: int, repeat: int) -> dict[str, object]:
    model = LlamaCppModel(None, n_threads=threads, n_ctx=2048, cache=LlamaCache())
    start = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - start
    run_one(model, "Hello.", 8)  # warm-up
    runs = [run_one(model, p, max_tokens) for _ in range(repeat) for p in PROMPTS]
    ttft = [float(r["ttft_s"]) for r in runs]
    total = [float(r["total_s"]) for r in runs]
    tokens = sum(int(r["tokens"]) for r in runs)
    return {
        "threads": threads, "load_s": round(load_s, 3), "prompts": len(runs),
        "ttft_median_s": round(statistics.median(ttft), 4), "ttft_max_s": round(max(ttft), 4),
        "total_median_s": round(statistics.median(total), 4), "total_max_s": round(max(total), 4),
        "tokens_per_s": round(tokens / sum(total), 1), "mean_tokens": round(tokens / len(runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    rows = [bench(t, args.max_tokens, args.repeat) for t in args.threads]
    header = f"{'threads':>7} {'load s':>7} {'TTFT med':>9} {'TTFT max':>9} {'total med':>10} " \
             f"{'total max':>10} {'tok/s':>6} {'tokens':>7}"
    print(f"embedded SmolLM2-135M-Instruct Q4_1, {len(PROMPTS) * args.repeat} prompts, "
          f"max_tokens={args.max_tokens}")
    print(header)
    for r in rows:
        print(f"{r['threads']:>7} {r['load_s']:>7.2f} {r['ttft_median_s']:>9.3f} {r['ttft_max_s']:>9.3f} "
              f"{r['total_median_s']:>10.3f} {r['total_max_s']:>10.3f} {r['tokens_per_s']:>6.1f} "
              f"{r['mean_tokens']:>7.1f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "llm-embedded", "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
              "max_tokens": args.max_tokens, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                         "processor": platform.machine(),
                                                         "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": rows}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
