"""Options and plumbing shared by the eval suite commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args

import typer

from scopebot.clitools import get_settings
from scopebot.evals.report import write_report
from scopebot.evals.runner import EvalReport, apply_gates, default_out_dir, parse_gates
from scopebot.settings import PROJECT_ROOT, Settings

DATASETS_DIR = PROJECT_ROOT / "evals" / "datasets"

DatasetOpt = Annotated[Path | None, typer.Option("--dataset", help="Dataset file (YAML/JSONL); default: the shipped one.")]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="Only the first N items.", min=1)]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Output directory for report.json/.md and plots.")]
MinOpt = Annotated[list[str] | None, typer.Option("--min", help="Gate: metric=value; exit 1 below it (repeatable).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
ResumeOpt = Annotated[bool, typer.Option("--resume/--no-resume", help="Resume an interrupted run in --out.")]


def backend_settings(backend: str | None, **overrides: Any) -> Settings:
    """Settings for an eval run on ``backend`` (one of the ``llm_backend`` choices); exit 2 on a bad name."""
    choices = get_args(Settings.model_fields["llm_backend"].annotation)
    if backend is not None and backend not in choices:
        typer.echo(f"--backend must be one of: {', '.join(choices)}", err=True)
        raise typer.Exit(2)
    return get_settings(llm_backend=backend, **overrides)


def dataset_path(given: Path | None, default_name: str) -> Path:
    return given if given is not None else DATASETS_DIR / default_name


def finish(report: EvalReport, out: Path, gates: list[str] | None, *, echo: bool = True) -> None:
    """Apply gates, write the report files, print a summary and exit non-zero on a failed gate."""
    apply_gates(report, parse_gates(gates))
    paths = write_report(report, out)
    if echo:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"eval {report.suite} — {report.dataset}")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for k, v in report.metrics.items():
            table.add_row(escape(k), f"{v:.4g}")
        console = Console()
        console.print(table)
        for g in report.gates:
            console.print(escape(f"gate {g.metric} ≥ {g.minimum}: {g.value} {'ok' if g.ok else 'FAILED'}"))
        console.print(f"report: {paths[0]}")
    if not report.gates_ok:
        raise typer.Exit(1)


def out_dir(out: Path | None, home: Path, suite: str) -> Path:
    return out if out is not None else default_out_dir(home, suite)
