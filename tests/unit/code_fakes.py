"""Test doubles for the code assistant: a sandbox that runs our own compiled scripts in-process.

Only for unit tests of scopebot's own block code (trusted); untrusted code always goes to the
real sandbox, which the integration tests exercise.
"""

from __future__ import annotations

import contextlib
import io
import traceback
from pathlib import Path
from typing import Any

from scopebot.sandbox.models import RunResult


class ExecSandbox:
    """Runs code with ``exec`` in a scratch folder holding the input files; records every call."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.calls: list[dict[str, Any]] = []

    def run(self, code: str, *, files: Any = (), globals: Any = None, **_: Any) -> RunResult:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.calls.append({"code": code, "files": dict(files), "globals": dict(globals or {})})
        g: dict[str, Any] = {"__name__": "__main__"}
        for name, path in dict(files).items():
            g.setdefault("IMAGE_PATH", str(path)) if name.startswith("image") else None
        plt.close("all")
        out = io.StringIO()
        cwd = Path.cwd()
        try:
            import os

            os.chdir(self.work)
            with contextlib.redirect_stdout(out):
                exec(compile(code, "script.py", "exec"), g)  # noqa: S102 - our own compiled blocks only
        except Exception as exc:  # noqa: BLE001 - reported like the sandbox does
            return RunResult(ok=False, stdout=out.getvalue(), error=f"{type(exc).__name__}: {exc}",
                             traceback=traceback.format_exc(limit=3))
        finally:
            os.chdir(cwd)
        figures = [f"figure_{n}.png" for n in plt.get_fignums()]
        plt.close("all")
        files = [str(p) for p in sorted(self.work.iterdir()) if p.suffix in (".csv", ".json")]
        return RunResult(ok=True, stdout=out.getvalue(), figures=figures, files=files)


class PrintingSandbox:
    """Runs nothing: returns ``stdout`` (code containing 'BUG' fails with a traceback)."""

    def __init__(self, stdout: str = "") -> None:
        self.stdout = stdout
        self.calls: list[dict[str, Any]] = []

    def run(self, code: str, *, files: Any = (), globals: Any = None, **_: Any) -> RunResult:
        self.calls.append({"code": code, "files": dict(files), "globals": dict(globals or {})})
        if "BUG" in code:
            return RunResult(ok=False, error="ValueError: BUG here", traceback="Traceback ...\nValueError: BUG here")
        return RunResult(ok=True, stdout=self.stdout, figures=["/x/figure_1.png"])
