"""``scopebot ingest``, ``scopebot search`` and ``scopebot status``."""

from __future__ import annotations

from typing import Annotated

import typer

from scopebot.clitools import ProgressPrinter, error_boundary, get_settings, print_json


def register(app: typer.Typer) -> None:
    app.command()(ingest)
    app.command()(search)
    app.command()(status)


def ingest(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these source ids (repeatable).")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even when a source is unchanged.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Parse the knowledge sources and build (or update) the hybrid index."""
    from scopebot.index.builder import IndexBuilder

    settings = get_settings()
    with error_boundary():
        with ProgressPrinter(enabled=not quiet) as progress:
            manifest = IndexBuilder(settings, progress=progress).ingest(source, force=force)
        _print_manifest(manifest)
        bad = [s for s in manifest.sources.values() if s.status in ("missing", "failed")]
        if bad:
            raise typer.Exit(1)


def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", help="Number of passages.", min=1, max=100)] = 5,
    kind: Annotated[list[str] | None, typer.Option("--kind", help="Only these source kinds (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Search the index (hybrid dense + BM25) and print the best passages with their scores."""
    from scopebot.errors import ConfigurationError
    from scopebot.knowledge import KnowledgeBase, check_kinds

    settings = get_settings()
    with error_boundary():
        if not query.strip():
            raise ConfigurationError("The search query is empty", hint="type a question or some keywords")
        check_kinds(kind)
        kb = KnowledgeBase.open(settings)
        results = kb.search(query, k=k, kinds=kind)
    if as_json:
        print_json({"query": query, "results": [r.to_json() for r in results]})
        return
    from rich.console import Console
    from rich.panel import Panel
    from rich.text import Text

    console = Console()
    if not results:
        console.print("No passages found.")
    for r in results:
        c = r.chunk
        body = c.body if len(c.body) < 600 else c.body[:600] + " …"
        console.print(Panel(body, title=f"[{r.rank}] {c.breadcrumb}", subtitle=f"{c.key}  score {r.score:.4f}",
                            title_align="left", subtitle_align="left"))
        if c.url:  # the deep link whole, on its own line: never cut by the panel or wrapped by the console
            console.print(Text(c.url, style=f"link {c.url}"), soft_wrap=True, crop=False)


def status(as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False) -> None:
    """Show the live index manifest: sources, counts, versions and build time."""
    from scopebot.errors import MissingIndexError
    from scopebot.index.builder import live_dir
    from scopebot.index.manifest import IndexManifest

    settings = get_settings()
    with error_boundary():
        directory = live_dir(settings)
        if directory is None:
            raise MissingIndexError(f"No index found in {settings.home}", hint="build it with `scopebot ingest`")
        manifest = IndexManifest.load(directory)
    if as_json:
        print_json(manifest.model_dump())
        return
    _print_manifest(manifest)


def _print_manifest(manifest: object) -> None:
    from rich.console import Console
    from rich.table import Table

    m = manifest  # IndexManifest
    console = Console()
    table = Table(title=f"Index {m.build_id} — {m.total_chunks} chunks, built {m.built_at} in {m.build_seconds}s")
    for col in ("source", "kind", "status", "sections", "chunks", "problems", "note"):
        table.add_column(col)
    for s in m.sources.values():
        table.add_row(s.id, s.kind, s.status, str(s.sections), str(s.chunks), str(len(s.problems)),
                      (s.message or "")[:80])
    console.print(table)
    variant = f", {m.embedder_variant}" if getattr(m, "embedder_variant", "") else ""
    console.print(f"embedder {m.embedder} (dim {m.embedding_dim}{variant}), chunks ≤{m.chunk_size} chars "
                  f"overlap {m.chunk_overlap}, store {'Chroma server ' + m.chroma_url if m.chroma_url else 'embedded Chroma'}")
    console.print("versions: " + ", ".join(f"{k} {v}" for k, v in m.versions.items()))
    for note in getattr(m, "notes", []):
        console.print(f"[yellow]note[/] {note}")
    for s in m.sources.values():
        for p in s.problems[:5]:
            console.print(f"[yellow]problem[/] {s.id}: {p}")
        if len(s.problems) > 5:
            console.print(f"[yellow]… {len(s.problems) - 5} more problems in {s.id}[/]")
