"""The run: the one process that executes user code (PID 1 of its namespace under bubblewrap).

Forked by its warden (``warden.py``). Before any user code it mounts its own ``/proc``, sets rlimits,
sets ``no_new_privs``, drops every capability, enters a Landlock domain, installs the seccomp filter and
then the audit hook (``guard.py``). It reports its exception on descriptor 3; the warden trusts that
report only together with the exit status.

Standard library only: loaded by path inside the sandbox (``worker.py`` puts this folder on sys.path).
"""

from __future__ import annotations

import json
import os
import signal
import sys

_EFBIG = 27


class OutputLimitExceeded(RuntimeError):
    """Raised inside the run once it has printed far more than can be kept."""


class BoundedStream:
    """A text stream for sys.stdout/sys.stderr that writes at most ``keep`` characters to ``fd``."""

    def __init__(self, fd: int, keep: int, stop_after: int) -> None:
        self.fd, self.keep, self.stop_after = fd, keep, stop_after
        self.written = 0
        self.truncated = False
        self.encoding = "utf-8"
        self.errors = "replace"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self.keep - self.written
        if room > 0:
            data = text[:room].encode("utf-8", "replace")
            while data:
                data = data[os.write(self.fd, data):]
        if len(text) > room:
            self.truncated = True
        self.written += len(text)
        if self.written > self.stop_after:
            raise OutputLimitExceeded(f"output limit exceeded: printed more than {self.stop_after} characters")
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fd

    def writable(self) -> bool:
        return True

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)


def _kernel():  # noqa: ANN202 - the module object
    import kernel
    return kernel


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _set_limits(job: dict) -> None:
    import resource
    cpu = int(job["cpu_s"])
    limits = [
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_FSIZE, (job["max_file_mb"] * 2**20,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_AS, (_vm_bytes() + job["memory_mb"] * 2**20,) * 2),
    ]
    if job.get("nproc"):
        limits.append((resource.RLIMIT_NPROC, (job["max_processes"],) * 2))
    for which, value in limits:
        try:
            resource.setrlimit(which, value)
        except (ValueError, OSError):
            pass


def _short_traceback(exc: BaseException, filename: str) -> str:
    import traceback
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    lines = ["Traceback (most recent call last):\n"] + traceback.format_list(frames[-8:])
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def _classify(exc: BaseException, violation_type: type) -> tuple[str | None, str | None]:
    """(limit_hit, violation) for an exception raised by the user's code."""
    if isinstance(exc, violation_type):
        text = str(exc)
        detail = text.split("(", 1)[-1].rstrip(")") if "(" in text else text
        limit = "processes" if any(w in text for w in ("starting processes", "shell commands",
                                                       "starting programs")) else None
        return limit, text.removeprefix("sandbox: ").split(" is not allowed")[0] + f" ({detail})"
    if isinstance(exc, MemoryError):
        return "memory", None
    if isinstance(exc, OutputLimitExceeded):
        return "output", None
    if isinstance(exc, OSError) and exc.errno == _EFBIG:
        return "file_size", None
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC: the run's tmpfs is full
        return "disk", None
    if isinstance(exc, (RuntimeError, BlockingIOError)) and ("can't start new thread" in str(exc)
                                                             or getattr(exc, "errno", None) == 11):
        return "processes", None
    return None, None


def _save_figures(workdir: str) -> list[str]:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    names: list[str] = []
    for i, num in enumerate(plt.get_fignums(), start=1):
        name = f"figure_{i}.png"
        try:
            plt.figure(num).savefig(os.path.join(workdir, name), dpi=100)
            names.append(name)
        except Exception:  # noqa: BLE001 - a broken figure must not hide the run's result
            continue
    plt.close("all")
    return names


# --- the run ----------------------------------------------------------------------------------------
def build_font_list() -> None:
    """Load matplotlib's font list once (it scans the system font folders), outside the audit hook."""
    if "matplotlib.font_manager" in sys.modules:
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.font_manager
    _ = matplotlib.font_manager.fontManager


