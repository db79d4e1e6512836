"""Rendering eval reports: ``report.json`` (machine), ``report.md`` (human) and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

from scopebot.evals.runner import EvalReport

MAX_MD_ITEMS = 400


def write_report(report: EvalReport, out_dir: Path, *, plots: bool = True) -> list[Path]:
    """Write the report files into ``out_dir``; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "report.json", out_dir / "report.md"]
    written[0].write_text(json.dumps(report.model_dump(), indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    written[1].write_text(render_markdown(report), encoding="utf-8")
    if plots:
        written.extend(write_plots(report, out_dir))
    return written


def render_markdown(report: EvalReport) -> str:
    lines = [f"# Eval `{report.suite}`", "",
             f"- dataset: `{report.dataset}` {report.dataset_version}",
             f"- backend: {report.backend or '-'}", f"- started: {report.started_at}",
             f"- duration: {report.seconds:.1f} s", ""]
    if report.config:
        lines += ["Configuration: " + ", ".join(f"{k}={v}" for k, v in report.config.items()), ""]
    lines += ["| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.4g} |" for k, v in report.metrics.items()]
    if report.gates:
        lines += ["", "| gate | minimum | value | ok |", "|---|---|---|---|"]
        lines += [f"| {g.metric} | {g.minimum} | {g.value} | {'✅' if g.ok else '❌'} |" for g in report.gates]
    failed = [it for it in report.items if it.passed is False or it.error]
    lines += ["", f"## Items ({len(report.items)}; {len(failed)} not passed)", "",
              "| id | passed | metrics | seconds | detail |", "|---|---|---|---|---|"]
    for it in (failed + [i for i in report.items if i not in failed])[:MAX_MD_ITEMS]:
        metrics = ", ".join(f"{k}={v:.3g}" for k, v in it.metrics.items())
        detail = (it.error or _short(it.outputs)).replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {it.id} | {'' if it.passed is None else ('yes' if it.passed else 'no')} | {metrics} | "
                     f"{it.seconds:.3f} | {detail} |")
    return "\n".join(lines) + "\n"


def _short(outputs: dict) -> str:
    for key in ("summary", "answer", "top", "results", "route"):
        if key in outputs:
            return str(outputs[key])
    return ""


def write_plots(report: EvalReport, out_dir: Path) -> list[Path]:
    """Per-suite scores, per-item results and latency distribution as PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    scores = {k: v for k, v in report.metrics.items()
              if 0.0 <= v <= 1.0 and not k.startswith(("latency", "items", "errors"))}
    if scores:
        fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(scores) + 2), 3.5))
        ax.bar(list(scores), list(scores.values()), color="#3b7dd8")
        for g in report.gates:
            if g.metric in scores:
                ax.hlines(g.minimum, list(scores).index(g.metric) - 0.4, list(scores).index(g.metric) + 0.4,
                          colors="red", linestyles="--")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{report.suite}: scores")
        ax.tick_params(axis="x", rotation=30)
        fig.tight_layout()
        paths.append(out_dir / "scores.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    main = next(iter(scores), None)
    if main and report.items:
        vals = [it.metrics.get(main, 0.0) for it in report.items]
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.bar(range(len(vals)), vals, color=["#2a9d8f" if v >= 0.5 else "#e76f51" for v in vals])
        ax.set_xlabel("item")
        ax.set_ylabel(main)
        ax.set_title(f"{report.suite}: per-item {main}")
        fig.tight_layout()
        paths.append(out_dir / "items.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    secs = [it.seconds for it in report.items]
    if secs:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(secs, bins=min(30, max(5, len(secs) // 3)), color="#6c757d")
        ax.set_xlabel("seconds per item")
        ax.set_title(f"{report.suite}: latency")
        fig.tight_layout()
        paths.append(out_dir / "latency.png")
        fig.savefig(paths[-1], dpi=100)
        plt.close(fig)
    return paths
