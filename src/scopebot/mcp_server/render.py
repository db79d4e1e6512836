"""Markdown for the typed results: what an MCP client's model reads and what a notebook shows."""

from __future__ import annotations

from scopebot.answer.models import where_text
from scopebot.mcp_server.models import (
    AnalysisOutput,
    AskOutput,
    CitationOut,
    ForumOutput,
    Passage,
    RunOutput,
    SearchOutput,
)


def _ref(c: CitationOut) -> str:
    where = where_text(c.title, c.section, c.part)
    link = f" <{c.url}>" if c.url else ""
    return f"- [{c.n}] {where}{link} `[{c.key}]`"


def check_report_markdown(out: AskOutput) -> str:
    """The hallucination-check report as a short Markdown block."""
    ch = out.checks
    lines = [f"**Check report:** {out.check_summary or ch.badge()}"]
    if ch.evidence is not None:
        lines.append(f"- evidence score: {ch.evidence:.2f}")
    if ch.unsupported_sentences:
        lines.append("- flagged as unsupported: " + "; ".join(f"“{s}”" for s in ch.unsupported_sentences[:5]))
    if ch.unknown_entities:
        lines.append("- names found in no source or registry: " + ", ".join(ch.unknown_entities[:10]))
    return "\n".join(lines)


def ask_markdown(out: AskOutput) -> str:
    """The answer, its numbered references (with citation keys) and the check report."""
    parts = [out.answer.strip()]
    if out.citations:
        parts.append("**References**\n" + "\n".join(_ref(c) for c in out.citations))
    if out.abstained:
        parts.append(f"_Abstained{': ' + out.abstain_reason if out.abstain_reason else ''}._")
    parts.append(check_report_markdown(out))
    return "\n\n".join(p for p in parts if p)


def passage_markdown(p: Passage, n: int | None = None) -> str:
    head = f"{n}. " if n is not None else ""
    link = f" <{p.url}>" if p.url else ""
    return f"{head}**{p.breadcrumb or p.title}** `[{p.key}]`{link}\n\n{p.text.strip()}"


def search_markdown(out: SearchOutput) -> str:
    if not out.results:
        return f"No passages found for “{out.query}”."
    return "\n\n".join(passage_markdown(p, i) for i, p in enumerate(out.results, start=1))


def forum_markdown(out: ForumOutput) -> str:
    if not out.reachable:
        return out.message or "The image.sc forum is not reachable."
    body = "\n\n".join(passage_markdown(p, i) for i, p in enumerate(out.results, start=1))
    head = out.message + "\n\n" if out.message else ""
    return head + (body or f"No forum topics found for “{out.query}”.")


def run_markdown(out: RunOutput) -> str:
    parts = []
    if out.stdout:
        parts.append("**stdout**\n```\n" + out.stdout.rstrip() + "\n```")
    if out.stderr:
        parts.append("**stderr**\n```\n" + out.stderr.rstrip() + "\n```")
    if out.traceback or out.error:
        parts.append("**error**\n```\n" + (out.traceback or out.error or "").rstrip() + "\n```")
    parts += [f"figure: {f}" for f in out.figures] + [f"file: {f}" for f in out.files]
    status = "ok" if out.ok else "failed"
    extra = (f", limit hit: {out.limit_hit}" if out.limit_hit else "") + (
        f", refused: {out.violation}" if out.violation else "")
    parts.append(f"_{status} in {out.duration_s:.2f} s{extra}; isolation: {', '.join(out.isolation)}_")
    return "\n\n".join(parts)


def analysis_markdown(out: AnalysisOutput) -> str:
    status = {"answered": "**Answered** (the run printed every quantity the plan promised)",
              "not_answered": "**Not answered** (ok: false)",
              "declined": "**Not answered: declined** (nothing was run)",
              "not_run": "**Not run** (ok: false: nothing was answered yet)"}[out.status]
    parts = [status]
    if out.plan_text:
        parts.append("**Plan**\n" + out.plan_text)
    if out.code.strip():
        parts.append("```python\n" + out.code.rstrip() + "\n```")
    if out.image:
        parts.append("image: " + ", ".join(f"{k}={v}" for k, v in out.image.items()))
    if out.checks is not None:
        parts.append("**Static checks:** " + out.checks.to_text())
    if out.ran and out.stdout:
        parts.append("**Output**\n```\n" + out.stdout.rstrip() + "\n```")
    if out.error:
        parts.append("**Error**\n```\n" + out.error.rstrip() + "\n```")
    parts += [f"figure: {f}" for f in out.figures]
    if out.ran and out.isolation:
        parts.append("isolation: " + ", ".join(out.isolation))
    if out.answer:
        parts.append("**Answer (checked against the plan):** " + "; ".join(out.answer))
    if out.recipe:
        parts.append(f"From the tested recipe '{out.recipe}'.")
    parts += [f"_note: {n}_" for n in out.notes]
    return "\n\n".join(parts)
