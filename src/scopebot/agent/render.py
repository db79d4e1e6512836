"""Markdown renderings of turn payloads (chat transcripts, the UI, ``--json`` lines).

Payloads from other areas are rendered with those areas' own renderers when they are the real
types, and by duck typing otherwise, so fakes in tests and future payload types still display.
"""

from __future__ import annotations

from typing import Any

from scopebot.agent.models import ChitChatReply, Clarification, ForumResult, LoopAnswer, Refusal
from scopebot.answer.models import where_text


def check_badge(answer: Any) -> str:
    """'✓ 4/4 sentences supported' (or '⚠ 3/4 ...'), plus invalid citations and unknown names."""
    sentences = [s for s in getattr(answer, "sentences", []) or [] if not getattr(s, "removed", False)]
    checks = getattr(answer, "checks", None)
    if sentences:
        ok = sum(1 for s in sentences if getattr(s, "supported", False))
        total = len(sentences)
    elif checks is not None:
        total = int(getattr(checks, "sentences", 0) or 0)
        ok = total - len(getattr(checks, "unsupported_sentences", []) or [])
    else:
        return ""
    if total == 0:
        return ""
    parts = [f"{'✓' if ok == total else '⚠'} {ok}/{total} sentences supported"]
    invalid = int(getattr(checks, "invalid_citations", 0) or 0) if checks is not None else 0
    if invalid:
        parts.append(f"⚠ {invalid} invalid citation{'s' if invalid != 1 else ''} removed")
    unknown = list(getattr(checks, "unknown_entities", []) or []) if checks is not None else []
    if unknown:
        parts.append(f"⚠ unknown names: {', '.join(unknown[:5])}")
    return " · ".join(parts)


def references(citations: list[Any]) -> str:
    lines = []
    for c in citations:
        get = c.get if isinstance(c, dict) else (lambda k, _c=c: getattr(_c, k, ""))
        title, section, url = get("title") or get("key"), get("section"), get("url")
        where = where_text(title, section, get("part") or 0)
        lines.append(f"- [{get('n')}] {where}" + (f" <{url}>" if url else ""))
    return "**References**\n" + "\n".join(lines) if lines else ""


def answer_markdown(answer: Any) -> str:
    """An ``Answer`` with its numbered references and the check badge."""
    parts = [str(getattr(answer, "answer", "") or "")]
    refs = references(list(getattr(answer, "citations", []) or []))
    if refs:
        parts.append(refs)
    badge = "" if getattr(answer, "abstained", False) else check_badge(answer)
    if badge:
        parts.append(f"_{badge}_")
    return "\n\n".join(p for p in parts if p)


def code_markdown(result: Any) -> str:
    """A code result: the code, what it printed, figures/files and any error."""
    parts: list[str] = []
    code = str(getattr(result, "code", "") or "")
    if code:
        parts.append(f"```python\n{code.rstrip()}\n```")
    if getattr(result, "fallback_recipe", None):
        parts.append(f"_Used the tested recipe `{result.fallback_recipe}`._")
    if not getattr(result, "ran", False):
        parts.append("_The code was not run._")
    stdout = str(getattr(result, "stdout", "") or "").strip()
    if stdout:
        parts.append("**Output**\n```text\n" + stdout[-3000:] + "\n```")
    error = getattr(result, "error", None)
    if error:
        parts.append("**Error**\n```text\n" + str(error)[-2000:] + "\n```")
    figures = list(getattr(result, "figures", []) or [])
    files = list(getattr(result, "files", []) or [])
    if figures:
        parts.append("**Figures:** " + ", ".join(str(f) for f in figures))
    if files:
        parts.append("**Files:** " + ", ".join(str(f) for f in files))
    for note in getattr(result, "notes", []) or []:
        parts.append(f"_{note}_")
    return "\n\n".join(parts) or "_No code was produced._"


def tools_markdown(rec: Any) -> str:
    """A recommendation as cards (the tools area's renderer for the real type)."""
    try:
        from scopebot.tools.models import Recommendation
        from scopebot.tools.render import recommendation_markdown

        if isinstance(rec, Recommendation):
            return recommendation_markdown(rec)
    except ImportError:  # pragma: no cover - the tools area is part of the package
        pass
    results = getattr(rec, "results", []) or getattr(rec, "nearest", []) or []
    lines = [str(getattr(rec, "message", "") or "")]
    for i, r in enumerate(results, start=1):
        why = "; ".join(getattr(r, "why", []) or [])
        lines.append(f"{i}. **{r.name}** ({getattr(r, 'kind', 'tool')})" + (f" — {why}" if why else ""))
    return "\n".join(x for x in lines if x)


def forum_markdown(result: ForumResult) -> str:
    parts = []
    if result.message:
        parts.append(f"_{result.message}_")
    if result.answer is not None:
        parts.append(answer_markdown(result.answer))
    if result.hits:
        parts.append("**Forum threads**\n" + "\n".join(f"- [{h.title}]({h.url})" for h in result.hits))
    return "\n\n".join(parts)


def loop_markdown(result: LoopAnswer) -> str:
    parts = [result.answer]
    refs = references(result.citations)
    if refs:
        parts.append(refs)
    if not result.abstained:
        badge = check_badge(result)
        if badge:
            parts.append(f"_{badge}_")
    if result.note:
        parts.append(f"_{result.note}_")
    return "\n\n".join(p for p in parts if p)


def payload_markdown(kind: str, payload: Any) -> str:
    """The markdown shown for a turn of ``kind``."""
    if isinstance(payload, ChitChatReply | Refusal | Clarification):
        return payload.text
    if isinstance(payload, ForumResult):
        return forum_markdown(payload)
    if isinstance(payload, LoopAnswer):
        return loop_markdown(payload)
    if kind in ("answer", "abstention"):
        return answer_markdown(payload)
    if kind == "code":
        return code_markdown(payload)
    if kind == "tools":
        return tools_markdown(payload)
    return str(payload or "")
