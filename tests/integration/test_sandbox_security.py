"""Hostile snippets against the real sandbox: each must fail, say why, and leave the host intact.

Every case runs in a real child process of a shared warm pool. After each case we check that a
sentinel file outside the working directory is untouched, that the warm template process is the
same one (the attack did not kill it) and that a normal run still works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.sandbox import Sandbox, SandboxLimits

pytestmark = pytest.mark.integration

SECRET = "sk-test-secret-value-0042"
SENTINEL_TEXT = "do not touch"


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside every sandbox working directory, with a sentinel and a fake secret."""
    base = tmp_path_factory.mktemp("outside")
    (base / "sentinel.txt").write_text(SENTINEL_TEXT)
    (base / "keep").mkdir()
    (base / "keep" / "file.txt").write_text(SENTINEL_TEXT)
    (base / "id_rsa").write_text("PRIVATE KEY " + SECRET)
    return base


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    os.environ["OPENAI_API_KEY"] = SECRET  # the host has a key; runs must never see it
    limits = SandboxLimits(timeout_s=3.0, memory_mb=512, max_file_mb=8, max_output_chars=2000,
                           max_output_factor=20, max_processes=32)
    with Sandbox(limits, workers=1, output_dir=tmp_path_factory.mktemp("results")) as sb:
        sb.warm_up()
        yield sb
    os.environ.pop("OPENAI_API_KEY", None)


# (id, code template, expected limit_hit values or None, substring expected in error/violation)
CASES: list[tuple[str, str, set[str] | None, str]] = [
    ("fork_bomb", "import os\nwhile True:\n    os.fork()", {"processes"}, "starting processes"),
    ("multiprocessing_bomb", "import multiprocessing as mp\nfor _ in range(100):\n"
     "    mp.Process(target=print).start()", {"processes"}, "starting processes"),
    ("thread_bomb", "import threading, time\nfor _ in range(5000):\n"
     "    threading.Thread(target=time.sleep, args=(30,)).start()", {"processes", "memory"}, ""),
    ("memory_bomb_bytes", "x = bytearray(8 * 1024 ** 3)", {"memory"}, "MemoryError"),
    ("memory_bomb_growth", "chunks = []\nwhile True:\n    chunks.append(' ' * 10 ** 8)", {"memory"}, "Memory"),
    ("memory_bomb_numpy", "import numpy as np\na = np.ones((60000, 60000))", {"memory"}, "Memory"),
    ("infinite_loop", "while True:\n    pass", {"timeout", "cpu"}, "Limit"),
    ("sleep_forever", "import time\ntime.sleep(1000)", {"timeout"}, "wall-clock"),
    ("huge_stdout", "while True:\n    print('x' * 10000)", {"output"}, "output limit"),
    ("huge_stderr", "import sys\nwhile True:\n    sys.stderr.write('y' * 10000)", {"output"}, "output limit"),
    ("huge_file", "with open('big.bin', 'wb') as fh:\n    while True:\n        fh.write(b'0' * 2 ** 20)",
     {"file_size"}, "File"),
    ("net_loopback", "import socket\nsocket.create_connection(('127.0.0.1', 22), timeout=1)", None, "network"),
    ("net_outside", "import urllib.request\nurllib.request.urlopen('http://1.1.1.1/', timeout=2)", None,
     "network"),
    ("net_dns", "import socket\nsocket.gethostbyname('example.com')", None, "network"),
    ("net_listen", "import socket\ns = socket.socket()\ns.bind(('0.0.0.0', 8765))\ns.listen()", None,
     "network"),
    ("read_etc_passwd", "print(open('/etc/passwd').read())", None, "reading outside"),
    ("read_home_secret", "print(open({secret!r}).read())", None, "reading outside"),
    ("read_relative_escape", "print(open('../../../../../../etc/passwd').read())", None, "reading outside"),
    ("read_proc_environ", "print(open('/proc/self/environ').read())", None, "reading outside"),
    ("list_outside", "import os\nprint(os.listdir({outside!r}))", None, "reading outside"),
    ("write_outside", "open({outside!r} + '/evil.txt', 'w').write('pwned')", None, "writing outside"),
    ("overwrite_sentinel", "open({sentinel!r}, 'w').write('pwned')", None, "writing outside"),
    ("delete_outside", "import os\nos.remove({sentinel!r})", None, "writing outside"),
    ("rmtree_outside", "import shutil\nshutil.rmtree({keep!r})", None, "outside"),
    ("symlink_escape", "import os\nos.symlink('/etc/passwd', 'p')\nprint(open('p').read())", None,
     "symbolic links"),
    ("chdir_escape", "import os\nos.chdir('/')\nprint(open('etc/passwd').read())", None, "outside"),
    ("subprocess_run", "import subprocess\nsubprocess.run(['id'])", {"processes"}, "starting processes"),
    ("os_system", "import os\nos.system('id')", {"processes"}, "shell commands"),
    ("os_exec", "import os\nos.execv('/bin/sh', ['sh', '-c', 'id'])", {"processes"}, "starting processes"),
    ("posix_spawn", "import os\nos.posix_spawn('/bin/true', ['true'], {{}})", {"processes"}, "starting processes"),
    ("raw_fork_exec", "import _posixsubprocess\n_posixsubprocess.fork_exec()", {"processes"},
     "starting processes"),
    ("pty_spawn", "import pty\npty.spawn('/bin/sh')", {"processes"}, "starting processes"),
    ("ctypes_libc", "import ctypes\nctypes.CDLL('libc.so.6').system(b'id')", None, "ctypes"),
    ("ctypes_pythonapi", "import ctypes\nctypes.pythonapi.Py_GetVersion()", None, "ctypes"),
    ("dunder_import", "__import__('o' + 's').system('id')", {"processes"}, "shell commands"),
    ("importlib_trick", "import importlib\nimportlib.import_module('subpro' + 'cess').check_output(['id'])",
     {"processes"}, "starting processes"),
    ("builtins_getattr", "imp = getattr(__builtins__, '__import__')\n"
     "imp('socket').socket().connect(('127.0.0.1', 80))", None, "network"),
    ("exec_obfuscated", "exec(compile(\"import socket; socket.socket().connect(('10.0.0.1', 80))\", 's', 'exec'))",
     None, "network"),
    ("signal_ignore_xcpu", "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)", None, "signal"),
    ("signal_tamper_then_loop", "import signal\ntry:\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
     "except Exception:\n    pass\nwhile True:\n    pass", {"timeout", "cpu"}, "Limit"),
    ("kill_parent", "import os\nos.kill(os.getppid(), 9)", None, "signalling other processes"),
    ("kill_group", "import os\nos.kill(0, 9)", None, "signalling"),
    ("addaudithook_bypass", "import sys\nsys.addaudithook(lambda *a: None)\nprint(open('/etc/passwd').read())",
     None, "reading outside"),
    ("gc_walk_to_hook", "import gc\nprint(len(gc.get_objects()))", None, "walking interpreter objects"),
    ("raise_rlimit", "import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", None,
     "resource limits"),
    ("monkeypatch_realpath", "import os, os.path, posixpath\nos.path.realpath = lambda p, **k: '/tmp/x'\n"
     "posixpath.abspath = lambda p: '/tmp/x'\nos.fspath = lambda p: '/tmp/x'\n"
     "print(open('/etc/passwd').read())", None, "reading outside"),
    ("setuid_root", "import os\nos.setuid(0)", None, "credentials"),
]


