"""The :class:`Sandbox`: run a piece of Python in a separate, limited, isolated process.

Each run gets a private working directory holding only its input files, a scrubbed
environment, resource limits, an audit hook, and (where the system allows) a network-less,
read-only namespace. The working directory is deleted afterwards; figures and written files are
copied out to a folder the caller owns.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scopebot.errors import ConfigurationError
from scopebot.sandbox.isolation import SYSTEM_DATA_ROOTS, Isolation, probe, python_roots
from scopebot.sandbox.models import RunResult, SandboxLimits
from scopebot.sandbox.pool import DEFAULT_PRELOAD, SandboxPool, WorkerProcess

if TYPE_CHECKING:
    from scopebot.settings import Settings

FilesArg = Mapping[str, Path] | Sequence[Path]
_HIDDEN = (".tmp", ".mpl", ".cache", ".config")


def _base_env(home: Path) -> dict[str, str]:
    """The whole environment of a run: nothing is inherited (no keys, no tokens)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "TMPDIR": str(home / ".tmp"), "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home / ".mpl"),
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8", "HF_HUB_OFFLINE": "1",
            "CELLPOSE_LOCAL_MODELS_PATH": str(home / ".cellpose")}


class Sandbox:
    """Runs untrusted Python in a child process with limits; thread-safe; use as a context manager."""

    def __init__(self, limits: SandboxLimits | None = None, *, workers: int = 0,
                 output_dir: Path | None = None, isolation: str = "auto",
                 preload: Sequence[str] = DEFAULT_PRELOAD, python: str = sys.executable,
                 root_dir: Path | None = None, enabled: bool = True) -> None:
        self.limits = limits or SandboxLimits()
        self.enabled = enabled
        self.isolation: Isolation = probe(isolation)
        self.python = python
        self.preload = tuple(preload)
        self._root = Path(tempfile.mkdtemp(prefix="scopebot-sandbox-", dir=root_dir))
        os.chmod(self._root, 0o711)
        #: Where figures and written files are copied; without ``output_dir`` they live until close().
        self.output_dir = Path(output_dir) if output_dir else self._root / "results"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._zygote_home = self._root / ".zygote"
        (self._zygote_home / ".tmp").mkdir(parents=True)
        self._readable = [*python_roots(), *(Path(p) for p in SYSTEM_DATA_ROOTS)]  # bwrap skips missing ones
        self._pool: SandboxPool | None = None
        if workers > 0:
            self._pool = SandboxPool(self.isolation, workers=workers, writable=[self._root],
                                     readable=self._readable, env=_base_env(self._zygote_home),
                                     preload=self.preload, python=python, log_path=self._root / "worker.log")
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, output_dir: Path | None = None,
                      workers: int | None = None) -> Sandbox:
        """A sandbox configured from :class:`scopebot.settings.Settings`."""
        limits = SandboxLimits(timeout_s=settings.sandbox_timeout, memory_mb=settings.sandbox_memory_mb)
        return cls(limits, workers=settings.sandbox_workers if workers is None else workers,
                   output_dir=output_dir or settings.home / "runs", enabled=settings.allow_code_execution)

    # --- lifecycle ----------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Start the warm worker now rather than on the first run."""
        if self._pool is not None:
            self._pool.warm_up()

    def close(self) -> None:
        """Stop the workers and delete the sandbox's private folders (not the output folder)."""
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            self._pool.close()
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running --------------------------------------------------------------------------------
    def run(self, code: str, *, files: FilesArg = (), timeout: float | None = None,
            globals: Mapping[str, Any] | None = None, filename: str = "script.py",
            output_dir: Path | None = None) -> RunResult:
        """Run ``code`` with ``files`` copied into its working directory; never raises for user errors.

        ``globals`` (JSON values) are defined before the code runs, e.g. ``{"IMAGE_PATH": "image.tif"}``.
        Raises :class:`ConfigurationError` for bad input and :class:`SandboxError` when the
        sandbox itself fails.
        """
        if not self.enabled:
            raise ConfigurationError("code execution is disabled",
                                     hint="set SCOPEBOT_ALLOW_CODE_EXECUTION=true to allow sandboxed runs")
        if self._closed:
            raise ConfigurationError("this sandbox was closed", hint="create a new Sandbox")
        limits = self.limits if timeout is None else self.limits.model_copy(update={"timeout_s": float(timeout),
                                                                                  "cpu_s": None})
        run_id = uuid.uuid4().hex[:12]
        job_dir = self._root / run_id
        work, ctl = job_dir / "work", job_dir / "ctl"
        try:
            inputs = self._prepare(work, ctl, code, files)
            job = self._job(run_id, work, ctl, limits, globals, filename)
            started = time.monotonic()
            reply = self._submit(job, limits)
            result = self._collect(reply, work, ctl, limits, inputs, output_dir or self.output_dir / run_id)
            result.warm = self._pool is not None
            if result.duration_s <= 0:
                result.duration_s = time.monotonic() - started
            return result
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)

    def _prepare(self, work: Path, ctl: Path, code: str, files: FilesArg) -> dict[str, float]:
        ctl.mkdir(parents=True, mode=0o700)
        work.mkdir(mode=0o700)
        for hidden in (".tmp", ".mpl"):
            (work / hidden).mkdir()
        pairs = list(files.items()) if isinstance(files, Mapping) else [(Path(p).name, Path(p)) for p in files]
        inputs: dict[str, float] = {}
        for name, src in pairs:
            if not name or "/" in name or name.startswith(".") or name in (".", ".."):
                raise ConfigurationError(f"invalid input file name {name!r}",
                                         hint="use a plain file name without folders")
            src = Path(src)
            if not src.is_file():
                raise ConfigurationError(f"input file not found: {src}", hint="check the path")
            shutil.copyfile(src, work / name)
            inputs[name] = (work / name).stat().st_mtime
        (ctl / "code.py").write_text(code, encoding="utf-8")
        if self.isolation.uid is not None:
            for path in [work, *work.rglob("*")]:
                os.chown(path, self.isolation.uid, self.isolation.gid or self.isolation.uid)
        return inputs

    def _job(self, run_id: str, work: Path, ctl: Path, limits: SandboxLimits,
             globals_: Mapping[str, Any] | None, filename: str) -> dict[str, Any]:
        try:
            json.dumps(dict(globals_ or {}))
        except TypeError as exc:
            raise ConfigurationError("sandbox globals must be JSON values", hint=str(exc)) from exc
        return {"id": run_id, "workdir": str(work), "control": str(ctl), "filename": filename,
                "globals": dict(globals_ or {}), "env": _base_env(work),
                "read_roots": [str(p) for p in self._readable],
                "timeout_s": limits.timeout_s, "cpu_s": limits.effective_cpu_s, "memory_mb": limits.memory_mb,
                "max_processes": limits.max_processes, "max_file_mb": limits.max_file_mb,
                "max_output_chars": limits.max_output_chars, "max_output_factor": limits.max_output_factor,
                "uid": self.isolation.uid, "gid": self.isolation.gid}

    def _submit(self, job: dict[str, Any], limits: SandboxLimits) -> dict[str, Any]:
        wait_s = limits.timeout_s + 15.0
        if self._pool is not None:
            return self._pool.submit(job, wait_s)
        worker = WorkerProcess(self.isolation, writable=[self._root], readable=self._readable,
                               env=_base_env(self._zygote_home), preload=(), python=self.python,
                               log_path=self._root / "worker.log")
        try:
            return worker.submit(job, wait_s)
        finally:
            worker.close()

    def _collect(self, reply: dict[str, Any], work: Path, ctl: Path, limits: SandboxLimits,
                 inputs: dict[str, float], dest: Path) -> RunResult:
        try:
            data = json.loads((ctl / "result.json").read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            data = {}
        keep = limits.max_output_chars
        stdout, out_cut = _read_capped(ctl / "stdout.raw", keep)
        stderr, err_cut = _read_capped(ctl / "stderr.raw", keep)
        out_cut = out_cut or bool(data.get("stdout_truncated"))
        err_cut = err_cut or bool(data.get("stderr_truncated"))
        marker = f"\n[... output truncated by the sandbox: only the first {keep} characters are kept ...]\n"
        limit, error = _limit_from_exit(reply, data, limits)
        if limit is None and (out_cut or err_cut):
            limit = "output"
        figures, files = self._copy_out(work, dest, data.get("figures") or [], inputs, limits)
        return RunResult(
            ok=bool(data.get("ok")) and not reply.get("timed_out") and reply.get("signal") is None,
            stdout=stdout + (marker if out_cut else ""), stderr=stderr + (marker if err_cut else ""),
            stdout_truncated=out_cut, stderr_truncated=err_cut,
            error=error or data.get("error"), traceback=data.get("traceback"),
            figures=figures, files=files, duration_s=round(float(reply.get("wall_s") or 0.0), 4),
            limit_hit=limit, violation=data.get("violation"), isolation=self.isolation.layers(),
            exit_code=reply.get("exit_code"), signal=reply.get("signal"))

    def _copy_out(self, work: Path, dest: Path, figure_names: list[str], inputs: dict[str, float],
                  limits: SandboxLimits) -> tuple[list[str], list[str]]:
        figures: list[str] = []
        files: list[str] = []
        budget = limits.max_copied_mb * 2**20
        candidates = sorted(p for p in work.rglob("*")
                            if p.is_file() and not p.is_symlink()
                            and not any(part in _HIDDEN for part in p.relative_to(work).parts))
        for path in candidates:
            rel = path.relative_to(work).as_posix()
            if rel in inputs and path.stat().st_mtime == inputs[rel]:
                continue  # an untouched input file
            size = path.stat().st_size
            is_figure = rel in figure_names
            if size > budget or (not is_figure and len(files) >= limits.max_copied_files):
                continue
            budget -= size
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            (figures if is_figure else files).append(str(target))
        return figures, files


def _read_capped(path: Path, keep: int) -> tuple[str, bool]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(keep * 4 + 4)
            more = bool(fh.read(1))
    except OSError:
        return "", False
    text = raw.decode("utf-8", "replace")
    return text[:keep], more or len(text) > keep


def _limit_from_exit(reply: dict[str, Any], data: dict[str, Any],
                     limits: SandboxLimits) -> tuple[str | None, str | None]:
    """Which limit ended the run, and an error text when the child could not say it itself."""
    sig = reply.get("signal")
    cpu = float(reply.get("cpu_s") or 0.0)
    if reply.get("timed_out"):
        return "timeout", (f"TimeoutError: the run exceeded the {limits.timeout_s:g} s wall-clock limit "
                           "and was stopped")
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.effective_cpu_s - 0.1):
        return "cpu", f"CPULimitError: the run used more than {limits.effective_cpu_s} CPU seconds and was stopped"
    if sig == signal.SIGXFSZ:
        return "file_size", f"FileSizeLimitError: a file grew beyond {limits.max_file_mb} MiB"
    if data.get("limit"):
        return data["limit"], None
    if not data and sig is not None:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        if sig in (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
            return "memory", (f"MemoryLimitError: the run was killed by {name}, most likely by running out of "
                              f"its {limits.memory_mb} MiB memory limit")
        return None, f"the run was killed by {name}"
    if not data:
        return None, f"the run ended without a result (exit code {reply.get('exit_code')})"
    return None, None
