"""``scopebot sync imagesc``: sync image.sc forum topics into the store and the index."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from scopebot.errors import ConfigurationError, ScopebotError, user_message

if TYPE_CHECKING:
    from scopebot.forum.sync import IngestFn, SyncOptions, SyncReport
    from scopebot.settings import Settings

sync_app = typer.Typer(no_args_is_help=True, help="Fetch online sources (the image.sc forum) into the index.")


def make_index_ingest(settings: Settings) -> IngestFn:
    """The real ingestion: the index builder's ``ingest_sections`` (imported lazily: it loads models)."""
    try:
        from scopebot.index.builder import IndexBuilder
    except ModuleNotFoundError as exc:
        raise ConfigurationError("The index builder is not available in this installation",
                                 hint="the topics were stored; re-run the sync once the index "
                                      "builder is installed, or use --no-ingest") from exc
    return IndexBuilder(settings).ingest_sections   # the embedder is loaded only when chunks change


def parse_since(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"--since {value!r} is not a date",
                                 hint="use the ISO format YYYY-MM-DD, e.g. --since 2024-01-01") from None


def run_sync(settings: Settings, options: SyncOptions, *, console: Console, ingest: bool = True,
             delay: float = 0.5, ingest_factory: object = None,
             **client_options: object) -> tuple[int, SyncReport | None]:
    """Run one sync with progress output; returns (exit code, report). Errors become messages here.

    ``ingest_factory(settings)`` builds the ingest callable (default: the index builder);
    ``client_options`` go to :class:`DiscourseClient` (e.g. ``retry``, ``sleep``, ``timeout``).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from scopebot.forum.client import DiscourseClient
    from scopebot.forum.store import TopicStore
    from scopebot.forum.sync import ForumSync

    factory = ingest_factory or make_index_ingest
    store = TopicStore(settings.home / "forum")
    ingested: dict[str, IngestFn] = {}

    def lazy_ingest(spec, sections):  # type: ignore[no-untyped-def]
        if "fn" not in ingested:
            console.print(f"Ingesting {len(sections)} forum sections into the index…")
            ingested["fn"] = factory(settings)  # type: ignore[operator]
        return ingested["fn"](spec, sections)

    try:
        with DiscourseClient.from_settings(settings, min_interval=delay, **client_options) as client:  # type: ignore[arg-type]
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[last]}"), console=console, transient=True) as bar:
                task = bar.add_task("image.sc topics", total=options.max_topics, last="")

                def progress(event: str, topic_id: int, title: str) -> None:
                    bar.update(task, advance=1, last=f"{event}: {title[:50]}")

                sync = ForumSync(client, store, lazy_ingest if ingest else None, progress=progress)
                console.print(f"Syncing from {client.base_url} "
                              f"({'search: ' + options.search_query() if options.uses_search else 'latest topics'})")
                report = sync.run(options)
    except ScopebotError as exc:
        console.print(f"[red]Forum sync failed:[/red] {user_message(exc)}")
        if len(store):
            console.print(f"{len(store)} topics stored earlier are kept in {store.root}.")
        return 1, None
    _print_report(console, report, ingest)
    return (1 if report.aborted else 0), report


def _print_report(console: Console, report: SyncReport, ingest: bool) -> None:
    from rich.table import Table

    table = Table(title="image.sc sync", show_header=True)
    for col in ("discovered", "fetched", "new", "updated", "skipped unchanged", "gone", "failed", "stored"):
        table.add_column(col, justify="right")
    table.add_row(*(str(v) for v in (report.discovered, report.fetched, report.new, report.updated,
                                     report.unchanged, len(report.gone), len(report.failed),
                                     report.stored_total)))
    console.print(table)
    for tid, reason in sorted(report.failed.items()):
        console.print(f"  [yellow]failed[/yellow] topic {tid}: {reason}")
    if report.gone:
        console.print(f"  deleted or hidden on the forum (skipped): {', '.join(map(str, report.gone))}"
                      + (f"; removed from the store: {', '.join(map(str, report.removed))}" if report.removed else ""))
    if report.discovery_warning:
        console.print(f"  [yellow]{report.discovery_warning}[/yellow]")
    if report.aborted:
        console.print(f"[red]Sync stopped early:[/red] {report.aborted}. Topics fetched so far are kept; "
                      "run the same command again to continue.")
    if report.ingested:
        console.print(f"Index updated with {report.sections} forum sections.")
    elif ingest and report.stored_total:
        console.print("Index already up to date with the stored topics.")


@sync_app.command("imagesc")
def imagesc(
    query: str = typer.Option("", "--query", "-q", help="Search terms (Discourse search syntax allowed)."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Only topics with this tag (repeatable: any of)."),
    category: str = typer.Option("", "--category", help="Only topics in this category (slug)."),
    since: str = typer.Option("", "--since", help="Only topics active since this date (YYYY-MM-DD)."),
    solved: bool = typer.Option(False, "--solved", help="Only topics with an accepted answer."),
    max_topics: int = typer.Option(100, "--max-topics", "-n", min=1, help="At most this many topics."),
    no_ingest: bool = typer.Option(False, "--no-ingest", help="Only fetch into the store; skip the index."),
    delay: float = typer.Option(0.5, "--delay", min=0.0,
                                help="Seconds between requests (keep >= 0.5 for forum.image.sc)."),
) -> None:
    """Fetch image.sc forum topics and ingest them as the 'forum' source (incremental)."""
    from scopebot.forum.sync import SyncOptions
    from scopebot.settings import load_settings

    console = Console()
    try:
        options = SyncOptions(query=query, tags=list(tag), category=category, since=parse_since(since),
                              solved=solved, max_topics=max_topics)
        settings = load_settings()
    except ScopebotError as exc:
        console.print(f"[red]{user_message(exc)}[/red]")
        raise typer.Exit(2) from None
    code, _ = run_sync(settings, options, console=console, ingest=not no_ingest, delay=delay)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``scopebot sync ...`` to the main app."""
    app.add_typer(sync_app, name="sync")
