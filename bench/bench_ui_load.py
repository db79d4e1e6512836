"""Load test of the web UI: N concurrent browser-like sessions asking for a fixed time.

Usage::

    python bench/bench_ui_load.py                         # demo backend, 20 sessions, 120 s
    python bench/bench_ui_load.py --backend real --home ~/.scopebot   # real index, scripted model
    python bench/bench_ui_load.py --sessions 5 --seconds 20 --delay 0.5

The server is started as a separate process (``python app.py``) on 127.0.0.1 with a free port, so
client and server do not share an interpreter. Each session is its own ``gradio_client.Client``
(its own Gradio session and therefore its own ``gr.State``) and loops over a mix of questions, code
requests and tool requests through the page's ``ask`` endpoint (the Send button), waiting for the
streamed turn to finish. Every turn's wall time is recorded; a turn is an error when the call raises
or the reply does not carry a route line. Results: printed, and written to
``bench/results/ui_load.json`` (p50/p95/max latency, turns, errors, throughput, settings).

Backends: ``demo`` (``scopebot serve --demo``: canned payloads, ``--delay`` seconds of simulated
work per turn) measures the UI layer itself (queue, per-session state, streaming, rendering);
``real`` uses the real index, router, extractive answer pipeline, recommender and sandbox with the
``scripted`` chat model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TURNS = [
    ("How do I choose a threshold method for fluorescent nuclei?", "auto"),
    ("Which tool can segment nuclei in 2D fluorescence images?", "auto"),
    ("Write python code to count the nuclei in this image", "auto"),
    ("What is the point spread function?", "question"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: argparse.Namespace, port: int, home: Path, logdir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SCOPEBOT_HOME": str(home), "SCOPEBOT_PORT": str(port), "SCOPEBOT_HOST": "127.0.0.1",
           "SCOPEBOT_CONCURRENCY": str(args.concurrency), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    cmd = [sys.executable, str(ROOT / "app.py"), "--quiet"]
    if args.backend == "demo":
        cmd += ["--demo", "--demo-delay", str(args.delay)]
    else:
        cmd.append("--no-build-index")
        env["SCOPEBOT_LLM_BACKEND"] = "scripted"
    log = (logdir / "server.log").open("wb")
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(ROOT))


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "config", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not start in time")


def session_loop(index: int, url: str, stop_at: float, out: list[dict[str, Any]], lock: threading.Lock,
                 max_turns: int) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - counted as an error
        with lock:
            out.append({"session": index, "ok": False, "seconds": 0.0, "error": f"connect: {exc}"})
        return
    turn = 0
    while time.time() < stop_at and turn < max_turns:
        text, mode = TURNS[(index + turn) % len(TURNS)]
        started = time.perf_counter()
        record: dict[str, Any] = {"session": index, "turn": turn, "text": text}
        try:
            result = client.predict(text, mode, api_name="/ask")
            chat = result[0] if isinstance(result, list | tuple) else result
            users = [i for i, m in enumerate(chat or []) if isinstance(m, dict) and m.get("role") == "user"]
            reply = chat[users[-1] + 1:] if users else []
            content = json.dumps(reply, ensure_ascii=False, default=str)
            record["ok"] = "Route:" in content
            if not record["ok"]:
                record["error"] = f"no route line in reply: {content[:200]}"
        except Exception as exc:  # noqa: BLE001 - counted as an error
            record["ok"] = False
            record["error"] = f"{type(exc).__name__}: {exc}"[:300]
        record["seconds"] = time.perf_counter() - started
        with lock:
            out.append(record)
        turn += 1
    try:
        client.close()
    except Exception:  # noqa: BLE001
        pass


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--backend", choices=["demo", "real"], default="demo")
    parser.add_argument("--home", type=Path, default=None, help="Home with an index (real backend).")
    parser.add_argument("--delay", type=float, default=0.0, help="Simulated work per demo turn (s).")
    parser.add_argument("--concurrency", type=int, default=4, help="SCOPEBOT_CONCURRENCY of the server.")
    parser.add_argument("--max-turns", type=int, default=10_000, help="Per-session cap on turns.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ui_load.json")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="scopebot-uiload-"))
    home = args.home.expanduser() if args.home else tmp / "home"
    if args.backend == "real" and not (home / "index" / "manifest.json").is_file():
        raise SystemExit(f"no index in {home}: run `scopebot ingest` or pass --home")
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    server = start_server(args, port, home, tmp)
    results: list[dict[str, Any]] = []
    try:
        wait_ready(url, server)
        lock = threading.Lock()
        started = time.time()
        stop_at = started + args.seconds
        threads = [threading.Thread(target=session_loop, args=(i, url, stop_at, results, lock, args.max_turns),
                                    daemon=True) for i in range(args.sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 300)
        wall = time.time() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    ok = [r["seconds"] for r in results if r.get("ok")]
    errors = [r for r in results if not r.get("ok")]
    summary = {
        "backend": args.backend, "sessions": args.sessions, "duration_s": round(wall, 1),
        "server_concurrency": args.concurrency, "demo_delay_s": args.delay if args.backend == "demo" else None,
        "turns": len(results), "ok": len(ok), "errors": len(errors),
        "error_examples": [e.get("error") for e in errors[:5]],
        "latency_s": {"p50": round(percentile(ok, 0.5), 3), "p95": round(percentile(ok, 0.95), 3),
                      "max": round(max(ok), 3) if ok else None,
                      "mean": round(statistics.fmean(ok), 3) if ok else None},
        "throughput_turns_per_s": round(len(ok) / wall, 2) if wall else None,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    print(json.dumps(summary, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
