"""``scopebot recommend``: which tool should I use for X?"""

from __future__ import annotations

from typing import Annotated

import typer

from scopebot.clitools import error_boundary, get_settings, print_json


def register(app: typer.Typer) -> None:
    app.command()(recommend)


def recommend(
    request: Annotated[str, typer.Argument(help="What you want to do, e.g. 'segment nuclei in 3D without coding'.")],
    interface: Annotated[str, typer.Option("--interface", help="gui, code or any.")] = "any",
    dims: Annotated[str, typer.Option("--dims", help="2d, 3d or any.")] = "any",
    k: Annotated[int, typer.Option("--k", "-k", help="Number of tools.", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    no_citations: Annotated[bool, typer.Option("--no-citations", help="Skip book/training citations.")] = False,
) -> None:
    """Recommend tools and Model Zoo models from BIII, the awesome list and bioimage.io, with reasons."""
    settings = get_settings()
    with error_boundary():
        from scopebot.tools.query import check_arguments

        check_arguments(request, interface, dims, k)  # before the index loads: a typo fails fast
        from scopebot.answer.factory import build_answer_pipeline
        from scopebot.knowledge import KnowledgeBase
        from scopebot.tools.factory import build_recommender

        kb = KnowledgeBase.open(settings)
        names = build_answer_pipeline(settings, kb=kb, extractive_only=True)  # the answer route's name check
        recommender = build_recommender(settings, kb, name_check=names.unknown_names)
        rec = recommender.recommend(request, interface=interface, dims=dims, k=k,  # type: ignore[arg-type]
                                    with_citations=not no_citations)
    if as_json:
        print_json(rec.to_json())
        return
    from rich.console import Console

    from scopebot.tools.render import print_recommendation

    console = Console()
    print_recommendation(console, rec)
    if rec.nothing_fits and (rec.results or rec.nearest or not rec.message):
        console.print("[yellow]Nothing in the index fits; try fewer constraints or other words.[/yellow]")
