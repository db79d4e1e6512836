"""Kernel primitives for the sandbox's child side: namespaces, mounts, capabilities, Landlock, seccomp.

Standard library only (``ctypes`` over the C library): the worker loads this file by path inside the
sandbox, possibly under a Python environment that is not scopebot's. Nothing here is imported by the
``scopebot`` package at start-up.

* :func:`unshare` / :func:`mount`: per-run namespaces and the run's sized ``tmpfs``.
* :func:`drop_capabilities`: empty effective, permitted, inheritable, ambient and bounding sets.
* :func:`landlock_restrict`: a Landlock domain (file-system access by path, TCP bind/connect, and,
  from ABI 6, signals and abstract Unix sockets scoped to the run).
* :func:`seccomp_deny`: a small classic-BPF seccomp filter that refuses the system calls a run never
  needs (network socket families, ptrace, namespaces, mounts, keyrings, bpf, perf, mknod, pidfds, kexec,
  module loading, io_uring, ...). It is written here instead of using libseccomp so that it works with
  nothing but ``pip install``.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080
NAMESPACE_FLAGS = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID
                   | CLONE_NEWNET | CLONE_NEWTIME)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 22, 24, 38, 47


class KernelError(OSError):
    """A kernel primitive failed (the message names it and the errno)."""


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise KernelError(err, f"{what}: {os.strerror(err)}")
    return ret


def _prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    args = [ctypes.c_ulong(a) for a in (arg2, arg3, arg4, arg5)]
    return _libc.prctl(ctypes.c_int(option), *args)


# --- namespaces and mounts --------------------------------------------------------------------------
def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def map_ids(uid: int, gid: int) -> None:
    """Map our own uid/gid 1:1 into the user namespace we just created (no other id exists there)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1\n"), ("gid_map", f"{gid} {gid} 1\n")):
        fd = os.open(f"/proc/self/{name}", os.O_WRONLY)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s):
        return (s.encode() if s is not None else None)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {fstype or source} on {target}")


def set_parent_death_signal(sig: int = 9) -> None:
    _check(_prctl(PR_SET_PDEATHSIG, sig), "prctl(PR_SET_PDEATHSIG)")


def no_new_privs() -> None:
    _check(_prctl(PR_SET_NO_NEW_PRIVS, 1), "prctl(PR_SET_NO_NEW_PRIVS)")


