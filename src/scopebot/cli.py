"""The ``scopebot`` command line. Each area registers its commands from its own module.

Modules are imported lazily: running ``scopebot search`` imports only the module that registers
``search`` (named in ``COMMAND_HINTS``), so one command never pays for another's imports. A command
missing from the hints, ``--help`` and the command list load every module in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


class LazyCommands(TyperGroup):
    """The top-level group: a command's module is imported when the command is looked up."""

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """Run the command line with undecodable bytes in the arguments replaced (U+FFFD) and output
        streams that replace what they cannot encode instead of raising."""
        from scopebot.usertext import clean_text

        # an argument naming an existing file keeps its bytes (a file name need not be UTF-8)
        args = [a if isinstance(a, str) and _is_path(a) else clean_text(a)
                for a in (sys.argv[1:] if args is None else args)]
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if callable(reconfigure):
                try:
                    reconfigure(errors="replace")
                except (ValueError, OSError):  # a closed or detached stream
                    pass
        return super().main(args, *rest, **kwargs)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in _LOADED:
            hint = COMMAND_HINTS.get(cmd_name)
            if hint in COMMAND_MODULES:
                _load(hint)
            if cmd_name not in _LOADED:
                for name in COMMAND_MODULES:
                    _load(name)
        return _LOADED.get(cmd_name) or super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        for name in COMMAND_MODULES:
            _load(name)
        return [*_LOADED, *(c for c in super().list_commands(ctx) if c not in _LOADED)]


app = typer.Typer(no_args_is_help=True, add_completion=False, cls=LazyCommands,
                  help="scopebot: a source-grounded assistant for microscopy and bioimage analysis.")


def _is_path(arg: str) -> bool:
    try:
        return os.path.lexists(arg)
    except (OSError, ValueError):
        return False


@app.callback()
def _root() -> None:
    """scopebot: a source-grounded assistant for microscopy and bioimage analysis."""

#: Modules that define ``register(app)``; each adds its own commands.
COMMAND_MODULES = [
    "scopebot.config_cli",     # config
    "scopebot.index.cli",      # ingest, search, status
    "scopebot.evals.cli",      # eval ...
    "scopebot.llm.cli",        # models
    "scopebot.answer.cli",     # ask
    "scopebot.answer.support_cli",  # support train
    "scopebot.sandbox.cli",    # run
    "scopebot.code.cli",       # code
    "scopebot.tools.cli",      # recommend
    "scopebot.forum.cli",      # sync
    "scopebot.agent.cli",      # chat
    "scopebot.agent.router_cli",  # router train
    "scopebot.ui.cli",         # serve
    "scopebot.mcp_server.cli", # mcp
]

#: Command name -> the module registering it (a hint for the fast path; keep in step with the list above).
COMMAND_HINTS = {
    "config": "scopebot.config_cli", "ingest": "scopebot.index.cli", "search": "scopebot.index.cli",
    "status": "scopebot.index.cli", "eval": "scopebot.evals.cli", "models": "scopebot.llm.cli",
    "ask": "scopebot.answer.cli", "run": "scopebot.sandbox.cli", "sandbox-check": "scopebot.sandbox.cli",
    "code": "scopebot.code.cli",
    "recommend": "scopebot.tools.cli", "sync": "scopebot.forum.cli", "chat": "scopebot.agent.cli",
    "router": "scopebot.agent.router_cli", "serve": "scopebot.ui.cli", "mcp": "scopebot.mcp_server.cli",
    "support": "scopebot.answer.support_cli",
}

_LOADED: dict[str, Any] = {}  # command name -> click command, filled as modules are imported
_DONE: set[str] = set()


def _load(name: str) -> None:
    """Import one command module and keep the click commands it registers."""
    if name in _DONE:
        return
    _DONE.add(name)
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an area not written yet
        if exc.name != name:
            raise
        return
    part = typer.Typer()
    mod.register(part)
    for cmd_name, cmd in typer.main.get_group(part).commands.items():
        _LOADED.setdefault(cmd_name, cmd)


def main() -> None:  # pragma: no cover
    app()
