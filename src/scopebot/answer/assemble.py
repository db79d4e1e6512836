"""Assembling the verified answer: the kept sentences put back into the layout they came in (the
extractive lines with their list markers and side headers, or the model's paragraphs, lists and code)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from scopebot.answer.models import SentenceCheck
from scopebot.answer.text import split_sentences


def assemble_answer(sources: dict[str, str], kept: Sequence[tuple[str, SentenceCheck]],
              cited_as: dict[str, str] | None = None) -> str:
    """The verified answer: the model's lead (if any), the computed result (if any), then the extractive
    lines (their layout kept) or the model's text, with removed sentences taken out. ``cited_as`` gives
    a kept sentence that had no key as it is shown (with the key of the passage that supports it)."""
    cited_as = cited_as or {}
    shown = [(cited_as.get(raw, raw), v) for raw, v in kept]
    lead = " ".join(raw for raw, v in shown if v.source == "model")
    computed = " ".join(raw for raw, v in shown if v.source == "computed")
    if sources["extractive"].strip():
        body = _keep_lines(sources["extractive"], {raw for raw, v in kept if v.source == "extractive"}, cited_as)
        return "\n\n".join(x for x in (lead, computed, body) if x)
    model = _rebuild_model_text(sources["model"], [(r, v) for r, v in shown if v.source == "model"])
    return "\n\n".join(x for x in (computed, model) if x)


_MARKER_RE = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")


def _keep_lines(text: str, keep: set[str], cited_as: dict[str, str] | None = None) -> str:
    """``text`` with only the kept sentences; list markers kept (numbers renumbered), blocks left with
    nothing but their header ("**Cellpose**:") dropped."""
    blocks = []
    for block in text.split("\n\n"):
        lines: list[str] = []
        n = 0
        for line in block.split("\n"):
            sentences = [(cited_as or {}).get(s, s) for s in split_sentences(line) if s in keep]
            if not sentences:
                continue
            m = _MARKER_RE.match(line)
            marker = ""
            if m:
                n += m.group(2)[0].isdigit()
                marker = f"{m.group(1)}{n}. " if m.group(2)[0].isdigit() else f"{m.group(1)}{m.group(2)} "
            lines.append(marker + " ".join(sentences))
        if any(not ln.rstrip().endswith(":") for ln in lines):
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _rebuild_model_text(text: str, kept: Sequence[tuple[str, SentenceCheck]]) -> str:
    """Keep the model's layout (paragraphs, lists, code) while dropping removed sentences."""
    from scopebot.answer.citations_check import check_citations as _clean

    cleaned = _clean(text, {k for _, v in kept for k in v.keys} | _keys_in(kept)).text
    kept_raw = [raw for raw, _ in kept]
    lines_out: list[str] = []
    in_code = False
    for line in cleaned.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
        if in_code or line.strip().startswith("```") or not line.strip():
            lines_out.append(line)
            continue
        sentences = split_sentences(line)
        prefix = line[: len(line) - len(line.lstrip())]
        bullet = ""
        stripped = line.strip()
        for marker in ("- ", "* ", "+ "):
            if stripped.startswith(marker):
                bullet = marker
        out = []
        for s in sentences:
            match = next((raw for raw in kept_raw if raw == s or raw.startswith(s)), None)
            if match is not None:
                out.append(match)
        if out:
            lines_out.append(prefix + bullet + " ".join(out))
    return "\n".join(lines_out).strip()


def _keys_in(kept: Sequence[tuple[str, SentenceCheck]]) -> set[str]:
    from scopebot.citations import find_citations

    return {k for raw, _ in kept for k in find_citations(raw)}


def is_code(raw: str) -> bool:
    return raw.strip().startswith("`")
