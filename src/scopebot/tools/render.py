"""Presenting recommendations: a rich table for the terminal and markdown cards for chat and the UI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    # headers stay whole (min_width); links are named here and printed whole under the table
    for col, kwargs in (("#", {"width": 3}), ("Tool", {"ratio": 2, "overflow": "fold"}),
                        ("Why it fits", {"ratio": 4, "overflow": "fold"}),
                        ("Interface", {"width": 10, "overflow": "fold"}), ("License", {"width": 9, "overflow": "fold"}),
                        ("Links & sources", {"ratio": 3, "overflow": "fold"})):
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
        links = "\n".join(f"{k} ({_label(i, j, len(_links(r)))})" for j, (k, _) in enumerate(_links(r)[:10]))
        if r.citations:
            links += "\n" + "\n".join(f"{format_citation(c.key)} {c.title} › {c.section}" for c in r.citations)
        table.add_row(str(i), name, why, interface_label(r), r.license or "-", links or "-")
    return table


def _label(row: int, index: int, count: int) -> str:
    """'3' for a row's only link, '3a', '3b', ... for several."""
    return f"{row}{'abcdefghij'[index] if count > 1 else ''}"


def recommendation_links(rec: Recommendation) -> list[tuple[str, str]]:
    """(label, URL) of every link in the table, labelled as the table names them ('1a homepage')."""
    rows = rec.nearest if rec.nothing_fits else rec.results
    out: list[tuple[str, str]] = []
    for i, r in enumerate(rows, start=1):
        links = _links(r)[:10]
        for j, (k, url) in enumerate(links):
            out.append((f"{_label(i, j, len(links))} {r.name} {k}", url))
    return out


def print_recommendation(console: Any, rec: Recommendation) -> None:
    """The table, then its links one per line, whole (never cut or wrapped by the console) and clickable."""
    from rich.text import Text

    if not rec.results and not rec.nearest and rec.message:  # nothing to tabulate: the reason alone
        console.print(rec.message)
        return
    console.print(recommendation_table(rec))
    links = recommendation_links(rec)
    if links:
        console.print("Links:")
    for label, url in links:
        line = Text(f"  {label}: ")
        line.append(url, style=f"link {url}")
        console.print(line, soft_wrap=True, crop=False)
