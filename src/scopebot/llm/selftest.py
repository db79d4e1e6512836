"""First-use self-test of the local model, in a child process, with a cached verdict.

Some llama.cpp builds crash on some CPUs: a llama-cpp-python compiled with ``-march=native`` on an
Intel Xeon with AVX512-BF16/VNNI dies with SIGSEGV in ``libggml-cpu.so`` as soon as a multi-token
prompt is decoded with ``n_batch > 1``, while ``n_batch = 1`` works. So before the first turn the
worker is asked for a few tokens of a multi-token prompt with the configured ``n_batch``:

* ``ok`` — use the configured ``n_batch``;
* ``degraded`` — it crashed, ``n_batch = 1`` works: use that (slower prompt processing) and warn;
* ``failed`` — both crashed: the local model is unavailable, answers fall back to extractive mode and
  the message gives the command that rebuilds llama.cpp portably (:data:`REINSTALL_COMMAND`).

The verdict is cached in ``<home>/llm-selftest.json``, keyed by the llama-cpp-python version, a
fingerprint of its compiled libraries (a rebuild of the same version invalidates it), the GGUF file,
the worker command and the CPU's flags.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from scopebot.llm.errors import REINSTALL_COMMAND
from scopebot.llm.worker import llama_cpp_version
from scopebot.llm.workerproc import WorkerDied, WorkerProcess, WorkerSilent, WorkerSpec, remote_error

#: A prompt of a few dozen tokens, so that prompt processing really uses a batch larger than 1.
SELFTEST_MESSAGES = [
    {"role": "system", "content": "You are a concise assistant for microscopy questions."},
    {"role": "user", "content": "In one sentence, explain why a confocal microscope gives sharper optical "
                                "sections than a widefield microscope when imaging thick tissue."},
]
SELFTEST_TOKENS = 4
CACHE_VERSION = 1

Verdict = Literal["ok", "degraded", "failed"]


class Attempt(BaseModel):
    n_batch: int
    ok: bool
    detail: str
    seconds: float


class SelfTestResult(BaseModel):
    """The outcome of the self-test for one environment (see the module docstring)."""

    verdict: Verdict
    n_batch: int | None = Field(default=None, description="The n_batch to use (None when failed).")
    attempts: list[Attempt] = Field(default_factory=list)
    key: dict[str, str] = Field(default_factory=dict)
    created: str = ""
    cached: bool = False

    def summary(self) -> str:
        """One line for people."""
        tried = "; ".join(f"n_batch={a.n_batch}: {'ok' if a.ok else a.detail}" for a in self.attempts)
        if self.verdict == "ok":
            return f"ok: the local model generates with n_batch={self.n_batch} ({tried})"
        if self.verdict == "degraded":
            return (f"degraded: batched prompt processing crashes with this llama.cpp build on this CPU, "
                    f"so the local model runs with n_batch=1 (slower) ({tried}). To fix: {REINSTALL_COMMAND}")
        return (f"failed: the local model crashes with this llama.cpp build on this CPU ({tried}); answers "
                f"fall back to extractive mode. To fix: {REINSTALL_COMMAND}")


# -- the environment key --------------------------------------------------------------------------
def build_fingerprint() -> str:
    """A hash of llama_cpp's compiled libraries (names, sizes, mtimes), found without importing it."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.origin:
        return "missing"
    package = Path(spec.origin).parent
    parts = []
    for lib in sorted(package.rglob("*")):
        if lib.suffix in (".so", ".dylib", ".dll") or ".so." in lib.name:
            stat = lib.stat()
            parts.append(f"{lib.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cpu_fingerprint() -> str:
    """The CPU model and a hash of its feature flags (``/proc/cpuinfo``), or the platform's processor."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"{platform.machine()} {platform.processor()}".strip()
    model = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("model name")), "")
    flags = next((ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith(("flags", "Features"))), "")
    digest = hashlib.sha256(" ".join(sorted(flags.split())).encode()).hexdigest()[:12]
    return f"{model or platform.machine()} flags:{digest}"


def environment_key(spec: WorkerSpec) -> dict[str, str]:
    path = Path(spec.model)
    size = path.stat().st_size if path.is_file() else -1
    return {"llama_cpp": llama_cpp_version(), "build": build_fingerprint(), "gguf": f"{path}:{size}",
            "command": " ".join(spec.command[1:]) if spec.injected else "default", "cpu": cpu_fingerprint(),
            "n_ctx": str(spec.n_ctx), "n_threads": str(spec.n_threads), "n_batch": str(spec.n_batch)}


def _digest(key: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


# -- running it -----------------------------------------------------------------------------------
def try_batch(spec: WorkerSpec, timeout: float) -> Attempt:
    """Generate a few tokens of :data:`SELFTEST_MESSAGES` in a fresh worker with ``spec.n_batch``.

    A crash or a hang is a failed attempt; a load error (a bad GGUF file) is raised as it is.
    """
    start = time.perf_counter()
    process = WorkerProcess(spec)
    try:
        process.wait_ready(timeout)
        process.send({"op": "chat", "messages": SELFTEST_MESSAGES, "max_tokens": SELFTEST_TOKENS,
                      "temperature": 0.0, "stop": []})
        pieces = 0
        while True:
            event = process.event(timeout)
            kind = event.get("event")
            if kind == "delta":
                pieces += 1
            elif kind == "done":
                ok = pieces > 0
                detail = f"{pieces} piece(s) generated" if ok else "no text generated"
                return Attempt(n_batch=spec.n_batch, ok=ok, detail=detail, seconds=time.perf_counter() - start)
            elif kind == "error":
                raise remote_error(event)
    except WorkerDied as died:
        detail = f"the worker died ({died.reason})"
    except WorkerSilent as silent:
        detail = f"the worker hung ({silent})"
    finally:
        process.stop()
    return Attempt(n_batch=spec.n_batch, ok=False, detail=detail, seconds=time.perf_counter() - start)


def run_self_test(spec: WorkerSpec, timeout: float = 120.0) -> SelfTestResult:
    """Try ``spec.n_batch``, then ``n_batch=1``, each in a child process."""
    attempts = [try_batch(spec, timeout)]
    if attempts[0].ok:
        verdict: Verdict = "ok"
        n_batch: int | None = spec.n_batch
    elif spec.n_batch > 1:
        attempts.append(try_batch(spec.with_batch(1), timeout))
        verdict, n_batch = ("degraded", 1) if attempts[1].ok else ("failed", None)
    else:
        verdict, n_batch = "failed", None
    return SelfTestResult(verdict=verdict, n_batch=n_batch, attempts=attempts, key=environment_key(spec),
                          created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


class SelfTest:
    """Runs the self-test at most once per environment and remembers the verdict in ``cache_path``."""

    def __init__(self, cache_path: Path | None, *, timeout: float = 120.0) -> None:
        self.cache_path = cache_path
        self.timeout = timeout

    def _entries(self) -> dict[str, Any]:
        if self.cache_path is None or not self.cache_path.is_file():
            return {}
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def cached(self, spec: WorkerSpec) -> SelfTestResult | None:
        raw = self._entries().get(_digest(environment_key(spec)))
        if raw is None:
            return None
        try:
            return SelfTestResult.model_validate({**raw, "cached": True})
        except ValueError:
            return None

    def store(self, result: SelfTestResult) -> None:
        if self.cache_path is None:
            return
        entries = self._entries()
        entries[_digest(result.key)] = result.model_dump(exclude={"cached"})
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_path.with_name(f".{self.cache_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=2) + "\n",
                       encoding="utf-8")
        os.replace(tmp, self.cache_path)

    def verdict(self, spec: WorkerSpec, *, fresh: bool = False) -> SelfTestResult:
        """The cached verdict for ``spec``'s environment, or a new self-test (then cached)."""
        if not fresh:
            found = self.cached(spec)
            if found is not None:
                return found
        result = run_self_test(spec, self.timeout)
        self.store(result)
        return result

    def record_crash(self, spec: WorkerSpec, reason: str) -> None:
        """A turn crashed the worker at ``spec.n_batch``: remember ``n_batch=1`` for this environment."""
        attempt = Attempt(n_batch=spec.n_batch, ok=False, detail=f"a turn crashed the worker ({reason})", seconds=0.0)
        self.store(SelfTestResult(verdict="degraded", n_batch=1, attempts=[attempt], key=environment_key(spec),
                                  created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())))
