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

Standard library only: this file is executed by path, outside the ``scopebot`` package.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import stat
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_EFBIG = 27
_HIDDEN = (".tmp", ".mpl", ".cache", ".config", ".shm")
_REPORT_MAX = 256 * 1024
_FLAGS_RUN = ("CLONE_NEWUSER", "CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWUTS",
              "CLONE_NEWCGROUP")


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
    sys.path.insert(0, _HERE)
    try:
        import kernel
    finally:
        sys.path.remove(_HERE)
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
        write(res_fd, (dumps(result) + "\n").encode())
    finally:
        exit_now(0 if result["ok"] else 1)


# --- the warden -------------------------------------------------------------------------------------
def _copy_tree_in(src: str, dst: str, uid_gid: tuple[int, int] | None) -> dict[str, tuple[int, int]]:
    """Copy regular files and folders of ``src`` into ``dst``; returns {relative path: (size, mtime_ns)}."""
    import shutil
    seen: dict[str, tuple[int, int]] = {}
    for root, dirs, files in os.walk(src, followlinks=False):
        rel_root = os.path.relpath(root, src)
        target_root = dst if rel_root == "." else os.path.join(dst, rel_root)
        os.makedirs(target_root, exist_ok=True)
        for name in files:
            path = os.path.join(root, name)
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            target = os.path.join(target_root, name)
            shutil.copyfile(path, target)
            st = os.stat(target)
            seen[os.path.normpath(os.path.join(rel_root, name))] = (st.st_size, st.st_mtime_ns)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    return seen


