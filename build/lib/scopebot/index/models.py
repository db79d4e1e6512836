"""Records stored in and returned by the index."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

BREADCRUMB_SEP = " › "


class Chunk(BaseModel):
    """One retrievable passage with its citation key and deep link."""

    key: str = Field(description="Stable citation key, e.g. 'bk-3f9a2c1d'.")
    source_id: str
    kind: str
    title: str = Field(description="Document title (chapter, tool, lesson, model).")
    section: str = Field(description="Most specific section heading.")
    breadcrumb: str = Field(description="Source › Document › Section path shown to users.")
    url: str = Field(description="Deep link (page + anchor).")
    text: str = Field(description="Passage text, starting with the breadcrumb line.")
    position: int = Field(default=0, description="Order of the chunk inside its section.")
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def body(self) -> str:
        """The passage without its breadcrumb header line."""
        head, sep, rest = self.text.partition("\n")
        return rest if sep and BREADCRUMB_SEP in head else self.text

    @property
    def path(self) -> list[str]:
        return list(self.metadata.get("path", []))


class SearchResult(BaseModel):
    """A chunk with the scores that ranked it."""

    chunk: Chunk
    score: float = Field(description="Fused relevance score (higher is better).")
    dense_score: float | None = Field(default=None, description="Cosine similarity to the query.")
    lexical_score: float | None = Field(default=None, description="BM25 score.")
    rank: int = 0

    def to_json(self) -> dict[str, Any]:
        c = self.chunk
        return {"key": c.key, "source": c.source_id, "kind": c.kind, "title": c.title,
                "section": c.section, "breadcrumb": c.breadcrumb, "url": c.url,
                "score": round(self.score, 6),
                "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
                "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 6),
                "text": c.text}
