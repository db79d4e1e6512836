"""The sandbox's child side: the template ("zygote"), one warden per run, and the run itself.

Started by the host as ``python -I worker.py serve PRELOAD`` inside bubblewrap (or, where user
namespaces are refused, directly under Landlock + seccomp). Three roles, each a process:

* **zygote** (template): imports the scientific stack once, reads jobs (one JSON per line on stdin)
  and forks a warden per job. It never runs user code. It answers each job with one JSON line.
* **warden** (one per run, trusted, runs no user code): closes every inherited descriptor, creates the
  run's own user, mount, PID, IPC, network, UTS and cgroup namespaces, mounts the run's sized, ``noexec``
  ``tmpfs`` and copies the inputs (with sub-folders) into it, hides every job folder, forks the run,
  enforces the wall-clock timeout and the output limit on the pipes, and, after the whole PID namespace
  is gone, copies the written files out and writes ``result.json``. The result it writes is checked
  against the run's exit status: a run cannot report success for itself unless it exited with 0.
* **run** (PID 1 of its namespace): mounts its own ``/proc``, drops every capability, sets
  ``no_new_privs``, enters a Landlock domain, installs the seccomp filter, then the audit hook, and
  executes the user's code. When it exits the kernel kills everything it started.

The warden lives in ``warden.py``, the run in ``runjob.py``, the kernel primitives in ``kernel.py`` and
the audit hook in ``guard.py``. Standard library only: this file is executed by path, outside the
``scopebot`` package; it puts its folder on ``sys.path`` just long enough to import those four.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
try:
    import guard  # noqa: F401 - loaded before any fork so runs share it
    import kernel
    from runjob import _confine, build_font_list
    from warden import _parse, _prepare_namespaces, run_warden
finally:
    sys.path.remove(_HERE)


# --- the template -------------------------------------------------------------------------------------
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
        build_font_list()
    return done


class Zygote:
    """The template process: fork a warden per job, report how each ended."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.children: dict[int, dict] = {}
        self.buf = b""

    def reply(self, payload: dict) -> None:
        os.write(self.out_fd, (json.dumps(payload) + "\n").encode())

    def start_job(self, job: dict) -> None:
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                kernel.set_parent_death_signal(signal.SIGKILL)  # the template dies: so does the warden
                os.closerange(3, 65536)  # the template's protocol pipes, selector and other runs' pidfds
                os.dup2(os.open("/dev/null", os.O_RDWR), 0)
                self.children.clear()  # other runs' ids and folders: nothing of them goes further
                self.buf = b""
                os.setsid()
                code = run_warden(job)
            except BaseException:  # noqa: BLE001 - the sandbox itself failed: leave a trace for the host
                import traceback
                os.write(2, traceback.format_exc().encode())
            finally:
                os._exit(code)
        pidfd = os.pidfd_open(pid)
        # the warden enforces the timeout; this is the backstop should the warden itself hang
        info = {"job": job, "pid": pid, "pidfd": pidfd, "killed": False, "start": time.monotonic(),
                "deadline": time.monotonic() + float(job["timeout_s"]) + 20.0}
        self.children[pidfd] = info
        self.sel.register(pidfd, selectors.EVENT_READ, "child")

    def finish(self, pidfd: int) -> None:
        info = self.children.pop(pidfd)
        self.sel.unregister(pidfd)
        _, status, _ = os.wait4(info["pid"], 0)
        os.close(pidfd)
        self.reply({"id": info["job"]["id"], "exit_code": os.waitstatus_to_exitcode(status),
                    "warden_killed": info["killed"], "wall_s": time.monotonic() - info["start"]})

    def serve(self) -> None:
        self.out_fd = os.dup(1)
        devnull = os.open("/dev/null", os.O_WRONLY)
        os.dup2(devnull, 1)  # stray prints from preloaded libraries must not corrupt the protocol
        os.set_blocking(0, False)
        self.sel.register(0, selectors.EVENT_READ, "stdin")
        while True:
            now = time.monotonic()
            for info in self.children.values():
                if not info["killed"] and now >= info["deadline"]:
                    info["killed"] = True
                    os.kill(info["pid"], signal.SIGKILL)  # the run dies with it (parent-death signal)
            waits = [i["deadline"] - now for i in self.children.values() if not i["killed"]]
            timeout = max(0.0, min(waits)) if waits else None
            for key, _ in self.sel.select(timeout):
                if key.data == "child":
                    self.finish(key.fd)
                    continue
                chunk = os.read(0, 65536)
                if not chunk:
                    for info in list(self.children.values()):
                        try:
                            os.kill(info["pid"], signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    return
                self.buf += chunk
                while b"\n" in self.buf:
                    line, self.buf = self.buf.split(b"\n", 1)
                    if line.strip():
                        self.start_job(json.loads(line))


def selftest(flags: dict) -> int:
    """Set up every layer a run gets (no user code), check two of them, print one JSON line."""
    report: dict = {"ok": False}
    try:
        work = flags["work"]
        if flags["ns"]:
            _prepare_namespaces(flags, kernel, work, 1 << 20)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            out: dict = {}
            try:
                if flags["ns"]:
                    kernel.mount("proc", "/proc", "proc", kernel.MS_NOSUID | kernel.MS_NODEV | kernel.MS_NOEXEC)
                job = dict(flags, write_roots=[work])
                out["layers"] = _confine(job, kernel)
                out["uid"] = os.getuid()
                if flags["seccomp"]:
                    import socket
                    try:
                        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
                        raise OSError("seccomp did not refuse an AF_INET socket")
                    except PermissionError:
                        pass
                if flags["landlock"]:
                    try:
                        os.listdir("/opt")
                        raise OSError("Landlock did not refuse reading /opt")
                    except PermissionError:
                        pass
                    except FileNotFoundError:
                        pass
            except BaseException as exc:  # noqa: BLE001
                out["error"] = f"{type(exc).__name__}: {exc}"
            os.write(w, json.dumps(out).encode())
            os._exit(0 if "error" not in out else 1)
        os.close(w)
        data = b""
        while chunk := os.read(r, 65536):
            data += chunk
        _, status = os.waitpid(pid, 0)
        report.update(_parse(data))
        report["ok"] = "error" not in report and status == 0
    except BaseException as exc:  # noqa: BLE001
        report["error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


def main(argv: list[str]) -> int:
    sys.dont_write_bytecode = True
    if argv[:1] == ["selftest"]:
        return selftest(json.loads(argv[1]))
    os.closerange(3, 65536)  # nothing from the host beyond the protocol pipes on 0/1 and the log on 2
    kernel.set_parent_death_signal(signal.SIGKILL)  # scopebot dies: so does the template (bwrap or not)
    preload = [n for n in (argv[1] if len(argv) > 1 else "").split(",") if n]
    done = _preload(preload)
    import gc
    gc.collect()
    gc.freeze()  # the preloaded objects never move to a collected generation: forks share their pages
    os.write(1, (json.dumps({"ready": True, "pid": os.getpid(), "uid": os.getuid(), "preloaded": done})
                 + "\n").encode())
    Zygote().serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
