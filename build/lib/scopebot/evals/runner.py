"""The one eval runner: items in, per-item results with timings out, resumable, with gates.

A suite supplies a list of items (each with an ``id``) and a function scoring one item into an
:class:`ItemResult`. The runner shows a progress bar with ETA, appends every finished item to
``partial.jsonl`` in the output directory (so an interrupted run resumes where it stopped), and
returns an :class:`EvalReport` that :mod:`scopebot.evals.report` renders as JSON, Markdown and plots.
"""

from __future__ import annotations

import json
import statistics
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from scopebot.errors import ConfigurationError


class ItemResult(BaseModel):
    """What happened on one eval item: inputs, outputs, metric values and timing."""

    id: str
    inputs: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    passed: bool | None = None
    seconds: float = 0.0
    error: str | None = None


class Gate(BaseModel):
    metric: str
    minimum: float
    value: float | None = None
    ok: bool = False


class EvalReport(BaseModel):
    suite: str
    dataset: str = ""
    dataset_version: str = ""
    backend: str = ""
    started_at: str = ""
    seconds: float = 0.0
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    items: list[ItemResult] = Field(default_factory=list)
    gates: list[Gate] = Field(default_factory=list)

    @property
    def gates_ok(self) -> bool:
        return all(g.ok for g in self.gates)


def mean_metrics(items: Sequence[ItemResult], names: Sequence[str] | None = None) -> dict[str, float]:
    """Mean of each metric over the items that report it, plus latency p50/p95."""
    keys = names or sorted({k for it in items for k in it.metrics})
    out: dict[str, float] = {}
    for k in keys:
        vals = [it.metrics[k] for it in items if k in it.metrics]
        if vals:
            out[k] = round(sum(vals) / len(vals), 4)
    secs = sorted(it.seconds for it in items)
    if secs:
        out["latency_p50_s"] = round(statistics.median(secs), 4)
        out["latency_p95_s"] = round(secs[min(len(secs) - 1, int(0.95 * len(secs)))], 4)
    out["items"] = float(len(items))
    out["errors"] = float(sum(1 for it in items if it.error))
    return out


def parse_gates(specs: Sequence[str] | None) -> list[Gate]:
    """``["recall@5=0.9", "mrr=0.7"]`` → gates; malformed specs are usage errors."""
    gates = []
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            gates.append(Gate(metric=name.strip(), minimum=float(value)))
        except ValueError:
            raise ConfigurationError(f"Bad gate {spec!r}", hint="write --min metric=value, e.g. --min recall@5=0.9") from None
    return gates


def apply_gates(report: EvalReport, gates: Sequence[Gate]) -> EvalReport:
    checked = []
    for g in gates:
        if g.metric not in report.metrics:
            raise ConfigurationError(f"Unknown metric {g.metric!r} for suite {report.suite}",
                                     hint=f"available: {', '.join(sorted(report.metrics))}")
        value = report.metrics[g.metric]
        checked.append(Gate(metric=g.metric, minimum=g.minimum, value=value, ok=value >= g.minimum))
    report.gates = checked
    return report


class Runner:
    """Runs one suite's items with progress, resume and error capture."""

    def __init__(self, out_dir: Path, *, progress: bool = True, resume: bool = True,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.out_dir = out_dir
        self.progress = progress
        self.resume = resume
        self.clock = clock

    def run(self, suite: str, items: Sequence[Any], score: Callable[[Any], ItemResult],
            item_id: Callable[[Any], str] = lambda it: str(it.id)) -> tuple[list[ItemResult], float]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        partial = self.out_dir / "partial.jsonl"
        done: dict[str, ItemResult] = {}
        if self.resume and partial.is_file():
            for line in partial.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    r = ItemResult.model_validate_json(line)
                    done[r.id] = r
        t0 = self.clock()
        todo = [it for it in items if item_id(it) not in done]
        with partial.open("a", encoding="utf-8") as fh:
            for item in self._iter(todo, suite, len(done), len(items)):
                start = self.clock()
                try:
                    result = score(item)
                except Exception as exc:  # one broken item must not end the run
                    result = ItemResult(id=item_id(item), error=f"{type(exc).__name__}: {exc}",
                                        outputs={"traceback": traceback.format_exc(limit=3)}, passed=False)
                if not result.seconds:
                    result.seconds = round(self.clock() - start, 4)
                done[result.id] = result
                fh.write(result.model_dump_json() + "\n")
                fh.flush()
        ordered = [done[item_id(it)] for it in items if item_id(it) in done]
        return ordered, self.clock() - t0

    def _iter(self, todo: Sequence[Any], suite: str, already: int, total: int) -> Any:
        if not self.progress or not todo:
            yield from todo
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn(f"eval {suite}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=Console(stderr=True)) as prog:
            task = prog.add_task(suite, total=total, completed=already)
            for item in todo:
                yield item
                prog.advance(task)


def new_report(suite: str, **fields: Any) -> EvalReport:
    return EvalReport(suite=suite, started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields)


def default_out_dir(home: Path, suite: str) -> Path:
    return home / "evals" / f"{suite}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}"


def load_report(path: Path) -> EvalReport:
    p = path / "report.json" if path.is_dir() else path
    if not p.is_file():
        raise ConfigurationError(f"No eval report at {path}", hint="pass a report.json or its folder")
    return EvalReport.model_validate(json.loads(p.read_text(encoding="utf-8")))
