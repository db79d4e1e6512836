"""The process sandbox: run Python in a separate, limited, isolated process.

Public API: :class:`Sandbox` (``run(code, files=..., timeout=...) -> RunResult``),
:class:`RunResult`, :class:`SandboxLimits`, :class:`SandboxPool` (the warm workers).
"""

from scopebot.sandbox.models import RunResult, SandboxLimits
from scopebot.sandbox.pool import SandboxPool
from scopebot.sandbox.runner import Sandbox

__all__ = ["RunResult", "Sandbox", "SandboxLimits", "SandboxPool"]
