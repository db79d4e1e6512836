"""The warden: one trusted process per run that sets the run up, watches it and collects what it wrote.

Forked by the template (``worker.py``); it runs no user code. It closes every inherited descriptor,
creates the run's own user, mount, PID, IPC, network, UTS and cgroup namespaces, mounts the run's sized
``noexec`` tmpfs and copies the inputs (sub-folders included) into it, hides every job folder, forks the
run (``runjob.py``), enforces the wall-clock timeout and the output limit on the pipes, and, once the
run's whole PID namespace is gone, copies the written files out and writes ``result.json``. A run is
``ok`` only when its report says so *and* it exited with status 0, without a signal, timeout or limit.

Standard library only: loaded by path inside the sandbox.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import stat
import time

from runjob import _kernel, run_job

_HIDDEN = (".tmp", ".mpl", ".cache", ".config", ".shm")
_REPORT_MAX = 256 * 1024
_FLAGS_RUN = ("CLONE_NEWUSER", "CLONE_NEWNS", "CLONE_NEWPID", "CLONE_NEWIPC", "CLONE_NEWNET", "CLONE_NEWUTS",
              "CLONE_NEWCGROUP")


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
    walker = os.walk(path, followlinks=False)
    while True:
        try:
            root, _dirs, files = next(walker)
        except StopIteration:
            return total
        except RecursionError:
            return 1 << 62  # deeper than can be walked: treat as over the quota
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue


def _processes_pss(pid: int, own_pid_namespace: bool) -> int | None:
    """Proportional memory (PSS) of all the run's processes, or None while it has a single process.

    With a PID namespace every process in the warden's ``/proc`` (the run mounted it) is the run's;
    without one, those of the run's process group.
    """
    if own_pid_namespace and os.path.exists("/proc/self"):
        return None  # the run has not mounted its own /proc yet (the warden is outside that namespace)
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        if not own_pid_namespace:
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[2]) != pid:
                        continue
            except (OSError, ValueError, IndexError):
                continue
        pids.append(entry)
    if len(pids) < 2:
        return None
    total = 0
    for entry in pids:
        try:
            with open(f"/proc/{entry}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
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
    # the host re-sends a job whose template died only when this marker is missing: the code never started
    _write_file(ctl_fd, "started", b"")
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
    except Exception as exc:  # noqa: BLE001 - e.g. a folder tree too deep to walk: the result still counts
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
              "reported": bool(report), "killed_for": state["limit"],
              "report_limit": report.get("limit") if isinstance(report.get("limit"), str) else None,
              "wall_s": time.monotonic() - start}
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
    memory_bytes, baseline = int(job["memory_mb"]) * 2**20, None

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
        if status is None and now >= next_disk:
            next_disk = now + 0.25
            if poll_disk and _disk_usage(work) > disk_bytes:
                limit = limit or "disk"
                kill()
            # RLIMIT_AS bounds each process; the sum over the run's processes is bounded here
            used = _processes_pss(pid, not poll_disk)
            if used is not None:
                baseline = used if baseline is None else baseline
                if used - baseline > memory_bytes:
                    limit = limit or "memory"
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
