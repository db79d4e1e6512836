"""``scopebot support train``: rebuild the learned support check (``python -m scopebot.answer.train_support``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    support_app = typer.Typer(no_args_is_help=True, help="The learned support (meaning) check.")
    app.add_typer(support_app, name="support")

    @support_app.command("train")
    def train(out: Annotated[Path | None, typer.Option(help="Where to write the model and its card "
                                                           "(default: the package data).")] = None,
              max_passages: Annotated[int, typer.Option(help="Passages sampled from the index.")] = 900,
              datasets: Annotated[Path, typer.Option(help="Folder of the hand-written hallucination sets (support_human.HUMAN_SETS).")]
              = Path("evals/datasets")) -> None:
        """Write claims from the indexed sources, split by document, add the human-written hallucination sets,
        train, calibrate on human answers left out of training (cross-fitted), test, save."""
        from scopebot.answer.train_support import DATA_DIR
        from scopebot.answer.train_support import train as run_training
        from scopebot.clitools import error_boundary, get_settings
        from scopebot.index.embeddings import make_embedder
        from scopebot.knowledge import KnowledgeBase

        settings = get_settings()
        with error_boundary():
            emb = make_embedder(settings)
            card = run_training(KnowledgeBase.open(settings, embedder=emb), emb, datasets_dir=datasets,
                                out_dir=out or DATA_DIR, max_passages=max_passages, log=typer.echo)
        dev = card["splits"]["dev"]["with_cosine"]
        human = card["calibration"]["human_cross_fitted"].get("all") or {}
        typer.echo(f"model {card['version']} ({card['model']}): generated dev recall[unsupported] "
                   f"{dev['recall_unsupported']}, false-flag rate {dev['false_flag_rate']}; human answers "
                   f"(cross-fitted) faithful not flagged {human.get('faithful_not_flagged')}, recall "
                   f"{human.get('recall_unsupported')}; threshold {card['threshold']}, support floor "
                   f"{card['support_floor']}")
