"""The in-process layer of the sandbox: a CPython audit hook plus a few neutered entry points.

This module runs *inside* the sandboxed child, right before user code. It uses the standard
library only (it is loaded by file path in a ``python -I`` worker, not as part of ``scopebot``).

What the hook refuses (raising :class:`SandboxViolation`, a ``PermissionError``):

* network: creating sockets, ``connect``/``bind``/``sendto``, DNS look-ups;
* new processes: ``subprocess``, ``os.system``, ``os.exec*``, ``os.posix_spawn``, ``os.fork``,
  ``pty``; ``_posixsubprocess.fork_exec`` (not audited by CPython) is replaced by a stub;
* signals to other processes (``os.kill``/``killpg`` of any pid but our own);
* native code: ``ctypes`` symbol look-ups (CPython does not audit foreign calls, so the look-up is
  where they are stopped), raw memory access and loading libraries from outside the Python
  installation (``dlopen(None)``, done by ``import ctypes`` itself, is allowed);
* file access outside the allowed roots: reads only under the working directory, the Python
  installation and a few read-only system data folders; writes, deletes, renames, links, chmod
  only under the working directory;
* tampering with the guard: adding audit hooks (silently refused by CPython when a hook raises),
  ``gc`` object walks that could reach the hook's state, ``resource.setrlimit``/``prlimit``,
  changing signal handlers or timers.

Audit hooks are a tripwire, not a security boundary: CPython documents that a determined
attacker with arbitrary code can find ways around them. The OS layers (separate process,
rlimits, unprivileged uid, network namespace, read-only file system view) are the boundary;
see ``docs/sandbox.md``.
"""

from __future__ import annotations

import posix
import stat
import sys
import threading
from collections.abc import Callable, Iterable

_BLOCKED_PREFIXES = ("ctypes.", "socket.", "subprocess.", "os.exec", "os.posix_spawn", "os.spawn",
                     "os.fork", "os.forkpty", "pty.", "winreg.", "msvcrt.", "_winapi.", "webbrowser.")
_BLOCKED_EVENTS = {
    "os.system": "running shell commands",
    "os.startfile": "starting programs",
    "os.killpg": "signalling process groups",
    "gc.get_objects": "walking interpreter objects",
    "gc.get_referrers": "walking interpreter objects",
    "gc.get_referents": "walking interpreter objects",
    "resource.setrlimit": "changing resource limits",
    "resource.prlimit": "changing resource limits",
    "sys.addaudithook": "adding audit hooks",
    "os.symlink": "creating symbolic links",
    "os.link": "creating hard links",
    "os.chroot": "changing the root directory",
    "os.setns": "joining namespaces",
    "os.unshare": "creating namespaces",
    "urllib.Request": "network access",
    "http.client.connect": "network access",
    "ftplib.connect": "network access",
    "smtplib.connect": "network access",
    "poplib.connect": "network access",
    "imaplib.open": "network access",
    "nntplib.connect": "network access",
    "telnetlib.Telnet.open": "network access",
}
_PROCESS_EVENTS = ("subprocess.", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "pty.",
                   "os.system", "os.startfile")
#: Events whose first argument is a path that is written/removed/changed.
_WRITE_EVENTS = {"os.remove", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.chflags", "os.utime",
                 "os.truncate", "os.lchown", "os.lchmod", "os.lchflags", "os.setxattr", "os.removexattr",
                 "shutil.rmtree", "shutil.chown", "os.mkfifo", "os.mknod"}
#: Events whose first argument is a path that is read or listed.
_READ_EVENTS = {"os.listdir", "os.scandir", "os.chdir", "glob.glob", "os.getxattr", "os.listxattr",
                "glob.glob/2", "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree",
                "os.walk", "os.fwalk"}


class SandboxViolation(PermissionError):
    """Raised by the audit hook when user code does something the sandbox forbids."""


