"""Helpers shared by the CLI modules: settings, error boundary, progress bars, JSON output."""

from __future__ import annotations

import errno
import json
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from scopebot.errors import ConfigurationError, ScopebotError, user_message
from scopebot.settings import Settings


def get_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except Exception as exc:  # pydantic validation of env vars
        typer.echo(f"Invalid configuration: {exc}", err=True)
        raise typer.Exit(2) from exc


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn scopebot errors into a message on stderr and an exit code (2 misuse, 1 failure)."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        raise typer.Exit(130) from None
    except ConfigurationError as exc:
        typer.echo(user_message(exc), err=True)
        raise typer.Exit(2) from None
    except ScopebotError as exc:
        typer.echo(user_message(exc), err=True)
        raise typer.Exit(1) from None


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


class ProgressPrinter:
    """A rich progress display keyed by stage name (one bar per stage), quiet when not a TTY+quiet."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressPrinter:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), TimeRemainingColumn(),
                                      console=Console(stderr=True), transient=False)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._progress is None:
            return
        # "parse <source>" updates one bar whose label names the source being parsed
        name = "parse" if stage.startswith("parse") else stage
        label = "parse sources" if stage == "parse" else stage
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(label, total=max(total, 1))
        self._progress.update(self._tasks[name], completed=done if total else 1, total=max(total, 1),
                              description=label[:28])


def port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (in use, or not an address here), or None when it can."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does: TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is already in use"
            return f"cannot listen on {host}:{port} ({exc.strerror or exc})"
    return None
