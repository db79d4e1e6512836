"""Benchmark grounded answers with the embedded backend: time to first token and total answer time.

Usage::

    python bench/bench_answer.py                      # extractive (default) + generative, 8 questions
    python bench/bench_answer.py --modes extractive --repeat 3
    python bench/bench_answer.py --home ~/.scopebot --lead   # extractive with the model-written lead

Needs a built index (``scopebot ingest``). The model and the embedder are loaded once and one
warm-up question is answered before timing, so figures are for a warm process. "First token" is the
first streamed text event: in extractive mode that is the verified answer itself; in generative mode
it is the model's first token. Results are printed and written to bench/results/answer.json.
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
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "How does Noise2Void denoise without clean training images?",
    "Why does StarDist have trouble with elongated cells?",
    "How does Otsu thresholding pick a threshold?",
    "What is the difference between semantic and instance segmentation?",
    "How can I reduce photobleaching during live imaging?",
    "Why is the pixel size important for measurements?",
    "What does TrackMate do?",
    "How do I configure the CellMagic3000 plugin for Fiji?",
]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 1) if s else 0.0


def run(mode: str, pipeline: object, repeat: int) -> dict[str, object]:
    ttft: list[float] = []
    total: list[float] = []
    parts: dict[str, list[float]] = {"retrieve_ms": [], "generate_ms": [], "verify_ms": []}
    abstained = 0
    for _ in range(repeat):
        for q in QUESTIONS:
            t0 = time.perf_counter()
            first = None
            final = None
            for event in pipeline.stream(q, mode=mode):  # type: ignore[attr-defined]
                if event.type == "delta" and first is None:
                    first = time.perf_counter() - t0
                if event.type == "final":
                    final = event.answer
            total.append((time.perf_counter() - t0) * 1000)
            ttft.append((first or 0.0) * 1000)
            assert final is not None
            abstained += int(final.abstained)
            for k in parts:
                parts[k].append(getattr(final.timings, k))
    return {"mode": mode, "questions": len(total), "abstained": abstained,
            "first_token_ms_p50": round(statistics.median(ttft), 1), "first_token_ms_p95": pct(ttft, 0.95),
            "total_ms_p50": round(statistics.median(total), 1), "total_ms_p95": pct(total, 0.95),
            **{f"{k}_p50": round(statistics.median(v), 1) for k, v in parts.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=None, help="scopebot home with the index")
    parser.add_argument("--modes", nargs="+", default=["extractive", "generative"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--lead", action="store_true", help="extractive: let the model write a checked lead")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "answer.json")
    args = parser.parse_args()

    from scopebot.answer.factory import build_answer_pipeline
    from scopebot.knowledge import KnowledgeBase
    from scopebot.llm import make_chat_model
    from scopebot.settings import Settings

    settings = Settings(**({"home": args.home} if args.home else {}), llm_backend="embedded")
    t0 = time.perf_counter()
    kb = KnowledgeBase.open(settings)
    model = make_chat_model(settings)
    pipeline = build_answer_pipeline(settings, kb=kb, model=model, lead=args.lead)
    pipeline.answer(QUESTIONS[0], mode="extractive")
    if "generative" in args.modes:
        pipeline.answer(QUESTIONS[0], mode="generative")
    warmup_s = round(time.perf_counter() - t0, 2)
    results = [run(mode, pipeline, args.repeat) for mode in args.modes]
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus",
              "backend": model.name, "threads": settings.llm_threads, "lead": args.lead,
              "index_chunks": len(kb), "load_and_warmup_s": warmup_s, "results": results}
    print(json.dumps(report, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