def _fill(code: str, outside: Path) -> str:
    return code.format(outside=str(outside), sentinel=str(outside / "sentinel.txt"),
                       keep=str(outside / "keep"), secret=str(outside / "id_rsa"))


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(("name", "code", "limits", "needle"), CASES, ids=[c[0] for c in CASES])
def test_hostile_snippet_is_contained(sandbox: Sandbox, outside: Path, name: str, code: str,
                                      limits: set[str] | None, needle: str) -> None:
    zygote_pid = sandbox._pool._worker.proc.pid if sandbox._pool and sandbox._pool._worker else None
    result = sandbox.run(_fill(code, outside))

    assert not result.ok, f"{name} was not stopped: {result}"
    described = " ".join(filter(None, [result.error, result.violation]))
    assert described, "a contained run must say what stopped it"
    assert needle.lower() in described.lower(), described
    if limits is not None:
        assert result.limit_hit in limits, (result.limit_hit, described)
    assert SECRET not in result.stdout + result.stderr
    assert "root:x:0:0" not in result.stdout
    # the host is unaffected
    assert (outside / "sentinel.txt").read_text() == SENTINEL_TEXT
    assert (outside / "keep" / "file.txt").read_text() == SENTINEL_TEXT
    assert not (outside / "evil.txt").exists()
    after = sandbox.run("print(6 * 7)")
    assert after.ok and after.stdout.strip() == "42"
    assert sandbox._pool is not None and sandbox._pool._worker is not None
    assert sandbox._pool._worker.proc.pid == zygote_pid, "the warm template was killed"


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


def test_working_directory_is_deleted(sandbox: Sandbox) -> None:
    result = sandbox.run("import os\nprint(os.getcwd())")
    assert result.ok
    assert not Path(result.stdout.strip()).exists()
