"""``scopebot eval all``: every registered suite in turn, one combined summary, one exit code.

Each suite runs in-process through its own registered command (so ``all`` measures exactly what
``scopebot eval <suite>`` measures) into ``OUT/<suite>/``. Afterwards ``OUT/summary.json``,
``OUT/summary.md`` and ``OUT/scores.png`` combine the headline metrics. Gates are written
``--min suite.metric=value`` and handed to that suite's ``--min``; the command exits 1 when any gate
fails or any suite could not run, after running all of them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, Field

from scopebot.clitools import error_boundary, get_settings
from scopebot.errors import ConfigurationError
from scopebot.evals.common import LimitOpt, OutOpt, QuietOpt, ResumeOpt

#: Suites run by ``all``, in order; ``code`` scores the canonical solutions unless --code-generate.
ORDER = ("retrieval", "answers", "hallucination", "tools", "code", "routing", "quiz")
TAKES_LIMIT = {"retrieval", "answers", "hallucination", "tools", "routing", "quiz"}
TAKES_DATASET = {"retrieval", "answers", "hallucination", "tools", "routing"}
TAKES_BACKEND = {"answers", "quiz"}
#: Metrics shown in the summary and the combined plot (gated metrics are added).
HEADLINES: dict[str, tuple[str, ...]] = {
    "retrieval": ("recall@1", "recall@5", "mrr"),
    "answers": ("key_fact_coverage", "abstain_unanswerable", "answer_rate", "citations_valid"),
    "hallucination": ("exact", "clean_not_flagged"),
    "tools": ("hit@1", "hit@5", "mrr"),
    "code": ("pass@1",),
    "code-generate": ("pass@1", "pass@5"),
    "routing": ("accuracy", "follow_up_accuracy"),
    "quiz": ("retrieval_hit", "cited_hit", "keyword_overlap"),
}


class SuiteRun(BaseModel):
    """How one suite went inside ``eval all``."""

    suite: str
    command: list[str] = Field(default_factory=list)
    status: str = "skipped"  # ok | gate_failed | error | skipped
    exit_code: int | None = None
    reason: str = ""
    seconds: float = 0.0
    report: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    headline: dict[str, float] = Field(default_factory=dict)
    gates: list[dict[str, Any]] = Field(default_factory=list)


class Summary(BaseModel):
    started_at: str
    seconds: float = 0.0
    out: str
    backend: str | None = None
    suites: list[SuiteRun] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.status in ("ok", "skipped") for r in self.suites)


def split_gates(specs: Sequence[str] | None, known: Sequence[str]) -> dict[str, list[str]]:
    """``["retrieval.recall@5=0.9"]`` → ``{"retrieval": ["recall@5=0.9"]}``; unknown suites are errors."""
    out: dict[str, list[str]] = {}
    for spec in specs or []:
        suite, dot, rest = spec.partition(".")
        if not dot or suite not in known or "=" not in rest:
            raise ConfigurationError(f"Bad gate {spec!r}",
                                     hint=f"write --min suite.metric=value with suite in {', '.join(known)}, "
                                          "e.g. --min retrieval.recall@5=0.9")
        out.setdefault(suite, []).append(rest)
    return out


def split_pairs(specs: Sequence[str] | None, known: Sequence[str], option: str) -> dict[str, str]:
    """``["answers=my.yaml"]`` → ``{"answers": "my.yaml"}``."""
    out: dict[str, str] = {}
    for spec in specs or []:
        suite, eq, value = spec.partition("=")
        if not eq or suite not in known or not value:
            raise ConfigurationError(f"Bad {option} {spec!r}", hint=f"write {option} suite=value, suite in "
                                                                    f"{', '.join(known)}")
        out[suite] = value
    return out


def plan(out: Path, *, skip: Sequence[str] = (), limit: int | None = None, backend: str | None = None,
         gates: dict[str, list[str]] | None = None, datasets: dict[str, str] | None = None,
         code_generate: int | None = None, quiet: bool = False, resume: bool = False,
         available: Sequence[str] = ORDER) -> list[tuple[str, list[str]]]:
    """The ``(name, argv)`` of every suite to run; argv is what ``scopebot eval`` would be given."""
    runs: list[tuple[str, list[str]]] = []
    names = [s for s in ORDER if s in available and s not in skip]
    if code_generate and "code" in names and "code-generate" not in skip:
        names.insert(names.index("code") + 1, "code-generate")
    for name in names:
        command = "code" if name.startswith("code") else name
        argv = [command, "--out", str(out / name)]
        if name == "code":
            argv.append("--canonical")
        elif name == "code-generate":
            argv += ["--generate", str(code_generate)]
        if limit and name in TAKES_LIMIT:
            argv += ["--limit", str(limit)]
        if datasets and name in datasets:
            argv += ["--dataset", datasets[name]]
        if backend and name in TAKES_BACKEND:
            argv += ["--backend", backend]
        for gate in (gates or {}).get(name, []):
            argv += ["--min", gate]
        if quiet:
            argv.append("--quiet")
        if resume:
            argv.append("--resume")
        runs.append((name, argv))
    return runs


def run_suite(invoke: Callable[[list[str]], int], name: str, argv: list[str], out: Path) -> SuiteRun:
    """Run one suite through ``invoke`` (argv → exit code) and read back its report."""
    import click

    run = SuiteRun(suite=name, command=["scopebot", "eval", *argv])
    report_path = out / name / "report.json"
    if report_path.is_file():
        report_path.unlink()  # a stale report must not pass for this run's
    t0 = time.perf_counter()
    try:
        run.exit_code = invoke(argv)
    except click.ClickException as exc:
        run.exit_code, run.reason = exc.exit_code, exc.format_message()
    except Exception as exc:  # noqa: BLE001 - one broken suite must not stop the others
        run.exit_code, run.reason = 1, f"{type(exc).__name__}: {exc}"
    run.seconds = round(time.perf_counter() - t0, 2)
    if report_path.is_file():
        data = json.loads(report_path.read_text(encoding="utf-8"))
        run.report = str(report_path)
        run.metrics = {k: float(v) for k, v in data.get("metrics", {}).items()}
        run.gates = list(data.get("gates", []))
    wanted = list(HEADLINES.get(name, ())) + [g["metric"] for g in run.gates]
    run.headline = {m: run.metrics[m] for m in dict.fromkeys(wanted) if m in run.metrics}
    failed_gates = [g for g in run.gates if not g.get("ok")]
    if run.exit_code == 0 and run.report:
        run.status = "ok"
    elif failed_gates and run.report:
        run.status = "gate_failed"
        run.reason = run.reason or "; ".join(f"{g['metric']}={g['value']} < {g['minimum']}" for g in failed_gates)
    else:
        run.status = "error"
        run.reason = run.reason or f"exit code {run.exit_code} and no report"
    return run


def summary_markdown(summary: Summary) -> str:
    lines = ["# scopebot eval all", "", f"- started: {summary.started_at}", f"- duration: {summary.seconds:.1f} s",
             f"- backend: {summary.backend or 'settings'}", "",
             "| suite | status | headline metrics | gates | seconds | command |", "|---|---|---|---|---|---|"]
    for r in summary.suites:
        head = ", ".join(f"{k}={v:.3g}" for k, v in r.headline.items()) or r.reason.replace("|", "\\|")[:120]
        gates = ", ".join(f"{g['metric']}≥{g['minimum']} {'✅' if g.get('ok') else '❌'}" for g in r.gates)
        lines.append(f"| {r.suite} | {r.status} | {head} | {gates} | {r.seconds:.1f} | `{' '.join(r.command)}` |")
    return "\n".join(lines) + "\n"


def write_summary(summary: Summary, out: Path, *, plots: bool = True) -> list[Path]:
    """``summary.json``, ``summary.md`` and (when there are scores) ``scores.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "summary.json", out / "summary.md"]
    paths[0].write_text(json.dumps({**summary.model_dump(), "ok": summary.ok}, indent=2, ensure_ascii=False),
                        encoding="utf-8")
    paths[1].write_text(summary_markdown(summary), encoding="utf-8")
    if plots:
        png = _plot(summary, out / "scores.png")
        if png:
            paths.append(png)
    return paths


