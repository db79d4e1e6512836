"""The :class:`Sandbox`: run a piece of Python behind a kernel boundary, or refuse to run it.

Each run gets its own namespaces (user, mount, PID, IPC, network, UTS, cgroup), a sized ``noexec``
tmpfs as working folder holding only its inputs (sub-folders included), a scrubbed environment,
resource limits, no capabilities, a Landlock domain, a seccomp filter and the audit hook (see
``isolation.py`` and ``worker.py``). Where no kernel boundary can be set up the constructor raises
:class:`SandboxUnavailable`. Figures and written files are copied out to a folder the caller owns.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from scopebot.errors import ConfigurationError, SandboxError
from scopebot.sandbox.isolation import (
    INSIDE_LIB,
    INSTALL_HINT,
    LIB_DIR,
    RUN_READ_ROOTS,
    SYSTEM_DATA_ROOTS,
    Isolation,
    SandboxUnavailable,
    probe,
    python_roots,
)
from scopebot.sandbox.models import RunResult, SandboxLimits
from scopebot.sandbox.pool import DEFAULT_PRELOAD, SandboxPool, WorkerProcess
from scopebot.sandbox.retention import prune_runs
from scopebot.settings import is_loopback

if TYPE_CHECKING:
    from scopebot.settings import Settings

FilesArg = Mapping[str, Path] | Sequence[Path]


def _base_env(home: Path) -> dict[str, str]:
    """The whole environment of a run: nothing is inherited (no keys, no tokens)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "TMPDIR": str(home / ".tmp"), "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home / ".mpl"),
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "NUMEXPR_NUM_THREADS": "1", "PYTHONIOENCODING": "utf-8", "HF_HUB_OFFLINE": "1",
            "CELLPOSE_LOCAL_MODELS_PATH": str(home / ".cellpose"), "USER": "sandbox", "LOGNAME": "sandbox"}


