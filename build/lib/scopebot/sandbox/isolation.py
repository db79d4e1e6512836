"""Which OS-level isolation this machine allows, probed once at run time.

In order of preference:

* ``bwrap`` (bubblewrap): new network, PID, IPC and UTS namespaces, a read-only view of ``/``,
  a private empty ``/tmp``, home directories hidden, only the sandbox's own folder writable;
* ``unshare``: a new network namespace only (``unshare --net``, with ``--map-root-user`` when
  not root);
* ``none``: no namespace. The audit hook and the rlimits still apply; the network is then only
  refused by the audit hook.

When running as root the child also drops to the ``nobody`` user, so that RLIMIT_NPROC bites
and the kernel's file permissions apply to the run.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

#: Read-only system data a scientific run may need (fonts, time zones).
SYSTEM_DATA_ROOTS = ("/usr/share/fonts", "/usr/share/zoneinfo", "/usr/share/matplotlib", "/usr/local/share/fonts",
                     "/usr/share/X11/fonts", "/usr/X11R6/lib/X11/fonts", "/usr/X11/lib/X11/fonts",
                     "/usr/lib/X11/fonts", "/usr/lib/openoffice/share/fonts", "/etc/fonts")
#: Folders replaced by empty tmpfs mounts under bubblewrap.
_HIDDEN_DIRS = ("/tmp/", "/var/tmp/", "/home/", "/root/", "/run/")


@dataclass(frozen=True)
class Isolation:
    """The namespace wrapper chosen for this machine."""

    kind: str  # "bwrap" | "unshare" | "none"
    uid: int | None = None
    gid: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def layers(self) -> list[str]:
        """Names of the active layers, reported with every run."""
        out = ["process", "rlimits", "audit-hook", "scrubbed-env", "private-workdir"]
        if self.kind == "bwrap":
            out += ["netns:bwrap", "pidns", "fs:read-only", "home-hidden"]
        elif self.kind == "unshare":
            out.append("netns:unshare")
        if self.uid is not None:
            out.append("uid:nobody")
        return out

    def prefix(self, writable: list[Path], readable: list[Path]) -> list[str]:
        """The command prefix that wraps the worker process."""
        if self.kind == "bwrap":
            cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                   "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/home", "--tmpfs", "/root",
                   "--tmpfs", "/run"]
            made: set[str] = set()
            for path, flag in [*((p, "--ro-bind") for p in readable), *((p, "--bind") for p in writable)]:
                if not path.exists():
                    continue
                # re-expose what the tmpfs mounts hid (e.g. a pyenv under /root); the folders on the way
                # must be traversable by the unprivileged user, which bwrap's default 0700 is not
                for parent in reversed(path.parents):
                    if str(parent) != "/" and str(parent) not in made and str(parent).startswith(_HIDDEN_DIRS):
                        cmd += ["--perms", "0755", "--dir", str(parent)]
                        made.add(str(parent))
                cmd += [flag, str(path), str(path)]
            cmd += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                    "--new-session", "--chdir", "/"]
            return cmd
        if self.kind == "unshare":
            return ["unshare", "--net"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
        return []


def python_roots() -> list[Path]:
    """Folders of the Python installation the run may read (stdlib, site-packages)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    try:
        roots.update(site.getsitepackages())
    except AttributeError:  # pragma: no cover - virtualenv's old site module
        pass
    roots.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    resolved = {Path(os.path.realpath(r)) for r in roots if r}
    return sorted(resolved)


def _works(cmd: list[str]) -> bool:
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


@lru_cache(maxsize=4)
def probe(preferred: str = "auto") -> Isolation:
    """Pick the strongest isolation that actually works here (cached per process).

    ``preferred`` is ``auto``, ``bwrap``, ``unshare`` or ``none``; a preferred kind that does not
    work falls back to the next one, with a note saying so.
    """
    root = os.geteuid() == 0
    uid, gid = (65534, 65534) if root else (None, None)
    notes: list[str] = []
    check = [sys.executable, "-I", "-c", "pass"]
    order = {"auto": ["bwrap", "unshare"], "bwrap": ["bwrap", "unshare"], "unshare": ["unshare"],
             "none": []}[preferred]
    for kind in order:
        tool = shutil.which(kind)
        if tool is None:
            notes.append(f"{kind} not installed")
            continue
        iso = Isolation(kind, uid, gid)
        if _works(iso.prefix([], python_roots()) + check):
            if kind != "bwrap" and root and not _world_readable(python_roots()):
                notes.append("python installation not readable by nobody: staying root")
                return Isolation(kind, None, None, tuple(notes))
            return Isolation(kind, uid, gid, tuple(notes))
        notes.append(f"{kind} present but not permitted here")
    if root and not _world_readable(python_roots()):
        notes.append("python installation not readable by nobody: staying root")
        uid = gid = None
    return Isolation("none", uid, gid, tuple(notes))


def _world_readable(paths: list[Path]) -> bool:
    """Whether every folder on the way to ``paths`` can be traversed by other users."""
    for path in paths:
        for part in [path, *path.parents]:
            try:
                if not part.stat().st_mode & 0o001:
                    return False
            except OSError:
                return False
    return True
