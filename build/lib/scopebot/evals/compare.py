"""``scopebot eval compare A B``: what changed between two eval reports, regressions first.

Every metric the two reports share gets A, B, the delta and a verdict. Scores are "higher is
better"; latency, time, error and false-alarm counts are "lower is better"; item counts are
neutral (a change is reported but never a regression). Score deltas within ``tolerance`` (absolute)
and latency deltas within ``latency_tolerance`` (relative to A) count as "same", so run-to-run
noise is not called a regression.

Per-item changes follow: items that passed in A and fail in B first, then fixed items, then
items whose metrics moved, then items present in only one report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import BaseModel, Field

from scopebot.evals.runner import EvalReport, ItemResult, load_report

Direction = Literal["higher", "lower", "neutral"]
Verdict = Literal["regression", "improvement", "same", "changed"]
ItemChange = Literal["broke", "fixed", "worse", "better", "changed", "only_in_a", "only_in_b"]

_LOWER = re.compile(r"(^latency|_s$|seconds|error|^fp\[|^fn\[|false_|invalid_citations|unknown_entities|"
                    r"nothing_fits|acceptable_missing|abstention_rate)")
_NEUTRAL = re.compile(r"^(items|tasks|tasks_without_samples|answered|samples)$")
# Exceptions to the "lower" pattern: gateable "good" forms of those quantities.
_HIGHER_OVERRIDES = {"citations_valid", "answer_rate", "clean_not_flagged"}
_VERDICT_ORDER = {"regression": 0, "improvement": 1, "changed": 2, "same": 3}
_CHANGE_ORDER = {"broke": 0, "fixed": 1, "worse": 2, "better": 3, "changed": 4, "only_in_a": 5, "only_in_b": 6}


def direction(metric: str) -> Direction:
    """Whether a larger value of ``metric`` is better, worse, or neither."""
    if metric in _HIGHER_OVERRIDES:
        return "higher"
    if _NEUTRAL.search(metric):
        return "neutral"
    if _LOWER.search(metric):
        return "lower"
    return "higher"


def _is_timing(metric: str) -> bool:
    return metric.startswith("latency") or metric.endswith("_s") or "seconds" in metric


class MetricDiff(BaseModel):
    metric: str
    a: float
    b: float
    delta: float
    direction: Direction
    verdict: Verdict


class ItemDiff(BaseModel):
    id: str
    change: ItemChange
    passed_a: bool | None = None
    passed_b: bool | None = None
    deltas: dict[str, float] = Field(default_factory=dict)
    error_b: str | None = None


class Comparison(BaseModel):
    a: str
    b: str
    suite_a: str
    suite_b: str
    warnings: list[str] = Field(default_factory=list)
    metrics: list[MetricDiff] = Field(default_factory=list)
    only_in_a: list[str] = Field(default_factory=list)
    only_in_b: list[str] = Field(default_factory=list)
    items: list[ItemDiff] = Field(default_factory=list)

    @property
    def regressions(self) -> list[MetricDiff]:
        return [m for m in self.metrics if m.verdict == "regression"]


def metric_verdict(metric: str, a: float, b: float, tolerance: float = 0.01,
                   latency_tolerance: float = 0.2) -> MetricDiff:
    """Compare one metric; timings use a relative tolerance, everything else an absolute one."""
    delta = b - a
    dirn = direction(metric)
    limit = latency_tolerance * abs(a) if _is_timing(metric) else tolerance
    if abs(delta) <= limit + 1e-12:
        verdict: Verdict = "same"
    elif dirn == "neutral":
        verdict = "changed"
    else:
        better = delta > 0 if dirn == "higher" else delta < 0
        verdict = "improvement" if better else "regression"
    return MetricDiff(metric=metric, a=a, b=b, delta=round(delta, 6), direction=dirn, verdict=verdict)


def _item_diff(ia: ItemResult, ib: ItemResult, tolerance: float) -> ItemDiff | None:
    deltas = {k: round(ib.metrics[k] - ia.metrics[k], 6) for k in ia.metrics.keys() & ib.metrics.keys()
              if abs(ib.metrics[k] - ia.metrics[k]) > tolerance}
    pa, pb = ia.passed, ib.passed
    if ib.error and not ia.error:
        pb = False
    if pa and pb is False:
        change: ItemChange = "broke"
    elif pa is False and pb:
        change = "fixed"
    elif deltas:
        signs = {(1 if d > 0 else -1) * (1 if direction(k) == "higher" else -1)
                 for k, d in deltas.items() if direction(k) != "neutral" and not _is_timing(k)}
        change = "worse" if signs == {-1} else "better" if signs == {1} else "changed"
        if not signs:
            return None  # only timings moved: item-level latency noise is not worth a row
    else:
        return None
    return ItemDiff(id=ia.id, change=change, passed_a=ia.passed, passed_b=ib.passed,
                    deltas={k: v for k, v in deltas.items() if not _is_timing(k)}, error_b=ib.error)


def compare_reports(a: EvalReport, b: EvalReport, *, tolerance: float = 0.01, latency_tolerance: float = 0.2,
                    name_a: str = "A", name_b: str = "B") -> Comparison:
    """All metric and item differences between report ``a`` (baseline) and ``b`` (candidate)."""
    cmp = Comparison(a=name_a, b=name_b, suite_a=a.suite, suite_b=b.suite)
    if a.suite != b.suite:
        cmp.warnings.append(f"different suites: {a.suite} vs {b.suite}")
    if (a.dataset, a.dataset_version) != (b.dataset, b.dataset_version):
        cmp.warnings.append(f"different datasets: {a.dataset} {a.dataset_version} vs {b.dataset} {b.dataset_version}")
    shared = [k for k in a.metrics if k in b.metrics]
    cmp.metrics = sorted((metric_verdict(k, a.metrics[k], b.metrics[k], tolerance, latency_tolerance)
                          for k in shared), key=lambda m: (_VERDICT_ORDER[m.verdict], -abs(m.delta)))
    cmp.only_in_a = sorted(set(a.metrics) - set(b.metrics))
    cmp.only_in_b = sorted(set(b.metrics) - set(a.metrics))
    by_b = {it.id: it for it in b.items}
    ids_a = {it.id for it in a.items}
    diffs: list[ItemDiff] = []
    for ia in a.items:
        ib = by_b.get(ia.id)
        if ib is None:
            diffs.append(ItemDiff(id=ia.id, change="only_in_a", passed_a=ia.passed))
        elif (d := _item_diff(ia, ib, tolerance)) is not None:
            diffs.append(d)
    diffs += [ItemDiff(id=ib.id, change="only_in_b", passed_b=ib.passed) for ib in b.items if ib.id not in ids_a]
    cmp.items = sorted(diffs, key=lambda d: _CHANGE_ORDER[d.change])
    return cmp


def to_markdown(cmp: Comparison, max_items: int = 200) -> str:
    """The comparison as Markdown: metric table (regressions first), then item changes."""
    lines = [f"# Eval comparison `{cmp.suite_a}`: {cmp.a} → {cmp.b}", ""]
    lines += [f"> warning: {w}" for w in cmp.warnings]
    lines += ["", f"{len(cmp.regressions)} regression(s).", "",
              "| metric | A | B | delta | better | verdict |", "|---|---|---|---|---|---|"]
    lines += [f"| {m.metric} | {m.a:.4g} | {m.b:.4g} | {m.delta:+.4g} | {m.direction} | {m.verdict} |"
              for m in cmp.metrics]
    if cmp.only_in_a or cmp.only_in_b:
        lines += ["", f"Only in A: {', '.join(cmp.only_in_a) or '-'}; only in B: {', '.join(cmp.only_in_b) or '-'}"]
    lines += ["", f"## Item changes ({len(cmp.items)})", "", "| id | change | passed A → B | metric deltas |",
              "|---|---|---|---|"]
    for d in cmp.items[:max_items]:
        deltas = ", ".join(f"{k} {v:+.3g}" for k, v in d.deltas.items())
        lines.append(f"| {d.id} | {d.change} | {_yn(d.passed_a)} → {_yn(d.passed_b)} | {deltas} |")
    return "\n".join(lines) + "\n"


def _yn(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _print(cmp: Comparison, max_items: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for w in cmp.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}")
    colour = {"regression": "red", "improvement": "green", "changed": "yellow", "same": "dim"}
    table = Table(title=f"eval compare {cmp.suite_a}: {escape(cmp.a)} → {escape(cmp.b)}")
    for col in ("metric", "A", "B", "delta", "verdict"):
        table.add_column(col, justify="right" if col in ("A", "B", "delta") else "left")
    for m in cmp.metrics:
        table.add_row(escape(m.metric), f"{m.a:.4g}", f"{m.b:.4g}", f"{m.delta:+.4g}",
                      f"[{colour[m.verdict]}]{m.verdict}[/]")
    console.print(table)
    if cmp.items:
        items = Table(title=f"item changes ({len(cmp.items)})")
        for col in ("id", "change", "passed A → B", "metric deltas"):
            items.add_column(col)
        for d in cmp.items[:max_items]:
            items.add_row(escape(d.id), d.change, f"{_yn(d.passed_a)} → {_yn(d.passed_b)}",
                          escape(", ".join(f"{k} {v:+.3g}" for k, v in d.deltas.items())))
        console.print(items)
    console.print(f"{len(cmp.regressions)} regression(s), "
                  f"{sum(1 for m in cmp.metrics if m.verdict == 'improvement')} improvement(s)")


def register(eval_app: typer.Typer) -> None:
    @eval_app.command("compare")
    def compare(a: Annotated[Path, typer.Argument(help="Baseline report.json (or its folder).")],
                b: Annotated[Path, typer.Argument(help="Candidate report.json (or its folder).")],
                json_: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
                tolerance: Annotated[float, typer.Option(min=0.0, help="Absolute change of a score that "
                                                                       "counts as no change.")] = 0.01,
                latency_tolerance: Annotated[float, typer.Option(min=0.0, help="Relative change of a "
                                                                               "timing that counts as no "
                                                                               "change.")] = 0.2,
                fail_on_regression: Annotated[bool, typer.Option(
                    "--fail-on-regression", help="Exit 1 when any metric regressed.")] = False,
                markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the "
                                                                                 "comparison here.")] = None,
                max_items: Annotated[int, typer.Option(min=0, help="Item rows shown.")] = 50) -> None:
        """Differences between two eval reports: metrics (regressions first), then per-item changes."""
        from scopebot.clitools import error_boundary, print_json

        with error_boundary():
            cmp = compare_reports(load_report(a), load_report(b), tolerance=tolerance,
                                  latency_tolerance=latency_tolerance, name_a=str(a), name_b=str(b))
        if markdown is not None:
            markdown.write_text(to_markdown(cmp, max_items=max(max_items, 200)), encoding="utf-8")
        if json_:
            print_json({**cmp.model_dump(), "regressions": len(cmp.regressions)})
        else:
            _print(cmp, max_items)
        if fail_on_regression and cmp.regressions:
            raise typer.Exit(1)
