"""Presenting recommendations: a rich table for the terminal and markdown cards for chat and the UI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.citations import format_citation
from scopebot.tools.models import Recommendation, ToolResult

if TYPE_CHECKING:
    from rich.console import RenderableType

LINK_ORDER = ("biii", "homepage", "bioimage.io", "git_repo", "documentation")


def _links(result: ToolResult) -> list[tuple[str, str]]:
    ordered = [(k, result.links[k]) for k in LINK_ORDER if k in result.links]
    ordered += [(k, v) for k, v in result.links.items() if k not in LINK_ORDER]
    return ordered


def interface_label(result: ToolResult) -> str:
    """'plugin (Fiji)', 'gui', 'model', or 'unknown'."""
    if result.kind == "model":
        return "model"
    label = result.interface or "unknown"
    return f"{label} ({result.platform})" if result.platform else label


def result_card(result: ToolResult, rank: int) -> str:
    """One recommendation as a markdown card."""
    flag = " ⚠ invalid Model Zoo entry" if result.validation.startswith("invalid") else ""
    lines = [f"### {rank}. {result.name}  ·  {result.kind}{flag}"]
    if result.description:
        desc = result.description if len(result.description) <= 280 else result.description[:277] + "…"
        lines.append(desc)
    if result.why:
        lines.append("**Why:** " + "; ".join(result.why))
    meta = [f"**Interface:** {interface_label(result)}", f"**License:** {result.license or 'not stated'}"]
    lines.append("  ·  ".join(meta))
    if result.inputs is not None:
        inp = result.inputs
        bits = []
        if inp.axes:
            bits.append("axes " + ", ".join(inp.axes))
        if inp.modality:
            bits.append("modality " + ", ".join(inp.modality))
        if inp.dims:
            bits.append("/".join(d.upper() for d in inp.dims))
        if inp.test_images:
            bits.append("test/cover images: " + ", ".join(inp.test_images[:3]))
        if bits:
            lines.append("**Inputs:** " + "; ".join(bits))
    if result.run_with:
        lines.append("**Run with:** " + "; ".join(result.run_with))
    if result.validation.startswith("invalid"):
        lines.append(f"**Validation:** {result.validation}")
    links = _links(result)
    if links:
        lines.append("**Links:** " + " · ".join(f"[{k}]({v})" for k, v in links))
    if result.citations:
        lines.append("**Discussed in:** " + "; ".join(
            f"{c.title} › {c.section} {format_citation(c.key)}" for c in result.citations))
    return "\n\n".join(lines)


def recommendation_markdown(rec: Recommendation) -> str:
    """The whole recommendation as markdown (chat answer / UI cards)."""
    if rec.nothing_fits:
        parts = [rec.message]
        parts += [result_card(r, i) for i, r in enumerate(rec.nearest, start=1)]
        return "\n\n---\n\n".join(parts)
    parts = [rec.message] + [result_card(r, i) for i, r in enumerate(rec.results, start=1)]
    return "\n\n---\n\n".join(parts)


def recommendation_table(rec: Recommendation) -> RenderableType:
    """A rich table of the results (or of the nearest entries when nothing fits)."""
    from rich.table import Table

    rows = rec.nearest if rec.nothing_fits else rec.results
    table = Table(title=rec.message, show_lines=True, expand=True)
    for col, kwargs in (("#", {"width": 3}), ("Tool", {"ratio": 2}), ("Why it fits", {"ratio": 4}),
                        ("Interface", {"ratio": 1}), ("License", {"ratio": 1}), ("Links & sources", {"ratio": 3})):
        table.add_column(col, **kwargs)  # type: ignore[arg-type]
    for i, r in enumerate(rows, start=1):
        name = f"[bold]{r.name}[/bold]\n{r.kind} · {r.score:.2f}"
        if r.validation.startswith("invalid"):
            name += "\n[red]invalid Model Zoo entry[/red]"
        why = "\n".join(f"• {w}" for w in r.why) or "-"
        if r.run_with:
            why += "\n[dim]run with: " + "; ".join(r.run_with) + "[/dim]"
        if r.inputs is not None and (r.inputs.axes or r.inputs.modality or r.inputs.dims):
            why += "\n[dim]inputs: " + ", ".join(r.inputs.axes + r.inputs.modality + r.inputs.dims) + "[/dim]"
        links = "\n".join(f"{k}: {v}" for k, v in _links(r))
        if r.citations:
            links += "\n" + "\n".join(f"{format_citation(c.key)} {c.title} › {c.section}" for c in r.citations)
        table.add_row(str(i), name, why, interface_label(r), r.license or "-", links or "-")
    return table