def _plot(summary: Summary, path: Path) -> Path | None:
    bars = [(f"{r.suite}: {m}", v, next((g["minimum"] for g in r.gates if g["metric"] == m), None))
            for r in summary.suites for m, v in r.headline.items() if 0.0 <= v <= 1.0]
    if not bars:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 0.35 * len(bars) + 1.2))
    ys = list(range(len(bars)))[::-1]
    ax.barh(ys, [b[1] for b in bars], color="#3b7dd8")
    for y, (_label, _value, minimum) in zip(ys, bars, strict=True):
        if minimum is not None:
            ax.vlines(minimum, y - 0.4, y + 0.4, colors="red", linestyles="--")
    ax.set_yticks(ys, [b[0] for b in bars])
    ax.set_xlim(0, 1.05)
    ax.set_title("scopebot eval all: headline scores (red: gates)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _quiz_sources_present(sources_dir: Path) -> bool:
    from scopebot.evals.quiz_parse import QUIZ_SOURCES

    return any((sources_dir / folder).is_dir() for folder, _p, _g in QUIZ_SOURCES.values())


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("all")
    def all_(out: OutOpt = None, limit: LimitOpt = None, quiet: QuietOpt = False, resume: ResumeOpt = False,
             min_: Annotated[list[str] | None, typer.Option(
                 "--min", help="Gate suite.metric=value, e.g. retrieval.recall@5=0.9 (repeatable).")] = None,
             skip: Annotated[list[str] | None, typer.Option(
                 "--skip", help="Suites not to run (repeatable or comma-separated).")] = None,
             only: Annotated[list[str] | None, typer.Option(
                 "--only", help="Run only these suites (repeatable or comma-separated).")] = None,
             backend: Annotated[str | None, typer.Option(
                 help="Chat backend for the answers and quiz suites.")] = None,
             dataset: Annotated[list[str] | None, typer.Option(
                 "--dataset", help="Dataset for one suite: suite=PATH (repeatable).")] = None,
             code_generate: Annotated[int | None, typer.Option(
                 "--code-generate", min=1, help="Also score N model completions per code task.")] = None,
             ) -> None:
        """Run every eval suite into OUT/<suite>/ and write a combined summary; exit 1 on any failed gate."""
        settings = get_settings()
        command = typer.main.get_command(eval_app)
        available = [s for s in ORDER if s in getattr(command, "commands", {})]
        skipped = {s.strip() for v in skip or [] for s in v.split(",") if s.strip()}
        chosen = {s.strip() for v in only or [] for s in v.split(",") if s.strip()}
        with error_boundary():
            unknown = sorted((skipped | chosen) - set(ORDER) - {"code-generate"})
            if unknown:
                raise ConfigurationError(f"Unknown suite(s) {', '.join(unknown)}", hint=f"suites: {', '.join(ORDER)}")
            if chosen:
                skipped |= set(ORDER) - chosen
            gates = split_gates(min_, [*ORDER, "code-generate"])
            datasets = split_pairs(dataset, sorted(TAKES_DATASET), "--dataset")
            target = out if out is not None else settings.home / "evals" / (
                "all-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S"))
            summary = Summary(started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), out=str(target),
                              backend=backend)
            runs = plan(target, skip=sorted(skipped), limit=limit, backend=backend, gates=gates, datasets=datasets,
                        code_generate=code_generate, quiet=quiet, resume=resume, available=available)
            t0 = time.perf_counter()
            for name in ORDER:
                if name in skipped:
                    summary.suites.append(SuiteRun(suite=name, reason="--skip/--only"))
                elif name not in available:
                    summary.suites.append(SuiteRun(suite=name, reason="suite not installed"))

            def invoke(argv: list[str]) -> int:
                result = command.main(args=argv, prog_name="scopebot eval", standalone_mode=False)
                return result if isinstance(result, int) else 0

            for name, argv in runs:
                if name == "quiz" and not _quiz_sources_present(settings.sources_dir):
                    summary.suites.append(SuiteRun(suite=name, reason=f"no lesson sources in {settings.sources_dir}"))
                    continue
                typer.echo(f"── eval {name}: {' '.join(argv)}", err=True)
                summary.suites.append(run_suite(invoke, name, argv, target))
                if summary.suites[-1].exit_code == 130:  # Ctrl-C inside a suite stops the whole run
                    write_summary(summary, target, plots=False)
                    raise typer.Exit(130)
            order = {n: i for i, n in enumerate([*ORDER[:5], "code-generate", *ORDER[5:]])}
            summary.suites.sort(key=lambda r: order.get(r.suite, 99))
            summary.seconds = round(time.perf_counter() - t0, 2)
            paths = write_summary(summary, target)
        for r in summary.suites:
            typer.echo(f"{r.suite:<14} {r.status:<12} "
                       + (", ".join(f"{k}={v:.3g}" for k, v in r.headline.items()) or r.reason))
        typer.echo(f"summary: {paths[0]}")
        if not summary.ok:
            raise typer.Exit(1)
