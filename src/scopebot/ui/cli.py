"""``scopebot serve``: start the web UI (building the index first on a fresh machine)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from scopebot.clitools import ProgressPrinter, error_boundary, get_settings, port_in_use
from scopebot.errors import ConfigurationError

PORT_HINT = "pick a free port with --port N (or SCOPEBOT_PORT=N), or stop the program that uses it"


def register(app: typer.Typer) -> None:
    app.command()(serve)


def ensure_index(settings: object, progress: bool = True) -> bool:
    """Build the index with progress bars when none exists; returns True when it had to build."""
    from scopebot.index.builder import IndexBuilder, live_dir

    if live_dir(settings) is not None:  # type: ignore[arg-type]
        return False
    typer.echo("No index found: building it from the offline sources first (one time only)...", err=True)
    with ProgressPrinter(enabled=progress) as bar:
        manifest = IndexBuilder(settings, progress=bar).ingest()  # type: ignore[arg-type]
    for st in manifest.sources.values():
        if st.status in ("missing", "failed"):
            typer.echo(f"warning: source {st.id} is {st.status}: {st.message}", err=True)
    return True


def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: SCOPEBOT_HOST, 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: SCOPEBOT_PORT, 7860).")] = None,
    build_index: Annotated[bool, typer.Option("--build-index/--no-build-index",
                                              help="Build the index first when none exists.")] = True,
    demo: Annotated[bool, typer.Option(help="Serve the canned demo backend (no index or model needed).")] = False,
    demo_delay: Annotated[float, typer.Option(help="Seconds of simulated work per demo turn (load tests).")] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Start the web UI (chat, sources, code runs, uploads) on the embedded model by default."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    settings = get_settings(host=host, port=port)
    with error_boundary():
        from scopebot.ui.app import launch
        from scopebot.ui.services import Services, code_execution_allowed

        problem = port_in_use(settings.host, settings.port)  # before building anything
        if problem:
            raise ConfigurationError(problem, hint=PORT_HINT)
        if demo:
            from scopebot.ui.demo import DemoServices

            services = DemoServices(settings, delay_s=demo_delay)
        else:
            if build_index:
                ensure_index(settings, progress=not quiet)
            services = Services(settings)
        if settings.allow_code_execution and not code_execution_allowed(settings):
            typer.echo("Code execution is disabled: the UI listens beyond localhost without a login "
                       "(set SCOPEBOT_AUTH=user:password to enable it).", err=True)
        try:
            try:
                app = launch(settings, services, block=False)
            except OSError as exc:  # taken between the check and the start
                raise ConfigurationError(f"cannot listen on {settings.host}:{settings.port} "
                                         f"({str(exc).split('.')[0]})", hint=PORT_HINT) from None
            typer.echo(f"scopebot UI on http://{settings.host}:{settings.port} (Ctrl+C to stop)", err=True)
            app.block_thread()
        finally:
            close = getattr(services, "close", None)
            if callable(close):
                close()
