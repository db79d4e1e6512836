"""Rendering: raw citation keys become numbered references; answers become markdown or rich output."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scopebot.answer.models import Answer, Citation
from scopebot.citations import CITATION_RE

if TYPE_CHECKING:
    from scopebot.answer.context import ContextPassage


def number_citations(text: str, passages: Mapping[str, ContextPassage]) -> tuple[str, list[Citation]]:
    """Replace ``[key]`` by ``[n]`` in order of first use; return the text and the references."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in passages:
            return ""
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations.append(passages[key].citation(numbers[key]))
        return f"[{numbers[key]}]"

    numbered = CITATION_RE.sub(replace, text)
    _number_parts(citations)
    numbered = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", numbered)  # "[1] [1]" -> "[1]"
    numbered = re.sub(r"\]\s+\[(\d+)\]", r"][\1]", numbered)   # "[1] [2]" -> "[1][2]"
    numbered = re.sub(r"[ \t]+([.,;:!?])", r"\1", numbered)      # space left by a dropped key
    return numbered, citations


def _number_parts(citations: Sequence[Citation]) -> None:
    """Chunk-level citations: two passages of one section stay two references, told apart as
    "(passage 1)" and "(passage 2)" instead of two identical lines."""
    groups: dict[tuple[str, str, str], list[Citation]] = {}
    for c in citations:
        groups.setdefault((c.title, c.section, c.url), []).append(c)
    for group in groups.values():
        if len(group) > 1:
            for i, c in enumerate(group, start=1):
                c.part = i


def reference_line(c: Citation) -> str:
    return f"[{c.n}] {c.where}" + (f" <{c.url}>" if c.url else "")


def to_markdown(answer: Answer, *, with_checks: bool = True) -> str:
    """The answer with a numbered reference list and the check badge (for chat UIs and plain output)."""
    parts = [answer.answer]
    if answer.citations:
        parts.append("**References**\n" + "\n".join(f"- {reference_line(c)}" for c in answer.citations))
    if with_checks and not answer.abstained:
        parts.append(f"_{answer.checks.badge()}_")
    return "\n\n".join(parts)


def abstained_text(reason: str, closest: Sequence[Citation]) -> str:
    """The abstention answer: the fixed phrase, why, and the closest sources as a list."""
    from scopebot.citations import NOT_IN_SOURCES

    text = NOT_IN_SOURCES
    if reason:
        text += f" (Reason: {reason}.)"
    if closest:
        text += "\n\nThe closest sources I found, which may still help:\n" + "\n".join(
            f"- {c.where}" + (f" <{c.url}>" if c.url else "") for c in closest)
    return text


def print_rich(answer: Answer, console: Any = None) -> None:
    """Render an answer in the terminal: text, numbered references with links, a check badge line."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.text import Text

    console = console or Console()
    console.print(Markdown(answer.answer.split("\n\nThe closest sources")[0]))
    if answer.abstained and answer.closest_sources:
        console.print(Text("\nClosest sources:", style="bold"))
        for c in answer.closest_sources:
            console.print(Text(f"  • {reference_line(c)[len(f'[{c.n}] '):]}"), soft_wrap=True)
    if answer.citations:
        console.print(Text("\nReferences", style="bold"))
        for c in answer.citations:
            line = Text(f"  [{c.n}] ", style="bold cyan")
            line.append(c.where)
            if c.url:
                line.append("\n      ")
                line.append(c.url, style=f"link {c.url} dim")
            console.print(line, soft_wrap=True)  # a long link stays one line, so it can be copied whole
    style = "green" if answer.checks.ok else "yellow"
    if not answer.abstained:
        console.print(Text("\n" + answer.checks.badge(), style=style))
    if answer.checks.unsupported_sentences and not answer.checks.strict:
        console.print(Text("unsupported (flagged): " + " | ".join(answer.checks.unsupported_sentences[:3]),
                           style="yellow"))
    console.print(Text(f"{answer.backend} · {answer.mode} · {answer.timings.total_ms:.0f} ms", style="dim"))
