"""Host-side launcher used when scopebot runs as root: a private view of the host, then an unprivileged uid.

``python -I launch.py SPEC -- PROGRAM ARGS...`` where SPEC is JSON ``{"uid", "gid", "hide", "expose"}``:

1. a private mount namespace for this process only (the host's mounts are untouched);
2. every folder in ``hide`` (e.g. a 0700 ``/root`` holding a pyenv or conda Python) is covered by an
   empty ``tmpfs`` whose folders can be traversed, and each path in ``expose`` that lay below it is bound
   back at the same place (opened before it was covered);
3. the process drops to ``uid``/``gid`` with no supplementary groups and executes PROGRAM (bubblewrap,
   or the worker itself under Landlock + seccomp).

So the sandbox never runs as root, even for a Python installed under a home folder that only root can
enter, and bubblewrap itself is started by the unprivileged user. Standard library only.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 4096, 16384, 1 << 18
CLONE_NEWNS = 0x00020000


def _mount(libc: ctypes.CDLL, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(s):
        return (s.encode() if s is not None else None)
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    program = argv[2:] if argv[1:2] == ["--"] else argv[1:]
    hide, expose = spec.get("hide") or [], spec.get("expose") or []
    if hide:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(ctypes.c_int(CLONE_NEWNS)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"unshare(CLONE_NEWNS): {os.strerror(err)}")
        _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
        fds = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path in expose if os.path.exists(path)}
        for top in hide:
            _mount(libc, "tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
        for path, fd in sorted(fds.items()):
            if not any(path == h or path.startswith(h.rstrip("/") + "/") for h in hide):
                continue
            is_dir = os.path.isdir(f"/proc/self/fd/{fd}")
            os.makedirs(path if is_dir else os.path.dirname(path), mode=0o755, exist_ok=True)
            if not is_dir and not os.path.exists(path):
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
            _mount(libc, f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        for fd in fds.values():
            os.close(fd)
    uid, gid = int(spec["uid"]), int(spec["gid"])
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")
    os.execv(program[0], program)
    return 127


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
