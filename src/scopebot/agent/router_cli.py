"""``scopebot router train``: rebuild the learned router model (same as ``python -m scopebot.agent.train_router``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    router_app = typer.Typer(no_args_is_help=True, help="The learned turn router.")
    app.add_typer(router_app, name="router")

    @router_app.command("train")
    def train(out: Annotated[Path | None, typer.Option(help="Where to write the model, the training set and "
                                                           "the model card (default: the package data).")] = None,
              embedder: Annotated[str | None, typer.Option(help="minilm (default) or a model folder.")] = None,
              backend: Annotated[str, typer.Option(help="MiniLM backend for the training turns: torch (the "
                                                        "reference, default) or onnx.")] = "torch") -> None:
        """Expand the templates, split by template, train, calibrate, test, and write the model."""
        from scopebot.agent.train_router import DATA_DIR, training_settings
        from scopebot.agent.train_router import train as run_training
        from scopebot.clitools import error_boundary
        from scopebot.index.embeddings import make_embedder

        with error_boundary():
            card = run_training(make_embedder(training_settings(embedder, backend)), out_dir=out or DATA_DIR,
                                log=typer.echo)
        typer.echo(f"model {card['version']} ({card['model']}): test accuracy {card['test_accuracy']}")
