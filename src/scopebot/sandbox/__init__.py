"""The process sandbox: run Python in a separate, limited, isolated process.

Public API: :class:`Sandbox` (``run(code, files=..., timeout=...) -> RunResult``; raises
:class:`SandboxUnavailable` where no kernel boundary can be set up),
:class:`RunResult`, :class:`SandboxLimits`, :class:`SandboxPool` (the warm workers).
"""

from scopebot.sandbox.isolation import SandboxUnavailable
from scopebot.sandbox.models import RunResult, SandboxLimits
from scopebot.sandbox.pool import SandboxPool
from scopebot.sandbox.runner import Sandbox

__all__ = ["RunResult", "Sandbox", "SandboxLimits", "SandboxPool", "SandboxUnavailable"]
