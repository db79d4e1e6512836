"""CI honesty: a missing browser fails the browser tests (never a silent skip), and the
documented ``SCOPEBOT_CHROMIUM`` override reaches them through ``tests/conftest.py``.

Runs pytest in a child process with ``SCOPEBOT_CHROMIUM`` pointing nowhere. Not marked ``browser``:
it needs no Chromium, so it also runs when the browser tests are deselected.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests/browser/test_ui_browser.py::test_login_is_required_when_auth_is_set"


def _pytest(*args: str, chromium: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCOPEBOT_CHROMIUM": chromium}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
                           "-o", "addopts=-ra", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_a_missing_chromium_fails_the_browser_tests_and_names_the_override(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-chromium")
    run = _pytest(TARGET, chromium=missing)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out  # a red run, not a green one with skips
    assert f"no Chromium at {missing}" in out, out  # the override from the environment was used
    assert "skipped" not in out.lower().split("short test summary")[-1], out


def test_browser_tests_are_left_out_only_when_deselected(tmp_path: Path) -> None:
    run = _pytest(TARGET, "-m", "not browser", chromium=str(tmp_path / "no-such-chromium"))
    out = run.stdout + run.stderr
    assert run.returncode == 5, out  # pytest's "no tests collected": deselected on purpose, nothing ran
    assert "1 deselected" in out, out
