"""MCP server overhead: a stdio ``scopebot mcp`` process against the same search in this process.

Usage: python bench/bench_mcp.py [--queries N] [--home PATH] [--json]

* start  — spawn ``scopebot mcp`` and list its tools (nothing is loaded yet: the cold start a client sees);
* first  — the first ``search`` (opens the index and the embedding model in the server);
* direct — ``KnowledgeBase.search`` in this process, warm (the floor);
* mcp    — the same queries as ``search`` tool calls over stdio, warm.

Reports medians and the ratio mcp/direct measured side by side in one run; writes bench/results/mcp.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

QUERIES = ["noise2void", "deconvolution point spread function", "segment nuclei in 3D", "photobleaching",
           "cellpose training", "otsu threshold", "tracking particles", "z-stack maximum projection",
           "denoising without ground truth", "pixel size calibration"]


def _ms(samples: list[float]) -> float:
    return round(1000 * statistics.median(samples), 1)


async def _mcp(home: str | None, queries: list[str]) -> dict:
    from mcp import Client, StdioServerParameters

    env = {k: v for k, v in os.environ.items() if k.startswith(("SCOPEBOT_", "HF_"))}
    if home:
        env["SCOPEBOT_HOME"] = home
    exe = shutil.which("scopebot") or str(Path(sys.executable).parent / "scopebot")
    t0 = time.perf_counter()
    async with Client(StdioServerParameters(command=exe, args=["mcp"], env=env), read_timeout_seconds=300) as c:
        tools = await c.list_tools()
        start = time.perf_counter() - t0
        t1 = time.perf_counter()
        first = await c.call_tool("search", {"query": "warm-up query about microscopy", "k": 5})
        assert not first.is_error, first.content[0].text
        first_s = time.perf_counter() - t1
        samples = []
        for q in queries:
            t = time.perf_counter()
            r = await c.call_tool("search", {"query": q, "k": 5})
            samples.append(time.perf_counter() - t)
            assert not r.is_error and r.structured_content["results"], q
    return {"tools": len(tools.tools), "start_ms": round(1000 * start, 1), "first_search_ms": round(1000 * first_s, 1),
            "mcp_ms": _ms(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--home", default=None, help="SCOPEBOT_HOME holding the index (default: the setting)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    queries = [f"{QUERIES[i % len(QUERIES)]} {i}" for i in range(args.queries)]

    from scopebot.knowledge import KnowledgeBase
    from scopebot.settings import Settings

    settings = Settings(home=Path(args.home)) if args.home else Settings()
    kb = KnowledgeBase.open(settings)
    kb.search("warm-up query about microscopy", k=5)
    direct = []
    for q in queries:
        t = time.perf_counter()
        kb.search(q, k=5)
        direct.append(time.perf_counter() - t)
    result = asyncio.run(_mcp(args.home, queries))
    result.update(direct_ms=_ms(direct), queries=len(queries))
    result["ratio_mcp_over_direct"] = round(result["mcp_ms"] / max(result["direct_ms"], 1e-3), 2)
    out = Path(__file__).resolve().parent / "results" / "mcp.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2) if args.json else
          f"start {result['start_ms']} ms · first search {result['first_search_ms']} ms · "
          f"search p50 direct {result['direct_ms']} ms vs MCP {result['mcp_ms']} ms "
          f"(x{result['ratio_mcp_over_direct']}) over {len(queries)} queries")


if __name__ == "__main__":
    main()
