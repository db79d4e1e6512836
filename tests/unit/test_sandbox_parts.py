"""Sandbox building blocks that need no child process: path resolution, limits, isolation commands."""

from __future__ import annotations

import json
import os
import signal
import struct
import sys
from pathlib import Path

import pytest

from scopebot.sandbox.guard import _make_resolver, _under
from scopebot.sandbox.isolation import (
    SANDBOX_UID,
    Isolation,
    SandboxUnavailable,
    _hidden_ancestors,
    python_roots,
)
from scopebot.sandbox.kernel import denied_syscalls, seccomp_program
from scopebot.sandbox.models import RunResult, SandboxLimits
from scopebot.sandbox.runner import _limit_from_exit, _read_capped, check_exposure


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


def test_bwrap_command_isolates_everything_and_binds_only_what_runs_need(tmp_path: Path) -> None:
    iso = Isolation("bwrap", "/opt/bwrap", None, 7, True)
    cmd = iso.command("/usr/bin/python3", tmp_path, [Path("/usr"), Path("/etc/fonts")], ["serve", ""])
    assert cmd[0] == "/opt/bwrap"
    for flag in ("--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                 "--die-with-parent", "--new-session"):
        assert flag in cmd
    assert cmd[cmd.index("--cap-drop") + 1] == "ALL"
    assert cmd[cmd.index("--uid") + 1] == str(SANDBOX_UID)
    assert ["--bind", str(tmp_path), "/sandbox"] == cmd[cmd.index("--bind"):cmd.index("--bind") + 3]
    assert "--ro-bind" in cmd and ["--ro-bind", "/etc/fonts", "/etc/fonts"] == \
        cmd[cmd.index("/etc/fonts") - 1:cmd.index("/etc/fonts") + 2]
    assert not any(part in ("/home", "/root", "/tmp/") for part in cmd[cmd.index("--bind") + 1:])
    assert cmd[-5:] == ["/usr/bin/python3", "-I", "/opt/scopebot-sandbox/worker.py", "serve", ""]
    layers = iso.layers()
    assert {"pidns:per-run", "netns:per-run", "seccomp", "landlock:abi7"} <= set(layers)


def test_root_goes_through_the_launcher_to_an_unprivileged_uid(tmp_path: Path) -> None:
    iso = Isolation("bwrap", "/opt/bwrap", SANDBOX_UID, 7, True)
    cmd = iso.command("/usr/bin/python3", tmp_path, [Path("/usr")], ["serve", ""])
    assert cmd[2].endswith("launch.py")
    spec = json.loads(cmd[3])
    assert spec["uid"] == SANDBOX_UID and cmd[4] == "--" and cmd[5] == "/opt/bwrap"


def test_hidden_ancestors_find_the_0700_home(tmp_path: Path) -> None:
    home = tmp_path / "home0700"
    (home / "env" / "bin").mkdir(parents=True)
    os.chmod(home, 0o700)
    hidden = _hidden_ancestors([home / "env" / "bin"], SANDBOX_UID)
    assert len(hidden) == 1 and (str(home) == hidden[0] or str(home).startswith(hidden[0] + "/"))
    assert _hidden_ancestors([Path("/usr/lib")], SANDBOX_UID) == []


def test_python_roots_of_a_venv_include_its_base(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\n")
    roots = python_roots(str(venv / "bin" / "python"))
    assert venv in roots
    assert any(Path(os.path.realpath(sys.executable)).is_relative_to(r) for r in roots)


def test_hook_only_is_never_used_for_an_exposed_server() -> None:
    hook_only = Isolation("hook-only")
    assert "UNSAFE:hook-only" in hook_only.layers() and not hook_only.kernel_enforced
    check_exposure(hook_only, "127.0.0.1")
    with pytest.raises(SandboxUnavailable):
        check_exposure(hook_only, "0.0.0.0")
    check_exposure(Isolation("bwrap", "/opt/bwrap"), "0.0.0.0")


def test_seccomp_program_is_well_formed() -> None:
    prog = seccomp_program()
    assert len(prog) % 8 == 0 and 50 < len(prog) // 8 < 4096
    codes = {struct.unpack("HBBI", prog[i:i + 8])[0] for i in range(0, len(prog), 8)}
    assert codes <= {0x20, 0x15, 0x45, 0x06}
    assert prog != seccomp_program(allow_unix_sockets=False)
    assert {"ptrace", "setns", "unshare", "mount", "keyctl", "bpf", "perf_event_open", "mknod", "pidfd_open",
            "pidfd_send_signal", "kexec_load", "kexec_file_load"} <= set(denied_syscalls())


def test_limit_classification_prefers_the_wardens_limits() -> None:
    limits = SandboxLimits(timeout_s=2, memory_mb=256, disk_mb=16)
    assert _limit_from_exit({"limit": "disk", "signal": signal.SIGKILL}, {}, limits)[0] == "disk"
    assert _limit_from_exit({"limit": "output", "signal": signal.SIGKILL}, {}, limits)[0] == "output"


def test_run_result_summary() -> None:
    assert RunResult(ok=True, duration_s=0.5).summary() == "ran in 0.50s"
    assert "limit hit: memory" in RunResult(ok=False, error="MemoryError", limit_hit="memory").summary()


def test_eval_data_dir_keeps_its_sub_folders(tmp_path: Path) -> None:
    from scopebot.code.humaneval import data_files

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "file.tif").write_bytes(b"x")
    (tmp_path / "top.txt").write_text("1")
    (tmp_path / ".hidden").write_text("1")
    assert data_files(tmp_path) == {"sub": tmp_path / "sub", "top.txt": tmp_path / "top.txt"}


def test_hook_only_setting_is_ignored_for_a_ui_beyond_localhost(tmp_path: Path) -> None:
    from scopebot.sandbox import Sandbox, SandboxUnavailable
    from scopebot.settings import Settings

    settings = Settings(home=tmp_path, sandbox_unsafe_hook_only=True, host="0.0.0.0", sandbox_workers=0,
                        sandbox_isolation="bwrap", sandbox_bwrap=str(tmp_path / "no-bwrap"))
    with pytest.raises(SandboxUnavailable):  # no kernel boundary, and the loud setting does not count here
        Sandbox.from_settings(settings)
    local = Sandbox.from_settings(settings.model_copy(update={"host": "127.0.0.1"}))
    assert local.isolation.kind == "hook-only"
    local.close()


def test_data_folders_are_copied_without_following_any_link(tmp_path: Path) -> None:
    """The host copies inputs as its own user: links inside a data folder (to a file or a folder) and
    special files are skipped, files are opened with O_NOFOLLOW relative to their folder."""
    from scopebot.sandbox.runner import _copy_tree

    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("a")
    (data / "sub" / "b.txt").write_text("bb")
    (data / "link.txt").symlink_to(secret)
    (data / "dirlink").symlink_to(tmp_path)
    os.mkfifo(data / "fifo")
    out = tmp_path / "out"
    copied = _copy_tree(data, out)
    found = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert found == ["a.txt", "sub", "sub/b.txt"] and copied == 3
    assert all("TOPSECRET" not in p.read_text() for p in out.rglob("*.txt"))
