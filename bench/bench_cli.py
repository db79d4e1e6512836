"""Cold start of scopebot commands as whole processes, side by side with ``python -c "import torch"``.

Usage::

    python bench/bench_cli.py [--rounds 7] [--home ~/.scopebot]

Every round runs each command once as a fresh process, in a shuffled order, so load changes on a
shared machine hit every command alike; the table reports the median wall time over the rounds,
the peak RSS of the process and the ratio to the median of ``import torch`` measured in the same
rounds. The commands read the index in ``--home`` (default ``~/.scopebot``, never modified apart from
the caches search keeps) and use the default settings (embedded backend, extractive answers).
Results go to bench/results/cli.json; ``--markdown`` prints the README table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from bench_index import load_average, machine  # noqa: E402

PY = sys.executable
SCOPEBOT = [PY, "-c", "from scopebot.cli import main; main()"]

#: (label, argv, stdin)
COMMANDS: list[tuple[str, list[str], str | None]] = [
    ('python -c "pass"', [PY, "-c", "pass"], None),
    ('python -c "import torch"', [PY, "-c", "import torch"], None),
    ('scopebot search "noise2void training data" -k 5 --json',
     [*SCOPEBOT, "search", "noise2void training data", "-k", "5", "--json"], None),
    ('scopebot ask "..." --mode extractive --json',
     [*SCOPEBOT, "ask", "How do I denoise images taken at low laser power?", "--mode", "extractive", "--json"],
     None),
    ('scopebot recommend "segment nuclei in 3D without coding" --json',
     [*SCOPEBOT, "recommend", "segment nuclei in 3D without coding", "--json"], None),
    ("scopebot chat --json (one greeting: routing + chit-chat)", [*SCOPEBOT, "chat", "--json"],
     "hello, who are you?\n"),
    ("scopebot chat --json (one question: routing + extractive answer)", [*SCOPEBOT, "chat", "--json"],
     "what is noise2void?\n"),
    ("scopebot status", [*SCOPEBOT, "status"], None),
    ("scopebot config --json", [*SCOPEBOT, "config", "--json"], None),
]
TORCH = 'python -c "import torch"'


def run_once(argv: list[str], stdin: str | None, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of one fresh process."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, text=True)
    if stdin is not None:
        proc.stdin.write(stdin)  # type: ignore[union-attr]
    proc.stdin.close()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--home", type=Path, default=Path.home() / ".scopebot")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    env = {**os.environ, "SCOPEBOT_HOME": str(args.home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    for _, argv, stdin in COMMANDS:  # warm the page cache and the query-embedder cache once (not measured)
        run_once(argv, stdin, env)
    walls: dict[str, list[float]] = {c[0]: [] for c in COMMANDS}
    rss: dict[str, list[float]] = {c[0]: [] for c in COMMANDS}
    codes: dict[str, set[int]] = {c[0]: set() for c in COMMANDS}
    loads = [load_average()]
    rng = random.Random(0)
    for r in range(args.rounds):
        order = list(COMMANDS)
        rng.shuffle(order)
        for name, argv, stdin in order:
            wall, mib, code = run_once(argv, stdin, env)
            walls[name].append(wall)
            rss[name].append(mib)
            codes[name].add(code)
        loads.append(load_average())
        print(f"round {r + 1}/{args.rounds} done (load {loads[-1]})", file=sys.stderr)
    torch_s = statistics.median(walls[TORCH])
    rows = []
    for name, _, _ in COMMANDS:
        med = statistics.median(walls[name])
        rows.append({"command": name, "median_s": round(med, 3), "min_s": round(min(walls[name]), 3),
                     "max_s": round(max(walls[name]), 3), "peak_rss_mib": round(max(rss[name]), 1),
                     "vs_import_torch": round(med / torch_s, 3), "exit_codes": sorted(codes[name])})
    result = {"machine": machine(), "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d %H:%M"),
              "rounds": args.rounds, "home": str(args.home), "load_average_per_round": loads, "commands": rows}
    out = ROOT / "results" / "cli.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    width = max(len(r["command"]) for r in rows)
    for r in rows:
        print(f"{r['command']:<{width}}  {r['median_s']:6.2f} s  {r['vs_import_torch']:5.2f}x torch  "
              f"{r['peak_rss_mib']:6.0f} MiB  exit {r['exit_codes']}")
    if args.markdown:
        print("\n| command (fresh process) | median wall | × `import torch` | peak RSS |\n|---|---|---|---|")
        for r in rows:
            print(f"| `{r['command']}` | {r['median_s']:.2f} s | {r['vs_import_torch']:.2f} | {r['peak_rss_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
