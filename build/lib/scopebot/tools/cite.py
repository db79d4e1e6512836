"""Citations for tools: book and training passages that discuss a recommended tool."""

from __future__ import annotations

import re

from scopebot.index.protocols import Retriever
from scopebot.tools.catalog import normalise_name
from scopebot.tools.models import Citation

CITATION_KINDS = ["book", "training"]


def tool_citations(retriever: Retriever, name: str, *, limit: int = 2, candidates: int = 10) -> list[Citation]:
    """Up to ``limit`` book/training passages that mention ``name`` as a whole word.

    The retriever proposes passages for the name; only those whose text really contains it are
    kept (case-sensitive when the name is capitalised, so 'Fiji' does not match 'fiji' in a URL
    slug and generic lower-case words are not mistaken for tools). Names shorter than four
    letters are not cited at all: they match too much by accident.
    """
    if len(normalise_name(name)) < 4:
        return []
    flags = 0 if any(ch.isupper() for ch in name) else re.IGNORECASE
    pattern = re.compile(r"(?<![\w-])" + re.escape(name.strip()) + r"(?![\w-])", flags)
    try:
        hits = retriever.search(name, k=candidates, kinds=CITATION_KINDS)
    except Exception:  # noqa: BLE001 - citations are optional decoration of a result
        return []
    out: list[Citation] = []
    for hit in hits:
        c = hit.chunk
        if c.kind in CITATION_KINDS and pattern.search(c.body):
            out.append(Citation(key=c.key, title=c.title, section=c.section, url=c.url, source=c.source_id))
        if len(out) >= limit:
            break
    return out
