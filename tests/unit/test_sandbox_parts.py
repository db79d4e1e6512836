"""Sandbox building blocks that need no child process: path resolution, limits, isolation commands."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from scopebot.sandbox.guard import _make_resolver, _under
from scopebot.sandbox.isolation import Isolation
from scopebot.sandbox.models import RunResult, SandboxLimits
from scopebot.sandbox.runner import _limit_from_exit, _read_capped


def test_resolver_follows_symlinks_and_dotdot(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    os.symlink("/etc", work / "link")
    resolve = _make_resolver(str(work))
    assert resolve("a.txt") == f"{work}/a.txt"
    assert resolve("../" * 30 + "etc/passwd") == "/etc/passwd"
    assert resolve("link/passwd") == "/etc/passwd"
    assert resolve(str(work / "sub" / ".." / "b")) == f"{work}/b"
    assert resolve(b"bytes.txt") == f"{work}/bytes.txt"
    assert resolve(object()) is None


def test_under_matches_whole_components() -> None:
    assert _under("/a/b/c", ("/a/b",))
    assert _under("/a/b", ("/a/b",))
    assert not _under("/a/bc", ("/a/b",))


def test_limit_classification() -> None:
    limits = SandboxLimits(timeout_s=2, memory_mb=256)
    assert _limit_from_exit({"timed_out": True}, {}, limits)[0] == "timeout"
    assert _limit_from_exit({"signal": signal.SIGXCPU}, {}, limits)[0] == "cpu"
    assert _limit_from_exit({"signal": signal.SIGKILL, "cpu_s": 2.5}, {}, limits)[0] == "cpu"
    assert _limit_from_exit({"signal": signal.SIGXFSZ}, {}, limits)[0] == "file_size"
    assert _limit_from_exit({"signal": signal.SIGKILL, "cpu_s": 0.1}, {}, limits)[0] == "memory"
    assert _limit_from_exit({"exit_code": 0}, {"limit": "output"}, limits) == ("output", None)
    assert _limit_from_exit({"exit_code": 0}, {"ok": True}, limits) == (None, None)
    assert "without a result" in (_limit_from_exit({"exit_code": 70}, {}, limits)[1] or "")


def test_cpu_limit_defaults_to_the_timeout() -> None:
    assert SandboxLimits(timeout_s=2.2).effective_cpu_s == 3
    assert SandboxLimits(timeout_s=30, cpu_s=5).effective_cpu_s == 5


def test_read_capped_truncates(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("x" * 50)
    assert _read_capped(path, 100) == ("x" * 50, False)
    assert _read_capped(path, 10) == ("x" * 10, True)
    assert _read_capped(tmp_path / "missing", 10) == ("", False)


def test_bwrap_command_isolates_network_and_hides_homes(tmp_path: Path) -> None:
    iso = Isolation("bwrap", 65534, 65534)
    cmd = iso.prefix([tmp_path], [Path("/usr")])
    assert cmd[0] == "bwrap" and "--unshare-net" in cmd and "--die-with-parent" in cmd
    assert cmd[cmd.index("--tmpfs", cmd.index("/home") - 1) + 1] == "/home"
    assert ["--bind", str(tmp_path), str(tmp_path)] == cmd[cmd.index("--bind"):cmd.index("--bind") + 3]
    assert "uid:nobody" in iso.layers() and "netns:bwrap" in iso.layers()
    assert Isolation("none").prefix([], []) == []
    assert "netns:unshare" not in Isolation("none").layers()


def test_run_result_summary() -> None:
    assert RunResult(ok=True, duration_s=0.5).summary() == "ran in 0.50s"
    assert "limit hit: memory" in RunResult(ok=False, error="MemoryError", limit_hit="memory").summary()