class Sandbox:
    """Runs untrusted Python in a child process with limits; thread-safe; use as a context manager.

    ``isolation``: ``auto`` (bubblewrap, else Landlock + seccomp), ``bwrap`` or ``landlock``. When no kernel
    boundary works here the constructor raises :class:`SandboxUnavailable` (fail closed), unless
    ``unsafe_hook_only`` is set. ``python`` is the interpreter of the runs (e.g. the user's analysis venv or
    conda env); it gets the same boundary.
    """

    def __init__(self, limits: SandboxLimits | None = None, *, workers: int = 0,
                 output_dir: Path | None = None, isolation: str = "auto",
                 preload: Sequence[str] = DEFAULT_PRELOAD, python: str | None = None,
                 root_dir: Path | None = None, enabled: bool = True, unsafe_hook_only: bool = False,
                 bwrap: str | None = None, keep_outputs_mb: int | None = None) -> None:
        self.limits = limits or SandboxLimits()
        #: Size cap of ``output_dir`` (MiB; None: no cap), applied after each run (:mod:`.retention`).
        self.keep_outputs_mb = keep_outputs_mb
        self.enabled = enabled
        self.python = _check_python(python or sys.executable)
        self.isolation: Isolation = (probe(isolation, self.python, bwrap, unsafe_hook_only) if enabled
                                     else Isolation("unavailable", notes=("code execution is disabled",)))
        if enabled and self.isolation.kind == "unavailable":
            raise SandboxUnavailable("no kernel sandbox can be set up on this machine, so code is not run ("
                                     + "; ".join(self.isolation.notes) + ")", hint=INSTALL_HINT)
        self.preload = tuple(preload)
        self._root = Path(tempfile.mkdtemp(prefix="scopebot-sandbox-", dir=root_dir))
        os.chmod(self._root, 0o711)
        #: Where figures and written files are copied; without ``output_dir`` they live until close().
        self.output_dir = Path(output_dir) if output_dir else self._root / ".results"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        zygote_home = self._root / ".zygote"
        (zygote_home / ".tmp").mkdir(parents=True)
        (zygote_home / ".mpl").mkdir()
        self._own(zygote_home)
        self._readable = [*python_roots(self.python), *(Path(p) for p in SYSTEM_DATA_ROOTS if os.path.exists(p))]
        inside_home = Path(self.isolation.jobs_path(self._root)) / ".zygote"
        self._worker_args = dict(isolation=self.isolation, writable=[self._root], readable=self._readable,
                                 env=_base_env(inside_home), python=self.python,
                                 log_path=self._root / "worker.log")
        self._pool: SandboxPool | None = None
        if workers > 0 and enabled:
            self._pool = SandboxPool(workers=workers, preload=self.preload, **self._worker_args)
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, *, output_dir: Path | None = None,
                      workers: int | None = None, python: str | None = None,
                      listen_host: str | None = None) -> Sandbox:
        """A sandbox configured from :class:`scopebot.settings.Settings`.

        ``listen_host``: where a server that will use this sandbox listens (default: ``settings.host``, the
        UI's). The unsafe hook-only mode is never used when that is beyond localhost (:func:`check_exposure`).
        """
        limits = SandboxLimits(timeout_s=settings.sandbox_timeout, memory_mb=settings.sandbox_memory_mb,
                               disk_mb=settings.sandbox_disk_mb)
        unsafe = settings.sandbox_unsafe_hook_only and is_loopback(listen_host or settings.host)
        return cls(limits, workers=settings.sandbox_workers if workers is None else workers,
                   output_dir=output_dir or settings.home / "runs", enabled=settings.allow_code_execution,
                   isolation=settings.sandbox_isolation, python=python or settings.sandbox_python,
                   unsafe_hook_only=unsafe, bwrap=settings.sandbox_bwrap,
                   keep_outputs_mb=settings.sandbox_runs_keep_mb)

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
        _remove(self._root)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- running --------------------------------------------------------------------------------
    def run(self, code: str, *, files: FilesArg = (), timeout: float | None = None,
            globals: Mapping[str, Any] | None = None, filename: str = "script.py",
            output_dir: Path | None = None) -> RunResult:
        """Run ``code`` with ``files`` copied into its working directory; never raises for user errors.

        ``files`` maps names (relative paths such as ``data/sub/a.tif`` are allowed) to files or folders;
        folders are copied with their sub-folders. ``globals`` (JSON values) are defined before the code
        runs, e.g. ``{"IMAGE_PATH": "image.tif"}``. Raises :class:`ConfigurationError` for bad input and
        :class:`SandboxError` when the sandbox itself fails.
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
        try:
            input_bytes = self._prepare(job_dir, code, files)
            job = self._job(run_id, limits, globals, filename, input_bytes)
            started = time.monotonic()
            reply = self._submit(job, limits)
            dest = output_dir or self.output_dir / run_id
            result = self._collect(reply, job_dir, limits, dest)
            if self.keep_outputs_mb is not None and output_dir is None:
                prune_runs(self.output_dir, self.keep_outputs_mb * 1024 * 1024, protect=dest)
            result.warm = self._pool is not None
            if result.duration_s <= 0:
                result.duration_s = time.monotonic() - started
            return result
        finally:
            self._discard(job_dir)

    def _discard(self, job_dir: Path) -> None:
        """Delete a finished run's folder off the caller's path (deleting is slow on overlay file systems)."""
        hidden = self._root / f".done-{job_dir.name}"
        try:
            job_dir.rename(hidden)
        except OSError:
            hidden = job_dir
        threading.Thread(target=_remove, args=(hidden,), name="sandbox-cleanup", daemon=True).start()

    def _own(self, path: Path) -> None:
        if self.isolation.uid is not None:
            for p in [path, *path.rglob("*")]:
                os.lchown(p, self.isolation.uid, self.isolation.uid)

    def _prepare(self, job_dir: Path, code: str, files: FilesArg) -> int:
        for sub in ("in", "ctl", "out"):
            (job_dir / sub).mkdir(parents=True, mode=0o700)
        pairs = list(files.items()) if isinstance(files, Mapping) else [(Path(p).name, Path(p)) for p in files]
        total = 0
        for name, src in pairs:
            parts = PurePosixPath(str(name)).parts
            if (not parts or PurePosixPath(str(name)).is_absolute()
                    or any(p in (".", "..") or p.startswith(".") for p in parts)):
                raise ConfigurationError(f"invalid input file name {name!r}",
                                         hint="use a relative path without '..' or hidden parts")
            src = Path(src)
            if src.is_dir():
                total += _copy_tree(src, job_dir / "in" / str(name))
            elif src.is_file():
                (job_dir / "in" / str(name)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, job_dir / "in" / str(name))
                total += src.stat().st_size
            else:
                raise ConfigurationError(f"input file not found: {src}", hint="check the path")
        (job_dir / "ctl" / "code.py").write_text(code, encoding="utf-8")
        self._own(job_dir)
        return total

    def _job(self, run_id: str, limits: SandboxLimits, globals_: Mapping[str, Any] | None, filename: str,
             input_bytes: int) -> dict[str, Any]:
        try:
            json.dumps(dict(globals_ or {}))
        except TypeError as exc:
            raise ConfigurationError("sandbox globals must be JSON values", hint=str(exc)) from exc
        iso = self.isolation
        jobs = iso.jobs_path(self._root)
        work = iso.work_path(self._root, run_id)
        read_roots = [str(p) for p in self._readable]
        read_roots.append(INSIDE_LIB if iso.namespaces else str(LIB_DIR))
        # a private /tmp per run, unless the Python environment itself lives under /tmp (then /tmp stays
        # read-only and TMPDIR points into the working folder)
        private_tmp = iso.namespaces and not any(str(p).startswith("/tmp/") for p in self._readable)
        write_roots = ([work, "/dev/shm", "/dev/null"] + (["/tmp"] if private_tmp else []) if iso.namespaces
                       else [work, "/dev/null"])
        return {"id": run_id, "job_dir": f"{jobs}/{run_id}", "work": work, "hide": [jobs] if iso.namespaces else [],
                "ns": iso.namespaces, "landlock": iso.kernel_enforced and iso.landlock_abi > 0,
                "seccomp": iso.kernel_enforced and iso.seccomp, "nproc": iso.namespaces or iso.uid is not None,
                "filename": filename, "globals": dict(globals_ or {}), "env": _base_env(Path(work)),
                "read_roots": read_roots, "landlock_read": read_roots + list(RUN_READ_ROOTS),
                "write_roots": write_roots, "private_tmp": private_tmp, "input_bytes": input_bytes,
                "disk_mb": limits.disk_mb, "timeout_s": limits.timeout_s, "cpu_s": limits.effective_cpu_s,
                "memory_mb": limits.memory_mb, "max_processes": limits.max_processes,
                "max_file_mb": limits.max_file_mb, "max_output_chars": limits.max_output_chars,
                "max_output_factor": limits.max_output_factor, "max_copied_files": limits.max_copied_files,
                "max_copied_mb": limits.max_copied_mb}

    def _submit(self, job: dict[str, Any], limits: SandboxLimits) -> dict[str, Any]:
        # the job (globals, names, environment) goes to the run's own folder, read by its warden only: the
        # template, whose memory every later run inherits, sees just an id, a folder and a timeout
        job_file = self._root / job["id"] / "ctl" / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        self._own(job_file)
        job = {"id": job["id"], "job_dir": job["job_dir"], "timeout_s": job["timeout_s"]}
        wait_s = limits.timeout_s + 30.0
        if self._pool is not None:
            started = (self._root / job["id"] / "ctl" / "started").exists
            return self._pool.submit(job, wait_s, started=started)
        worker = WorkerProcess(preload=(), **self._worker_args)  # type: ignore[arg-type]
        try:
            return worker.submit(job, wait_s)
        finally:
            worker.close()

    def _collect(self, reply: dict[str, Any], job_dir: Path, limits: SandboxLimits, dest: Path) -> RunResult:
        ctl = job_dir / "ctl"
        try:
            data = json.loads((ctl / "result.json").read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            data = {}
        if not data or reply.get("exit_code") != 0:
            raise SandboxError("the sandbox could not run the code (its warden failed: "
                               f"exit code {reply.get('exit_code')}){_log_tail(self._root / 'worker.log')}",
                               hint="this is a fault of the sandbox, not of the code; retry the run, and "
                                    "report it if it persists")
        keep = limits.max_output_chars
        stdout, out_cut = _read_capped(ctl / "stdout.raw", keep)
        stderr, err_cut = _read_capped(ctl / "stderr.raw", keep)
        out_cut = out_cut or bool(data.get("stdout_truncated"))
        err_cut = err_cut or bool(data.get("stderr_truncated"))
        marker = f"\n[... output truncated by the sandbox: only the first {keep} characters are kept ...]\n"
        # the warden's own verdict (what it killed the run for) and the run's report are kept apart
        report = {"limit": data.get("report_limit"), "reported": True} if data.get("reported") else {}
        limit, error = _limit_from_exit({**data, "limit": data.get("killed_for")}, report, limits)
        if limit is None and (out_cut or err_cut):
            limit = "output"
        figures, files = _copy_out(job_dir / "out", dest, data.get("figures") or [])
        return RunResult(
            ok=bool(data.get("ok")),
            stdout=stdout + (marker if out_cut else ""), stderr=stderr + (marker if err_cut else ""),
            stdout_truncated=out_cut, stderr_truncated=err_cut,
            error=error or data.get("error"), traceback=data.get("traceback"),
            figures=figures, files=files, duration_s=round(float(data.get("wall_s") or 0.0), 4),
            limit_hit=limit, violation=data.get("violation"), isolation=list(data.get("layers") or []),
            exit_code=data.get("exit_code"), signal=data.get("signal"))


def _remove(path: Path) -> None:
    try:
        shutil.rmtree(path, ignore_errors=True)
    except Exception:  # noqa: BLE001 - e.g. a run's absurdly deep folder tree (flat mode): close() retries
        pass


def _check_python(python: str) -> str:
    path = shutil.which(python) if "/" not in python else python
    if not path or not os.access(path, os.X_OK):
        raise ConfigurationError(f"Python interpreter not found: {python}",
                                 hint="set SCOPEBOT_SANDBOX_PYTHON to the python of a venv or conda env "
                                      "(e.g. ~/envs/analysis/bin/python)")
    return os.path.abspath(path)


def check_exposure(isolation: Isolation, listen_host: str) -> None:
    """Refuse the unsafe hook-only mode for a server listening beyond localhost (the UI calls this)."""
    if isolation.kind == "hook-only" and not is_loopback(listen_host):
        raise SandboxUnavailable(f"code execution without a kernel sandbox is refused for a server listening "
                                 f"on {listen_host}", hint=INSTALL_HINT)


def _copy_tree(src: Path, dst: Path) -> int:
    """Copy the regular files and folders of ``src`` (sub-folders included, links skipped).

    The host copies as its own user (root for a server), so every entry below ``src`` is opened relative
    to its folder's descriptor with ``O_NOFOLLOW`` and checked with ``fstat`` on that descriptor: a link
    swapped in between a check and the copy can never make it read a file outside ``src``."""
    fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return _copy_dir_fd(fd, dst)
    finally:
        os.close(fd)


def _copy_dir_fd(dir_fd: int, dst: Path) -> int:
    dst.mkdir(parents=True, exist_ok=True)
    total = 0
    with os.scandir(dir_fd) as entries:
        names = sorted(e.name for e in entries if not e.name.startswith("."))
    for name in names:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError:  # a link (ELOOP), or gone
            continue
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                total += _copy_dir_fd(fd, dst / name)
            elif stat.S_ISREG(st.st_mode):
                with open(fd, "rb", closefd=False) as fin, open(dst / name, "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                total += st.st_size
        finally:
            os.close(fd)
    return total


def _copy_out(out: Path, dest: Path, figure_names: list[str]) -> tuple[list[str], list[str]]:
    """Move what the warden collected (regular files only) to the caller's folder."""
    figures: list[str] = []
    files: list[str] = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(out).as_posix()
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        (figures if rel in figure_names else files).append(str(target))
    return figures, files


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        tail = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return (": " + " | ".join(tail)) if tail else ""


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
    if reply.get("limit") == "output" and not data.get("limit"):
        return "output", (f"OutputLimitError: the run printed more than {limits.max_output_chars} x "
                          f"{limits.max_output_factor} characters and was stopped")
    if reply.get("limit") == "memory" and not data.get("limit"):
        return "memory", (f"MemoryLimitError: the run's processes together used more than {limits.memory_mb} MiB "
                          "and were stopped")
    if reply.get("limit") == "disk" and not data.get("limit"):
        return "disk", f"DiskLimitError: the run's working folder is full ({limits.disk_mb} MiB)"
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