def _copy_out(work: str, out_fd: int, inputs: dict[str, tuple[int, int]], job: dict) -> list[str]:
    """Copy the files the run wrote (regular files only, never through a link) into the job's out/."""
    copied: list[str] = []
    budget = job["max_copied_mb"] * 2**20
    figures = set(job.get("_figures") or [])
    for root, dirs, files in os.walk(work, followlinks=False):
        rel_root = os.path.relpath(root, work)
        dirs[:] = sorted(d for d in dirs if not (rel_root == "." and d in _HIDDEN))
        for name in sorted(files):
            rel = os.path.normpath(os.path.join(rel_root, name))
            try:
                fd = os.open(os.path.join(root, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or inputs.get(rel) == (st.st_size, st.st_mtime_ns):
                    continue
                if st.st_size > budget or (rel not in figures and len(copied) >= job["max_copied_files"]):
                    continue
                budget -= st.st_size
                _write_at(out_fd, rel, fd)
                copied.append(rel)
            finally:
                os.close(fd)
    return copied


def _write_at(out_fd: int, rel: str, src_fd: int) -> None:
    parts = rel.split("/")
    dir_fd = os.dup(out_fd)
    try:
        for part in parts[:-1]:
            try:
                os.mkdir(part, 0o700, dir_fd=dir_fd)
            except FileExistsError:
                pass
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = nxt
        dst = os.open(parts[-1], os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
        try:
            while True:
                chunk = os.read(src_fd, 1 << 20)
                if not chunk:
                    break
                while chunk:
                    chunk = chunk[os.write(dst, chunk):]
        finally:
            os.close(dst)
    finally:
        os.close(dir_fd)


def _write_file(dir_fd: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def _prepare_namespaces(job: dict, kernel, work: str, disk_bytes: int) -> None:  # noqa: ANN001
    uid, gid = os.getuid(), os.getgid()
    flags = 0
    for name in _FLAGS_RUN:
        flags |= getattr(kernel, name)
    kernel.unshare(flags)
    kernel.map_ids(uid, gid)
    kernel.mount(None, "/", None, kernel.MS_REC | kernel.MS_PRIVATE)
    kernel.mount("tmpfs", work, "tmpfs", kernel.MS_NOSUID | kernel.MS_NODEV | kernel.MS_NOEXEC,
                 f"size={disk_bytes},mode=0700,nr_inodes=100000")


def _disk_usage(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path, followlinks=False):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def _reap_descendants(pgid: int) -> None:
    """Flat mode (no PID namespace): kill everything the run left behind, re-parented to this subreaper."""
    me = os.getpid()
    for _ in range(50):
        orphans = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me or int(fields[2]) == pgid:
                orphans.append(int(entry))
        if not orphans:
            return
        for pid in orphans:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        time.sleep(0.01)


def run_warden(job: dict) -> int:
    """Set up one run, supervise it, collect its files; returns the warden's exit code."""
    start = time.monotonic()
    job_dir = job["job_dir"]
    with open(os.path.join(job_dir, "ctl", "job.json"), encoding="utf-8") as fh:
        job = json.load(fh)
    if job.get("job_dir") != job_dir:
        raise ValueError("the job file does not belong to this job folder")
    ctl_fd = os.open(os.path.join(job_dir, "ctl"), os.O_RDONLY | os.O_DIRECTORY)
    out_fd = os.open(os.path.join(job_dir, "out"), os.O_RDONLY | os.O_DIRECTORY)
    with open(os.path.join(job_dir, "ctl", "code.py"), encoding="utf-8") as fh:
        code_text = fh.read()
    kernel = _kernel() if job["ns"] else None
    work = job["work"]
    disk_bytes = int(job["disk_mb"]) * 2**20 + int(job.get("input_bytes", 0))
    layers = ["process", "rlimits", "audit-hook", "scrubbed-env", "private-workdir"]
    if kernel is not None:
        _prepare_namespaces(job, kernel, work, disk_bytes)
        layers += ["userns", "mountns", "pidns:per-run", "ipcns", "netns:per-run", "utsns", "cgroupns",
                   f"disk:tmpfs-{int(job['disk_mb'])}MiB", "fs:noexec-workdir"]
    else:
        os.makedirs(work, mode=0o700, exist_ok=True)
        layers.append("disk:polled")
        from ctypes import CDLL
        CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER: orphans of the run come back to us
    inputs = _copy_tree_in(os.path.join(job_dir, "in"), work, None)
    for hidden in (".tmp", ".mpl", ".shm"):
        os.makedirs(os.path.join(work, hidden), exist_ok=True)
    if kernel is not None:
        for src, dst in ((".tmp", "/tmp"), (".shm", "/dev/shm")):
            if os.path.isdir(dst) and (dst != "/tmp" or job.get("private_tmp", True)):
                kernel.mount(os.path.join(work, src), dst, None, kernel.MS_BIND)
        for path in job["hide"]:  # every job folder (this one included) disappears from the run's view
            kernel.mount("tmpfs", path, "tmpfs", kernel.MS_RDONLY | kernel.MS_NOSUID | kernel.MS_NODEV,
                         "size=4k,mode=0555")
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    res_r, res_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _kernel().set_parent_death_signal(signal.SIGKILL)  # the warden dies: so does the run
            for fd in (out_r, err_r, res_r, go_w, ctl_fd, out_fd):
                os.close(fd)
            if os.read(go_r, 1) != b"g":
                os._exit(72)  # the warden died before the start
            null = os.open("/dev/null", os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.dup2(res_w, 3)
            os.closerange(4, 65536)  # nothing else is inherited: no job folder, no pipe of another run
            run_job(job, code_text, 3)
        finally:
            os._exit(70)
    for fd in (out_w, err_w, res_w, go_r):
        os.close(fd)
    os.write(go_w, b"g")
    os.close(go_w)
    state = _supervise(job, pid, out_r, err_r, res_r, ctl_fd, work, disk_bytes, kernel is None)
    if kernel is None:
        _reap_descendants(pid)
    setup, report = state.pop("setup"), state.pop("report")
    layers += [x for x in setup.get("setup", []) if isinstance(x, str)][:20]
    uid = setup.get("uid")
    if isinstance(uid, int):
        layers.append(f"uid:{uid}")
    limit = state["limit"]
    if limit is None and isinstance(report.get("limit"), str):
        limit = report["limit"]
    exited_ok = state["exit_code"] == 0 and state["signal"] is None and not state["timed_out"]
    ok = report.get("ok") is True and exited_ok and limit is None and not setup.get("error")
    figures = [f for f in report.get("figures") or [] if isinstance(f, str)][:50]
    job["_figures"] = figures
    try:
        files = _copy_out(work, out_fd, inputs, job)
    except OSError as exc:
        files = []
        os.write(2, f"sandbox warden: copying files out failed: {exc}\n".encode())
    def text(v, n):
        return (v[:n] if isinstance(v, str) else None)
    error = text(report.get("error"), 2000)
    if setup.get("error"):
        error = f"SandboxSetupError: a kernel layer could not be set up ({text(setup['error'], 500)})"
    elif state["exit_code"] not in (0, 1, None):
        error = f"the run exited with code {state['exit_code']} without reporting an exception"
    elif not ok and not error and state["signal"] is None and limit is None and not state["timed_out"]:
        error = f"the run ended without a result (exit code {state['exit_code']})"
    result = {"ok": ok, "error": error, "traceback": text(report.get("traceback"), 4000),
              "limit": limit, "violation": text(report.get("violation"), 500),
              "figures": [f for f in figures if f in files], "files": files,
              "stdout_truncated": state["out_cut"] or report.get("stdout_truncated") is True,
              "stderr_truncated": state["err_cut"] or report.get("stderr_truncated") is True,
              "exit_code": state["exit_code"], "signal": state["signal"], "timed_out": state["timed_out"],
              "cpu_s": state["cpu_s"], "max_rss_kb": state["max_rss_kb"], "layers": layers,
              "reported": bool(report), "wall_s": time.monotonic() - start}
    _write_file(ctl_fd, "result.json", json.dumps(result).encode())
    return 0


def _supervise(job: dict, pid: int, out_r: int, err_r: int, res_r: int, ctl_fd: int, work: str,
               disk_bytes: int, poll_disk: bool) -> dict:
    """Pump the run's pipes into capped files, enforce timeout and output limits, wait for the end."""
    keep_bytes = job["max_output_chars"] * 4 + 4
    stop_after = job["max_output_chars"] * job["max_output_factor"] * 4
    sinks = {out_r: [os.open("stdout.raw", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=ctl_fd), 0],
             err_r: [os.open("stderr.raw", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=ctl_fd), 0]}
    res = bytearray()
    sel = selectors.DefaultSelector()
    for fd in (out_r, err_r, res_r):
        os.set_blocking(fd, False)
        sel.register(fd, selectors.EVENT_READ)
    pidfd = os.pidfd_open(pid)
    sel.register(pidfd, selectors.EVENT_READ)
    deadline = time.monotonic() + float(job["timeout_s"])
    timed_out, limit, status, ru = False, None, None, None
    open_fds = {out_r, err_r, res_r}
    next_disk = time.monotonic() + 0.25

    def kill() -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    drain_until = None
    while open_fds or status is None:
        now = time.monotonic()
        if status is None and now >= deadline and not timed_out:
            timed_out = True
            kill()
        if poll_disk and status is None and now >= next_disk:
            next_disk = now + 0.25
            if _disk_usage(work) > disk_bytes:
                limit = limit or "disk"
                kill()
        if status is not None and drain_until is None:
            drain_until = now + 1.0
        if drain_until is not None and now >= drain_until:
            break
        wait = min(0.25, max(0.0, (drain_until or deadline) - now)) if not timed_out else 0.25
        for key, _ in sel.select(wait):
            fd = key.fd
            if fd == pidfd:
                _, status, ru = os.wait4(pid, 0)
                sel.unregister(pidfd)
                os.close(pidfd)
                continue
            try:
                chunk = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                sel.unregister(fd)
                open_fds.discard(fd)
                continue
            if fd == res_r:
                if len(res) < _REPORT_MAX:
                    res += chunk[:_REPORT_MAX - len(res)]
                continue
            sink = sinks[fd]
            room = keep_bytes - sink[1]
            if room > 0:
                os.write(sink[0], chunk[:room])
            sink[1] += len(chunk)
            if sinks[out_r][1] + sinks[err_r][1] > stop_after and limit is None:
                limit = "output"
                kill()
    if status is None:  # closed every pipe but still running past the drain: stop it
        kill()
        _, status, ru = os.wait4(pid, 0)
    for fd in (*sinks, res_r):
        try:
            os.close(fd)
        except OSError:
            pass
    for sink in sinks.values():
        os.close(sink[0])
    lines = [ln for ln in bytes(res).split(b"\n") if ln.strip()]
    setup, report = _parse(lines[0]) if lines else {}, _parse(lines[-1]) if len(lines) > 1 else {}
    if "setup" not in setup:
        setup, report = {"error": "the run did not finish its set-up"}, {}
    return {"setup": setup, "report": report, "timed_out": timed_out, "limit": limit,
            "exit_code": os.waitstatus_to_exitcode(status) if not os.WIFSIGNALED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu_s": (ru.ru_utime + ru.ru_stime) if ru else 0.0, "max_rss_kb": ru.ru_maxrss if ru else 0,
            "out_cut": sinks[out_r][1] > keep_bytes, "err_cut": sinks[err_r][1] > keep_bytes}


def _parse(line: bytes) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


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
        import matplotlib.font_manager
        _ = matplotlib.font_manager.fontManager
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
                _kernel().set_parent_death_signal(signal.SIGKILL)  # the template dies: so does the warden
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
        kernel = _kernel()
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
    sys.path.insert(0, _HERE)
    import guard  # noqa: F401 - loaded before any fork so runs share it
    sys.path.remove(_HERE)
    os.closerange(3, 65536)  # nothing from the host beyond the protocol pipes on 0/1 and the log on 2
    _kernel().set_parent_death_signal(signal.SIGKILL)  # scopebot dies: so does the template (bwrap or not)
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
