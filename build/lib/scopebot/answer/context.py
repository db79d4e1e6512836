"""The context handed to the model and to the checks: numbered passages with their citation keys.

Each retrieved passage is cleaned (breadcrumb line, markdown noise removed) and sanitised: sentences
that address the assistant are replaced by a neutral marker (:mod:`scopebot.answer.injection`), so
the model never reads them as instructions, and the passage key is reported in the check report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scopebot.answer.injection import remove_instructions
from scopebot.answer.models import Citation
from scopebot.answer.text import clean_markdown
from scopebot.index.models import SearchResult

#: Characters of one passage given to the model (SmolLM2 has a 2k-token window).
MAX_PASSAGE_CHARS = 1200


@dataclass
class ContextPassage:
    """One passage of the context, in rank order (``n`` starts at 1)."""

    n: int
    result: SearchResult
    text: str
    instructions: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.result.chunk.key

    def citation(self, n: int | None = None, snippet_chars: int = 240) -> Citation:
        c = self.result.chunk
        snippet = self.text[:snippet_chars].rsplit(" ", 1)[0] + ("…" if len(self.text) > snippet_chars else "")
        return Citation(n=n or self.n, key=c.key, title=c.title, section=c.section, breadcrumb=c.breadcrumb,
                        url=c.url, source_id=c.source_id, snippet=snippet)


def merge_results(primary: Sequence[SearchResult], extra: Iterable[SearchResult] | None) -> list[SearchResult]:
    """``primary`` then the ``extra`` results (e.g. live forum hits) whose keys are new."""
    seen = {r.chunk.key for r in primary}
    out = list(primary)
    for r in extra or []:
        if r.chunk.key not in seen:
            seen.add(r.chunk.key)
            out.append(r)
    return out


def build_context(results: Sequence[SearchResult]) -> list[ContextPassage]:
    """Clean and sanitise every result, keeping the retrieval order."""
    passages = []
    for i, r in enumerate(results, start=1):
        cleaned = clean_markdown(r.chunk.body)
        sanitised, found = remove_instructions(cleaned)
        passages.append(ContextPassage(n=i, result=r, text=sanitised, instructions=found))
    return passages


def format_passages(passages: Sequence[ContextPassage], max_chars: int = MAX_PASSAGE_CHARS) -> str:
    """The passages as the prompt shows them: key, title and section, then the text."""
    blocks = []
    for p in passages:
        c = p.result.chunk
        head = f"[{c.key}] {c.title}" + (f" — {c.section}" if c.section and c.section != c.title else "")
        text = p.text if len(p.text) <= max_chars else p.text[:max_chars].rsplit(" ", 1)[0] + " …"
        blocks.append(f"{head}\n{text}")
    return "\n\n".join(blocks)
