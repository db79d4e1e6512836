"""Sandbox overhead: trivial and scikit-image snippets, cold and warm, against in-process ``exec``.

Usage: python bench/bench_sandbox.py [--repeats N] [--json]

* exec   — the snippet run with ``exec`` in this process (libraries already imported: the floor);
* cold   — a fresh sandbox per run (``workers=0``) in a process that has not probed the kernel yet: probe
  (a real no-op run through the boundary), start bubblewrap and the worker, import, run;
* warm   — the warm pool (``workers=1``): a per-run warden and run forked from the template that already
  imported the stack, each with its own namespaces, tmpfs, Landlock domain and seccomp filter.

Overhead = median sandbox wall time minus median exec time. Targets: warm overhead <= 150 ms (p50),
cold start <= 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

SNIPPETS = {
    "trivial": "x = sum(range(1000))\nprint(x)\n",
    "skimage": ("import numpy as np\nfrom skimage import filters, measure\n"
                "rng = np.random.default_rng(0)\nimg = rng.random((256, 256))\n"
                "img[64:128, 64:128] += 2\nmask = img > filters.threshold_otsu(img)\n"
                "print(measure.label(mask).max())\n"),
}


def _median_ms(samples: list[float]) -> float:
    return round(1000 * statistics.median(samples), 1)


def bench(repeats: int) -> dict:
    from scopebot.sandbox import Sandbox, SandboxLimits
    from scopebot.sandbox.isolation import probe

    results: dict = {"repeats": repeats}
    for name, code in SNIPPETS.items():
        exec(compile(code.replace("print(", "(lambda *a: None)("), name, "exec"), {})  # warm imports
        in_proc = []
        for _ in range(repeats):
            t = time.perf_counter()
            exec(compile(code.replace("print(", "(lambda *a: None)("), name, "exec"), {})
            in_proc.append(time.perf_counter() - t)
        cold = []
        for _ in range(max(2, repeats // 4)):
            probe.cache_clear()
            t = time.perf_counter()
            with Sandbox(SandboxLimits(timeout_s=60), workers=0) as sb:
                r = sb.run(code)
                cold.append(time.perf_counter() - t)
                assert r.ok, r.error
        with Sandbox(SandboxLimits(timeout_s=60), workers=1) as sb:
            t = time.perf_counter()
            sb.warm_up()
            startup = time.perf_counter() - t
            sb.run(code)
            warm = []
            for _ in range(repeats):
                t = time.perf_counter()
                r = sb.run(code)
                warm.append(time.perf_counter() - t)
                assert r.ok, r.error
            layers = r.isolation
        results[name] = {"exec_ms": _median_ms(in_proc), "cold_ms": _median_ms(cold), "warm_ms": _median_ms(warm),
                         "cold_overhead_ms": round(_median_ms(cold) - _median_ms(in_proc), 1),
                         "warm_overhead_ms": round(_median_ms(warm) - _median_ms(in_proc), 1),
                         "warm_p95_ms": round(1000 * sorted(warm)[int(0.95 * (len(warm) - 1))], 1),
                         "pool_startup_ms": round(1000 * startup, 1)}
        results["isolation"] = layers
    results["target_warm_overhead_ms"] = 150
    results["target_cold_ms"] = 1500
    results["meets_target"] = all(results[n]["warm_overhead_ms"] <= 150 and results[n]["cold_ms"] <= 1500
                                  for n in SNIPPETS)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    res = bench(args.repeats)
    from pathlib import Path

    out = Path(__file__).with_name("results") / "sandbox.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"isolation: {', '.join(res['isolation'])}")
    print(f"{'snippet':<10}{'exec':>10}{'cold':>10}{'warm':>10}{'cold ovh':>10}{'warm ovh':>10}{'warm p95':>10}")
    for name in SNIPPETS:
        r = res[name]
        print(f"{name:<10}{r['exec_ms']:>10}{r['cold_ms']:>10}{r['warm_ms']:>10}{r['cold_overhead_ms']:>10}"
              f"{r['warm_overhead_ms']:>10}{r['warm_p95_ms']:>10}")
    print(f"(ms, medians over {res['repeats']} runs; targets warm overhead <= 150 ms, cold <= 1500 ms: "
          f"{'met' if res['meets_target'] else 'NOT met'})")


if __name__ == "__main__":
    main()
