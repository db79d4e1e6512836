"""Benchmark the embedded chat model: the worker process (what scopebot runs) against llama.cpp in process.

Runs 10 short microscopy prompts through SmolLM2-135M both ways in one run, interleaved (worker,
in-process, worker, ...) so that machine load affects both alike, and reports time to first token,
tokens per second and the worker/in-process ratios: the cost of the process boundary. Greedy decoding.
It also times a ~600-token grounded prompt with n_batch=1, the self-test's degraded mode, against the
configured n_batch (both in workers).
Writes ``bench/results/llm.json``.

    python bench/bench_llm.py [--max-tokens 64] [--threads 1] [--repeat 1] [--n-batch 512]

The in-process side loads llama.cpp into this benchmark's own process (never the server's); on a
llama.cpp build that crashes on this CPU (see docs/llm.md) run ``scopebot models --self-test`` first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scopebot.llm import ChatModel, Message  # noqa: E402
from scopebot.llm.embedded import LlamaCache, LlamaCppModel  # noqa: E402
from scopebot.llm.local import WorkerModel, WorkerPool  # noqa: E402
from scopebot.llm.selftest import cpu_fingerprint  # noqa: E402

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


def run_one(model: ChatModel, prompt: str, max_tokens: int) -> dict[str, float | int]:
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


def summarise(runs: list[dict[str, float | int]], load_s: float) -> dict[str, Any]:
    ttft = [float(r["ttft_s"]) for r in runs]
    total = [float(r["total_s"]) for r in runs]
    tokens = sum(int(r["tokens"]) for r in runs)
    decode = [(int(r["tokens"]) - 1) / (float(r["total_s"]) - float(r["ttft_s"]))
              for r in runs if int(r["tokens"]) > 1 and float(r["total_s"]) > float(r["ttft_s"])]
    return {"load_s": round(load_s, 3), "prompts": len(runs),
            "ttft_median_s": round(statistics.median(ttft), 4), "ttft_max_s": round(max(ttft), 4),
            "total_median_s": round(statistics.median(total), 4),
            "tokens_per_s": round(tokens / sum(total), 1),
            "decode_tokens_per_s_median": round(statistics.median(decode), 1) if decode else None,
            "mean_tokens": round(tokens / len(runs), 1)}


def bench(threads: int, n_batch: int, max_tokens: int, repeat: int) -> dict[str, Any]:
    pool = WorkerPool()
    worker = WorkerModel(None, n_threads=threads, n_batch=n_batch, n_ctx=2048, pool=pool, self_test=None)
    inproc = LlamaCppModel(None, n_threads=threads, n_batch=n_batch, n_ctx=2048, cache=LlamaCache())
    loads = {}
    for label, model in (("worker", worker), ("in_process", inproc)):
        start = time.perf_counter()
        model.load()
        loads[label] = time.perf_counter() - start
        run_one(model, "Hello.", 8)  # warm-up
    runs: dict[str, list[dict[str, float | int]]] = {"worker": [], "in_process": []}
    for _ in range(repeat):
        for prompt in PROMPTS:
            runs["worker"].append(run_one(worker, prompt, max_tokens))
            runs["in_process"].append(run_one(inproc, prompt, max_tokens))
    pool.close()
    rows = {label: summarise(r, loads[label]) for label, r in runs.items()}
    w, p = rows["worker"], rows["in_process"]
    ratios = {"ttft_median": round(w["ttft_median_s"] / p["ttft_median_s"], 3),
              "total_median": round(w["total_median_s"] / p["total_median_s"], 3),
              "tokens_per_s": round(w["tokens_per_s"] / p["tokens_per_s"], 3)}
    identical = all(a["tokens"] == b["tokens"] for a, b in zip(runs["worker"], runs["in_process"], strict=True))
    return {"threads": threads, "n_batch": n_batch, **rows, "worker_over_in_process": ratios,
            "same_token_counts": identical}


def grounded_prompt(run: int) -> list[Message]:
    """A ~600-token answer prompt; the passage keys differ per run so llama.cpp cannot reuse its cache."""
    from scopebot.prompts import PromptLibrary
    from scopebot.settings import PROJECT_ROOT

    passages = "\n\n".join(
        f"[bk-{run:04d}{i:03d}0] Guide — Section {i}\nA pinhole in front of the detector blocks light from planes "
        "above and below the focal plane, so mostly in-focus light reaches the detector. Closing it sharpens "
        "optical sections but lowers the signal." for i in range(5))
    return PromptLibrary(PROJECT_ROOT / "prompts").messages("answer_system", passages=passages,
                                                            question="What does the pinhole do?")


def bench_degraded(threads: int, n_batch: int, repeat: int) -> dict[str, Any]:
    """Time to first token of grounded prompts with ``n_batch`` vs 1 (the self-test's degraded mode), in workers."""
    models = {n: WorkerModel(None, n_threads=threads, n_batch=n, pool=WorkerPool(), self_test=None)
              for n in (n_batch, 1)}
    ttft: dict[int, list[float]] = {n: [] for n in models}
    for m in models.values():
        run_one(m, "Hello.", 1)
    for run in range(3 * repeat):
        for n, m in models.items():
            start = time.perf_counter()
            for delta in m.stream(grounded_prompt(run), max_tokens=2, temperature=0.0):
                if delta.text:
                    ttft[n].append(time.perf_counter() - start)
                    break
    for m in models.values():
        m.close()
    medians = {n: statistics.median(v) for n, v in ttft.items()}
    return {"prompt": "answer_system with 5 passages (~600 tokens)", "runs": len(ttft[1]),
            f"ttft_median_s_n_batch_{n_batch}": round(medians[n_batch], 3), "ttft_median_s_n_batch_1": round(medians[1], 3),
            "n_batch_1_over_n_batch": round(medians[1] / medians[n_batch], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--n-batch", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    results = [bench(t, args.n_batch, args.max_tokens, args.repeat) for t in args.threads]
    print(f"embedded SmolLM2-135M-Instruct Q4_1, {len(PROMPTS) * args.repeat} prompts, "
          f"max_tokens={args.max_tokens}, n_batch={args.n_batch}")
    print(f"{'threads':>7} {'where':>10} {'load s':>7} {'TTFT med':>9} {'total med':>10} {'tok/s':>6} "
          f"{'decode tok/s':>12}")
    for r in results:
        for label in ("worker", "in_process"):
            row = r[label]
            print(f"{r['threads']:>7} {label:>10} {row['load_s']:>7.2f} {row['ttft_median_s']:>9.3f} "
                  f"{row['total_median_s']:>10.3f} {row['tokens_per_s']:>6.1f} "
                  f"{row['decode_tokens_per_s_median'] or 0:>12.1f}")
        ratio = r["worker_over_in_process"]
        print(f"{r['threads']:>7} {'ratio':>10} {'':>7} {ratio['ttft_median']:>9.3f} {ratio['total_median']:>10.3f} "
              f"{ratio['tokens_per_s']:>6.3f}   (worker / in process; same token counts: {r['same_token_counts']})")
    degraded = bench_degraded(args.threads[0], args.n_batch, args.repeat)
    print(f"degraded mode (n_batch=1) on a grounded prompt: TTFT {degraded['ttft_median_s_n_batch_1']:.2f} s vs "
          f"{degraded[f'ttft_median_s_n_batch_{args.n_batch}']:.2f} s with n_batch={args.n_batch} "
          f"(ratio {degraded['n_batch_1_over_n_batch']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"benchmark": "llm-embedded-worker-vs-in-process", "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
              "max_tokens": args.max_tokens,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "cpu": cpu_fingerprint(),
                          "processor": platform.machine(), "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results,
              "degraded_mode": degraded}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
