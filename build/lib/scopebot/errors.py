"""The two error roots of scopebot.

* :class:`ConfigurationError` — the user or the caller did something wrong (bad setting, bad input,
  missing index, unknown source kind). Fixing it means changing what was asked.
* :class:`ScopebotRuntimeError` — something failed while doing valid work (an endpoint is down, a
  source file is corrupt, the sandbox crashed). Retrying or repairing the environment may help.

Every error carries a ``hint`` telling the user how to fix it. Errors are turned into user-facing
text only at the CLI/UI boundary (:func:`user_message`).
"""

from __future__ import annotations


class ScopebotError(Exception):
    """Base class of every error scopebot raises on purpose."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigurationError(ScopebotError):
    """Misuse or misconfiguration: change the input, the settings or the command."""


class ScopebotRuntimeError(ScopebotError):
    """A failure while doing valid work: a service, a file or a process let us down."""


# Specialisations that callers commonly want to catch.
class MissingIndexError(ConfigurationError):
    """No index has been built yet in the configured home directory."""


class SourceError(ScopebotRuntimeError):
    """A knowledge source is missing or could not be parsed."""

    def __init__(self, message: str, *, source_id: str = "", path: str = "", line: int | None = None,
                 hint: str = "") -> None:
        where = path + (f":{line}" if line else "") if path else ""
        super().__init__(f"{message}" + (f" [{where}]" if where else ""), hint=hint)
        self.source_id = source_id
        self.path = path
        self.line = line


class ModelError(ScopebotRuntimeError):
    """A chat model or embedding backend failed."""


class SandboxError(ScopebotRuntimeError):
    """The sandbox could not run the code (not an error *inside* the user's code)."""


def user_message(err: BaseException) -> str:
    """Render an error for a human at the CLI/UI boundary."""
    if isinstance(err, ScopebotError):
        text = err.message
        if err.hint:
            text += f"\n  How to fix: {err.hint}"
        return text
    return f"Unexpected error: {type(err).__name__}: {err}"
