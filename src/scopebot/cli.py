"""The ``scopebot`` command line. Each area registers its commands from its own module."""

from __future__ import annotations

import importlib
import os

import typer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="scopebot: a source-grounded assistant for microscopy and bioimage analysis.")

#: Modules that define ``register(app)``; each adds its own commands.
COMMAND_MODULES = [
    "scopebot.config_cli",     # config
    "scopebot.index.cli",      # ingest, search, status
    "scopebot.evals.cli",      # eval ...
    "scopebot.llm.cli",        # models
    "scopebot.answer.cli",     # ask
    "scopebot.sandbox.cli",    # run
    "scopebot.code.cli",       # code
    "scopebot.tools.cli",      # recommend
    "scopebot.forum.cli",      # sync
    "scopebot.agent.cli",      # chat
    "scopebot.agent.router_cli",  # router train
    "scopebot.ui.cli",         # serve
    "scopebot.mcp_server.cli", # mcp
]

for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as _exc:  # an area not written yet
        if _exc.name != _name:
            raise
        continue
    _mod.register(app)


def main() -> None:  # pragma: no cover
    app()