def _confine(job: dict, kernel) -> list[str]:  # noqa: ANN001
    """Kernel layers of the run, in order; raises when a requested layer cannot be set up."""
    layers: list[str] = []
    kernel.no_new_privs()
    if job["ns"]:
        kernel.drop_capabilities()
        if not kernel.capabilities_empty():
            raise OSError("capabilities were not dropped")
        layers.append("caps:none")
    if job["landlock"]:
        read = list(job["landlock_read"])
        if not job["ns"]:  # the host's /proc: only this process's own entry and two system files
            read = [r for r in read if r != "/proc"] + ["/proc/self", "/proc/cpuinfo", "/proc/meminfo"]
        layers += kernel.landlock_restrict(read, job["write_roots"])
    if job["seccomp"]:
        # without a mount namespace a Unix socket could reach a host socket file: socketpair() only
        layers += kernel.seccomp_deny(allow_unix_sockets=job["ns"])
    return layers


def run_job(job: dict, code_text: str, res_fd: int) -> None:
    """Run one job in this process (PID 1 of its namespace when ``job['ns']``); never returns."""
    kernel = _kernel() if (job["ns"] or job["landlock"] or job["seccomp"]) else None
    setup: dict = {"setup": [], "uid": os.getuid()}
    try:
        if job["ns"]:
            kernel.mount("proc", "/proc", "proc", kernel.MS_NOSUID | kernel.MS_NODEV | kernel.MS_NOEXEC)
        else:
            os.setsid()
        workdir = job["work"]
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(job["env"])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        _set_limits(job)
        if kernel is not None:
            setup["setup"] = _confine(job, kernel)
    except BaseException as exc:  # noqa: BLE001 - fail closed: no user code without every layer
        setup["error"] = f"{type(exc).__name__}: {exc}"
        os.write(res_fd, (json.dumps(setup) + "\n").encode())
        os._exit(71)
    os.write(res_fd, (json.dumps(setup) + "\n").encode())
    keep, factor = job["max_output_chars"], job["max_output_factor"]
    out = BoundedStream(1, keep, keep * factor)
    err = BoundedStream(2, keep, keep * factor)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    filename = job.get("filename", "script.py")
    import linecache
    linecache.cache[filename] = (len(code_text), None, code_text.splitlines(True), filename)
    import guard
    violation_type, dumps, exit_now, write = guard.SandboxViolation, json.dumps, os._exit, os.write
    numpy = sys.modules.get("numpy")
    if numpy is not None:  # forked from the template: do not share its global random state
        try:
            numpy.random.seed()
        except Exception:  # noqa: BLE001
            pass
    import builtins
    namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": builtins}
    namespace.update(job.get("globals") or {})
    result: dict = {"ok": False, "error": None, "traceback": None, "limit": None, "violation": None}
    try:
        compiled = compile(code_text, filename, "exec")
        if "matplotlib" in code_text:
            # a cold run has no warm template that built matplotlib's font list: build it before the
            # audit hook, which would refuse the scan of system font folders (the kernel layers apply)
            build_font_list()
        guard.install(workdir, job["read_roots"], own_pid=os.getpid())
        exec(compiled, namespace)  # noqa: S102 - this is the sandbox
        result["ok"] = True
    except SystemExit as exc:
        result["ok"] = exc.code in (None, 0)
        if not result["ok"]:
            result["error"] = f"SystemExit: {exc.code}"
    except BaseException as exc:  # noqa: BLE001 - everything the user code raises is reported
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        try:
            result["traceback"] = _short_traceback(exc, filename)[:4000]
        except Exception:  # noqa: BLE001
            result["traceback"] = None
        try:
            result["limit"], result["violation"] = _classify(exc, violation_type)
        except Exception:  # noqa: BLE001
            pass
    try:
        result["figures"] = _save_figures(workdir)
    except BaseException:  # noqa: BLE001
        result["figures"] = []
    result["stdout_truncated"], result["stderr_truncated"] = out.truncated, err.truncated
    try:
        write(res_fd, (dumps(result) + "\n").encode())
    finally:
        exit_now(0 if result["ok"] else 1)

