"""``scopebot config``: every setting with its environment variable, value and description."""

from __future__ import annotations

from typing import Annotated

import typer

from scopebot.clitools import get_settings, print_json


def register(app: typer.Typer) -> None:
    app.command()(config)


def settings_table(markdown: bool = False) -> list[tuple[str, str, str]]:
    """(env var, current value, description) for every field; secrets are shown as set/not set."""
    from pydantic import SecretStr

    from scopebot.settings import Settings

    s = get_settings()
    rows = []
    for name, field in Settings.model_fields.items():
        env = field.validation_alias if isinstance(field.validation_alias, str) else f"SCOPEBOT_{name.upper()}"
        value = getattr(s, name)
        shown = ("set" if value else "not set") if isinstance(value, SecretStr) or "key" in name else str(value)
        rows.append((env, shown, field.description or ""))
    return rows


def config(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
           markdown: Annotated[bool, typer.Option("--markdown", help="Print a Markdown table.")] = False) -> None:
    """Show every setting: environment variable, current value and what it does (keys shown as set/not set)."""
    rows = settings_table()
    if as_json:
        print_json([{"env": e, "value": v, "description": d} for e, v, d in rows])
    elif markdown:
        typer.echo("| variable | description |\n|---|---|")
        for e, _, d in rows:
            typer.echo(f"| `{e}` | {d} |")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="scopebot settings (environment prefix SCOPEBOT_)")
        for col in ("variable", "value", "description"):
            table.add_column(col)
        for r in rows:
            table.add_row(*r)
        Console().print(table)