def drop_capabilities() -> None:
    """Empty every capability set of this process (it may hold all of them in its own user namespace)."""
    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) < 0 and ctypes.get_errno() == 22:  # EINVAL: past the last cap
            break
    _prctl(PR_CAP_AMBIENT, 4)  # PR_CAP_AMBIENT_CLEAR_ALL
    header = struct.pack("Ii", 0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = ctypes.create_string_buffer(24)  # two zeroed {effective, permitted, inheritable}
    _check(_libc.capset(ctypes.c_char_p(header), data), "capset")


def capabilities_empty() -> bool:
    """Whether CapEff, CapPrm and CapBnd are all zero (read from /proc/self/status)."""
    try:
        with open("/proc/self/status") as fh:
            caps = {k: int(v, 16) for k, v in (ln.split(":\t") for ln in fh if ln.startswith("Cap"))}
    except OSError:
        return False
    return caps.get("CapEff") == 0 and caps.get("CapPrm") == 0 and caps.get("CapBnd") == 0


# --- Landlock ---------------------------------------------------------------------------------------
_LL_CREATE, _LL_ADD_RULE, _LL_RESTRICT = 444, 445, 446
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1, 2, 4, 8
FS_MAKE_CHAR, FS_MAKE_BLOCK, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 64, 2048, 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers (0: none)."""
    ret = _libc.syscall(ctypes.c_long(_LL_CREATE), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return int(ret) if ret > 0 else 0


def _fs_handled(abi: int) -> int:
    mask = (1 << 13) - 1
    if abi >= 2:
        mask |= FS_REFER
    if abi >= 3:
        mask |= FS_TRUNCATE
    if abi >= 5:
        mask |= FS_IOCTL_DEV
    return mask


def landlock_restrict(read: list[str], write: list[str], abi: int | None = None) -> list[str]:
    """Confine this process (and its future children) to ``read`` (read/execute) and ``write`` (all but
    device nodes). TCP bind/connect is denied from ABI 4; signals and abstract Unix sockets to processes
    outside the domain from ABI 6. Returns the names of what was enforced. Needs ``no_new_privs`` first.
    """
    abi = landlock_abi() if abi is None else abi
    if abi < 1:
        raise KernelError(95, "Landlock is not offered by this kernel")
    handled = _fs_handled(abi)
    attr = struct.pack("Q", handled)
    layers = [f"landlock:abi{abi}", "landlock:fs"]
    if abi >= 4:
        attr += struct.pack("Q", 3)  # LANDLOCK_ACCESS_NET_BIND_TCP | CONNECT_TCP, no rule: all denied
        layers.append("landlock:net")
    if abi >= 6:
        attr += struct.pack("Q", 3)  # LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL
        layers.append("landlock:scoped-signals")
    buf = ctypes.create_string_buffer(attr, len(attr))
    rfd = _check(_libc.syscall(ctypes.c_long(_LL_CREATE), buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)),
                 "landlock_create_ruleset")
    try:
        read_mask = (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR) & handled
        write_mask = handled & ~(FS_MAKE_CHAR | FS_MAKE_BLOCK | FS_EXECUTE)
        for paths, mask in ((read, read_mask), (write, write_mask)):
            for path in paths:
                _add_path_rule(rfd, path, mask)
        _check(_libc.syscall(ctypes.c_long(_LL_RESTRICT), ctypes.c_int(rfd), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(rfd)
    return layers


def _add_path_rule(ruleset_fd: int, path: str, mask: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a missing optional path (fonts, time zones) simply grants nothing
    try:
        if not os.path.isdir(f"/proc/self/fd/{fd}"):
            mask &= _FILE_ONLY
        rule = ctypes.create_string_buffer(struct.pack("=Qi", mask, fd), 12)  # packed path_beneath_attr
        _check(_libc.syscall(ctypes.c_long(_LL_ADD_RULE), ctypes.c_int(ruleset_fd), ctypes.c_int(1), rule,
                             ctypes.c_uint32(0)), f"landlock_add_rule {path}")
    finally:
        os.close(fd)


# --- seccomp ------------------------------------------------------------------------------------------
#: name -> (x86_64 number, aarch64 number); None where the call does not exist on that architecture.
_DENIED: dict[str, tuple[int | None, int | None]] = {
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "setns": (308, 268), "unshare": (272, 97), "mount": (165, 40), "umount2": (166, 39),
    "pivot_root": (155, 41), "chroot": (161, 51), "open_tree": (428, 428), "move_mount": (429, 429),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442), "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "bpf": (321, 280), "perf_event_open": (298, 241), "mknod": (133, None), "mknodat": (259, 33),
    "pidfd_open": (434, 434), "pidfd_send_signal": (424, 424), "pidfd_getfd": (438, 438),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "init_module": (175, 105),
    "finit_module": (313, 273), "delete_module": (176, 106), "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264), "userfaultfd": (323, 282), "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426), "io_uring_register": (427, 427), "swapon": (167, 224),
    "swapoff": (168, 225), "reboot": (169, 142), "acct": (163, 89), "quotactl": (179, 60),
    "syslog": (103, 116), "kcmp": (312, 272), "process_madvise": (440, 440), "lookup_dcookie": (212, 18),
    "settimeofday": (164, 170), "clock_settime": (227, 112), "adjtimex": (159, 171),
    "clock_adjtime": (305, 266), "vhangup": (153, 58), "iopl": (172, None), "ioperm": (173, None),
    "uselib": (134, None),
    # anonymous memory outside every limit (not in RLIMIT_AS, not on the run's sized tmpfs) and a way to
    # execute code the run wrote past the noexec run folder: memfds and SysV shared memory
    "memfd_create": (319, 279), "memfd_secret": (447, 447), "shmget": (29, 194), "shmat": (30, 196),
}
_ARCHES = {"x86_64": (0xC000003E, 0), "amd64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1),
           "arm64": (0xC00000B7, 1)}
_SOCKET, _CLONE, _CLONE3 = {0: 41, 1: 198}, {0: 56, 1: 220}, 435
_AF_UNIX, _EPERM, _ENOSYS = 1, 1, 38
_RET_ALLOW, _RET_KILL, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_LD_W_ABS, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_ARG0 = 16  # offsetof(struct seccomp_data, args[0]); the low 32 bits on little-endian


def seccomp_supported() -> bool:
    return platform.machine().lower() in _ARCHES


def seccomp_program(allow_unix_sockets: bool = True) -> bytes:
    """The BPF program (struct sock_filter[]) for this machine's architecture.

    ``socket()`` is allowed for ``AF_UNIX`` only, or not at all when ``allow_unix_sockets`` is False
    (``socketpair()`` stays allowed: pipes between the run's own processes).
    """
    audit_arch, col = _ARCHES[platform.machine().lower()]
    ins: list[tuple[int, int, int, int]] = []
    deny = _RET_ERRNO | _EPERM
    ins += [(_LD_W_ABS, 0, 0, 4), (_JEQ, 1, 0, audit_arch), (_RET, 0, 0, _RET_KILL), (_LD_W_ABS, 0, 0, 0)]
    if col == 0:  # x32 system calls on x86_64 carry bit 30: refuse them all
        ins += [(_JSET, 0, 1, 0x40000000), (_RET, 0, 0, deny)]
    for numbers in _DENIED.values():
        nr = numbers[col]
        if nr is not None:
            ins += [(_JEQ, 0, 1, nr), (_RET, 0, 0, deny)]
    ins += [(_JEQ, 0, 1, _CLONE3), (_RET, 0, 0, _RET_ERRNO | _ENOSYS)]  # flags unreadable: libc falls back
    # clone(flags, ...) with any namespace flag; the accumulator is reloaded with the number afterwards
    ins += [(_JEQ, 0, 4, _CLONE[col]), (_LD_W_ABS, 0, 0, _ARG0), (_JSET, 0, 1, NAMESPACE_FLAGS),
            (_RET, 0, 0, deny), (_LD_W_ABS, 0, 0, 0)]
    # socket(domain, ...): only AF_UNIX (local pipes between the run's own processes)
    unix = _AF_UNIX if allow_unix_sockets else 0xFFFFFFFF
    ins += [(_JEQ, 0, 3, _SOCKET[col]), (_LD_W_ABS, 0, 0, _ARG0), (_JEQ, 1, 0, unix), (_RET, 0, 0, deny)]
    ins += [(_RET, 0, 0, _RET_ALLOW)]
    return b"".join(struct.pack("HBBI", *i) for i in ins)


def seccomp_deny(allow_unix_sockets: bool = True) -> list[str]:
    """Install the filter on this thread (call before any other thread exists). Needs ``no_new_privs``."""
    prog = seccomp_program(allow_unix_sockets)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = struct.pack("HxxxxxxP", len(prog) // 8, ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog, len(fprog))
    _check(_prctl(PR_SET_SECCOMP, 2, ctypes.addressof(fbuf)), "prctl(PR_SET_SECCOMP)")
    return ["seccomp"]


def denied_syscalls() -> list[str]:
    """Names of the system calls the filter refuses (for the docs and the tests)."""
    return [*sorted(_DENIED), "clone(namespace flags)", "clone3", "socket(non-AF_UNIX)"]
