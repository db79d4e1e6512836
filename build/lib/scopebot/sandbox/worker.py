"""The sandbox's child side: a template ("zygote") process and the single-use run it forks.

Started by the host as ``python -I worker.py serve`` (inside bubblewrap/unshare when available).
The zygote imports the scientific stack once, then waits for jobs on stdin (one JSON per line).
For each job it forks a child that sets its limits, drops privileges, installs the audit hook and
runs the user's code; the zygote itself never runs user code, so it stays clean. Every child is
used for exactly one run and then exits: nothing a run does can leak into another run.

The zygote enforces the wall-clock timeout (SIGKILL to the child's process group) and answers
each job with one JSON line: exit status, signal, CPU time, whether the timeout fired.

Standard library only: this file is executed by path, outside the ``scopebot`` package.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
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
            os.write(self.fd, text[:room].encode("utf-8", "replace"))
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
    if job.get("uid") is not None or os.getuid() != 0:
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
    if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
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


def run_job(job: dict) -> None:
    """Run one job in this (freshly forked) process; never returns."""
    os.setsid()
    ctl, workdir = job["control"], job["workdir"]
    with open(os.path.join(ctl, "code.py"), encoding="utf-8") as fh:
        code_text = fh.read()
    result_fh = open(os.path.join(ctl, "result.json"), "w", encoding="utf-8")  # noqa: SIM115
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    for fd, name in ((1, "stdout.raw"), (2, "stderr.raw")):
        raw = os.open(os.path.join(ctl, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(raw, fd)
        os.close(raw)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(job["env"])
    _set_limits(job)
    if job.get("uid") is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(job["gid"])
        os.setuid(job["uid"])
    keep, factor = job["max_output_chars"], job["max_output_factor"]
    out = BoundedStream(1, keep, keep * factor)
    err = BoundedStream(2, keep, keep * factor)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    filename = job.get("filename", "script.py")
    import linecache
    linecache.cache[filename] = (len(code_text), None, code_text.splitlines(True), filename)
    import guard
    violation_type, dumps, exit_now = guard.SandboxViolation, json.dumps, os._exit
    namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": __builtins__}
    namespace.update(job.get("globals") or {})
    result: dict = {"ok": False, "error": None, "traceback": None, "limit": None, "violation": None}
    try:
        compiled = compile(code_text, filename, "exec")
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
        result_fh.write(dumps(result))
        result_fh.flush()
    finally:
        exit_now(0)


def _preload(names: list[str]) -> list[str]:
    import importlib
    done = []
    for name in names:
        try:
            importlib.import_module(name)
            done.append(name)
        except Exception:  # noqa: BLE001 - a missing optional package just is not warm
            continue
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.font_manager
        _ = matplotlib.font_manager.fontManager
    return done


class Zygote:
    """The template process: fork a child per job, enforce timeouts, report exits."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.children: dict[int, dict] = {}
        self.buf = b""

    def reply(self, payload: dict) -> None:
        os.write(self.out_fd, (json.dumps(payload) + "\n").encode())

    def start_job(self, job: dict) -> None:
        pid = os.fork()
        if pid == 0:
            try:
                self.sel.close()
                run_job(job)
            except BaseException:  # noqa: BLE001 - the sandbox itself failed: leave a trace for the host
                import traceback
                os.write(2, traceback.format_exc().encode())
            finally:
                os._exit(70)
        pidfd = os.pidfd_open(pid)
        info = {"job": job, "pid": pid, "pidfd": pidfd, "timed_out": False,
                "deadline": time.monotonic() + float(job["timeout_s"]), "start": time.monotonic()}
        self.children[pidfd] = info
        self.sel.register(pidfd, selectors.EVENT_READ, "child")

    def finish(self, pidfd: int) -> None:
        info = self.children.pop(pidfd)
        self.sel.unregister(pidfd)
        _, status, ru = os.wait4(info["pid"], 0)
        os.close(pidfd)
        try:
            os.killpg(info["pid"], signal.SIGKILL)  # stragglers left in the run's process group
        except (ProcessLookupError, PermissionError):
            pass
        self.reply({"id": info["job"]["id"], "exit_code": os.waitstatus_to_exitcode(status),
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "timed_out": info["timed_out"], "cpu_s": ru.ru_utime + ru.ru_stime,
                    "max_rss_kb": ru.ru_maxrss, "wall_s": time.monotonic() - info["start"]})

    def serve(self) -> None:
        self.out_fd = os.dup(1)
        devnull = os.open("/dev/null", os.O_WRONLY)
        os.dup2(devnull, 1)  # stray prints from preloaded libraries must not corrupt the protocol
        os.set_blocking(0, False)
        self.sel.register(0, selectors.EVENT_READ, "stdin")
        while True:
            now = time.monotonic()
            for info in self.children.values():
                if not info["timed_out"] and now >= info["deadline"]:
                    info["timed_out"] = True
                    for kill in (os.killpg, os.kill):
                        try:
                            kill(info["pid"], signal.SIGKILL)
                        except (ProcessLookupError, PermissionError):
                            pass
            waits = [i["deadline"] - now for i in self.children.values() if not i["timed_out"]]
            timeout = max(0.0, min(waits)) if waits else None
            for key, _ in self.sel.select(timeout):
                if key.data == "child":
                    self.finish(key.fd)
                    continue
                chunk = os.read(0, 65536)
                if not chunk:
                    for info in list(self.children.values()):
                        try:
                            os.killpg(info["pid"], signal.SIGKILL)
                        except (ProcessLookupError, PermissionError):
                            pass
                    return
                self.buf += chunk
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    if line.strip():
                        self.start_job(json.loads(line))


def main(argv: list[str]) -> int:
    sys.dont_write_bytecode = True
    sys.path.insert(0, _HERE)
    import guard  # noqa: F401 - loaded before any fork so children share it
    sys.path.remove(_HERE)
    preload = [n for n in (argv[1] if len(argv) > 1 else "").split(",") if n]
    done = _preload(preload)
    os.write(1, (json.dumps({"ready": True, "pid": os.getpid(), "preloaded": done}) + "\n").encode())
    Zygote().serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
