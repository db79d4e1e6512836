"""``scopebot ask "question"``: a grounded answer with numbered references and the check report."""

from __future__ import annotations

from typing import Annotated

import typer

from scopebot.clitools import error_boundary, get_settings, print_json


def build_pipeline(settings: object, *, lead: bool = False) -> object:
    """The production pipeline: the live knowledge base and the configured chat model."""
    from scopebot.answer.factory import build_answer_pipeline

    return build_answer_pipeline(settings, lead=lead)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    @app.command("ask")
    def ask(question: Annotated[str, typer.Argument(help="Your question, in quotes.")] = "",
            json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
            mode: Annotated[str | None, typer.Option(
                "--mode", help="extractive (quote the sources), generative (the model writes) or auto.")] = None,
            strict: Annotated[bool | None, typer.Option(
                "--strict/--no-strict", help="Remove unsupported sentences instead of flagging them.")] = None,
            k: Annotated[int | None, typer.Option("-k", "--top-k", min=1, max=20, help="Passages to retrieve.")] = None,
            lead: Annotated[bool, typer.Option(
                "--lead/--no-lead", help="Extractive mode: let the model write a checked one-sentence lead.")] = False,
            ) -> None:
        """Answer a question from the indexed sources, with citations and hallucination checks."""
        if not question.strip():
            typer.echo('The question is empty. Usage: scopebot ask "How does Otsu thresholding work?"', err=True)
            raise typer.Exit(2)
        if mode is not None and mode not in ("extractive", "generative", "auto"):
            typer.echo("--mode must be extractive, generative or auto", err=True)
            raise typer.Exit(2)
        settings = get_settings(top_k=k)
        with error_boundary():
            pipeline = build_pipeline(settings, lead=lead)
            if json_out:
                answer = pipeline.answer(question, mode=mode, strict=strict)  # type: ignore[attr-defined]
                print_json(answer.to_json())
                return
            from rich.console import Console

            from scopebot.answer.render import print_rich

            err = Console(stderr=True)
            final = None
            with err.status("retrieving…") as status:
                for event in pipeline.stream(question, mode=mode, strict=strict):  # type: ignore[attr-defined]
                    if event.type == "status":
                        status.update(f"{event.status}…")
                    elif event.type == "final":
                        final = event.answer
            assert final is not None
            print_rich(final)