def _make_resolver(cwd: str) -> Callable[[object], str | None]:
    """A symlink-resolving ``realpath`` built on captured ``posix`` functions.

    User code can monkeypatch ``os``/``os.path``; the hook must not depend on them, so the
    functions it needs are bound here, once, before any user code runs.
    """
    lstat, readlink, fspath, is_link = posix.lstat, posix.readlink, posix.fspath, stat.S_ISLNK

    def resolve(raw: object) -> str | None:
        try:
            path = fspath(raw)  # type: ignore[arg-type]
        except TypeError:
            return None
        if isinstance(path, bytes):
            path = path.decode("utf-8", "surrogateescape")
        if not path.startswith("/"):
            path = cwd + "/" + path
        parts: list[str] = []
        pending = [p for p in path.split("/") if p]
        hops = 0
        while pending:
            part = pending.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            candidate = "/" + "/".join(parts + [part])
            try:
                st = lstat(candidate)
            except OSError:
                parts.append(part)
                continue
            if is_link(st.st_mode):
                hops += 1
                if hops > 40:
                    return None
                target = readlink(candidate)
                if target.startswith("/"):
                    parts = []
                pending = [p for p in target.split("/") if p] + pending
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    return resolve


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def install(workdir: str, read_roots: Iterable[str], *, own_pid: int) -> None:
    """Install the audit hook for a run in ``workdir``. Irreversible for this process."""
    resolve = _make_resolver(workdir)
    write_roots = (resolve(workdir) or workdir,)
    read_ok = tuple(sorted({resolve(r) or r for r in read_roots} | set(write_roots)))
    dev_ok = ("/dev/null", "/dev/urandom", "/dev/random", "/dev/zero")
    state = threading.local()
    write_flags = posix.O_WRONLY | posix.O_RDWR | posix.O_CREAT | posix.O_TRUNC | posix.O_APPEND

    def deny(what: str, detail: str = "") -> SandboxViolation:
        msg = f"sandbox: {what} is not allowed" + (f" ({detail})" if detail else "")
        return SandboxViolation(msg)

    def check_path(raw: object, write: bool) -> None:
        if isinstance(raw, int):  # an already-open descriptor
            return
        path = resolve(raw)
        if path is None:
            raise deny("access to this path", repr(raw))
        if path in dev_ok:
            return
        if write and not _under(path, write_roots):
            raise deny("writing outside the working directory", path)
        if not write and not _under(path, read_ok):
            raise deny("reading outside the working directory", path)

    def hook(event: str, args: tuple) -> None:
        if getattr(state, "busy", False):
            return
        state.busy = True
        try:
            if event == "open":
                path, mode, flags = (tuple(args) + (None, None, None))[:3]
                write = bool(mode and any(c in mode for c in "wax+")) or bool(
                    isinstance(flags, int) and flags & write_flags)
                check_path(path, write)
            elif event in _WRITE_EVENTS:
                if args:
                    check_path(args[0], True)
            elif event in _READ_EVENTS:
                if args:
                    check_path(args[0], False)
            elif event == "os.rename" or event == "os.replace" or event == "shutil.move":
                for p in args[:2]:
                    check_path(p, True)
            elif event == "os.kill":
                if args and args[0] not in (own_pid, 0):
                    raise deny("signalling other processes", f"pid {args[0]}")
                if args and args[0] == 0:
                    raise deny("signalling the process group")
            elif event == "ctypes.dlopen":
                # numpy imports ctypes, which opens the interpreter itself (None); libraries shipped
                # inside the Python installation may load. Looking up a symbol (ctypes.dlsym) stays
                # blocked: CPython does not audit foreign calls, so the look-up is where we stop them
                name = args[0] if args else None
                if name is not None:
                    path = resolve(name) if isinstance(name, (str, bytes)) and "/" in str(name) else None
                    if path is None or not _under(path, read_ok):
                        raise deny("native code via ctypes", f"ctypes.dlopen {name!r}")
            elif event in _BLOCKED_EVENTS:
                raise deny(_BLOCKED_EVENTS[event], event)
            elif event.startswith(_BLOCKED_PREFIXES):
                what = ("starting processes" if event.startswith(_PROCESS_EVENTS)
                        else "network access" if event.startswith("socket.")
                        else "native code via ctypes" if event.startswith("ctypes.") else "this operation")
                raise deny(what, event)
        finally:
            state.busy = False

    _neuter_modules(deny)
    sys.addaudithook(hook)


def _neuter_modules(deny: Callable[[str, str], SandboxViolation]) -> None:
    """Replace entry points that bypass auditing or that would tamper with our limits."""

    def blocked(what: str, name: str) -> Callable[..., object]:
        def _refuse(*_a: object, **_k: object) -> object:
            raise deny(what, name)
        return _refuse

    import _posixsubprocess
    _posixsubprocess.fork_exec = blocked("starting processes", "_posixsubprocess.fork_exec")
    import signal
    sig_mod = sys.modules.get("_signal")
    for name in ("signal", "setitimer", "alarm", "pthread_sigmask", "siginterrupt", "set_wakeup_fd",
                 "pthread_kill", "pidfd_send_signal"):
        for mod in (signal, sig_mod):
            if mod is not None and hasattr(mod, name):
                setattr(mod, name, blocked("changing signal handling", f"signal.{name}"))
    import os
    for name in ("setuid", "seteuid", "setgid", "setegid", "setreuid", "setresuid", "setgroups",
                 "setsid", "setpgid", "nice", "sched_setaffinity"):
        if hasattr(os, name):
            setattr(os, name, blocked("changing process credentials or scheduling", f"os.{name}"))
            setattr(posix, name, getattr(os, name))
