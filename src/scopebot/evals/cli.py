"""``scopebot eval SUITE``: each suite module registers its own sub-command on ``eval_app``."""

from __future__ import annotations

import importlib

import typer

eval_app = typer.Typer(no_args_is_help=True, help="Run evaluation suites and compare reports.")

SUITE_MODULES = [
    "scopebot.evals.suites.retrieval",
    "scopebot.evals.suites.answers",
    "scopebot.evals.suites.hallucination",
    "scopebot.evals.suites.usefulness",
    "scopebot.evals.suites.tools",
    "scopebot.evals.suites.code",
    "scopebot.evals.suites.routing",
    "scopebot.evals.suites.quiz",
    "scopebot.evals.suites.all",
    "scopebot.evals.compare",
]


def register(app: typer.Typer) -> None:
    for name in SUITE_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        mod.register(eval_app)
    app.add_typer(eval_app, name="eval")
