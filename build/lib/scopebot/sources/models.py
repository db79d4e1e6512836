"""Data records produced by the source parsers and consumed by the index."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

SourceKind = Literal["book", "registry", "model-zoo", "training", "forum"]
SOURCE_KINDS: tuple[str, ...] = ("book", "registry", "model-zoo", "training", "forum")


class SourceSpec(BaseModel):
    """One entry of ``knowledge/sources.yaml``."""

    id: str = Field(description="Stable identifier, e.g. 'janelia-book'.")
    title: str = Field(description="Human-readable name of the source.")
    kind: SourceKind = Field(description="Source kind, used for filtering and citation prefixes.")
    license: str = Field(description="License of the source text.")
    attribution: str = Field(description="Who to credit when citing.")
    url: str = Field(description="Canonical URL of the source (site or repository).")
    revision: str = Field(default="", description="Pinned revision (commit or date) of the offline copy.")
    subpath: str = Field(description="Path below the sources directory.")
    parser: str = Field(description="Name of the parser in scopebot.sources.parsers.")
    download_url: str = Field(default="", description="Where to fetch the pinned copy when online.")
    weight: float = Field(default=1.0, gt=0, le=2,
                          description="Retrieval prior multiplied into the fused score: >1 for curated primary "
                                      "text (the book), <1 for catalog entries that only point elsewhere.")
    options: dict[str, Any] = Field(default_factory=dict, description="Parser-specific options.")


class Section(BaseModel):
    """A piece of a source with a place in its hierarchy: the unit that chunking splits.

    ``path`` is the heading hierarchy *below* the source title, e.g. ``["6 Image Restoration",
    "Denoising"]``; the breadcrumb shown to users is ``source_label › path...``.
    """

    source_id: str
    kind: SourceKind
    doc_title: str = Field(description="Title of the document (chapter, tool, lesson, entry).")
    path: list[str] = Field(default_factory=list, description="Heading hierarchy inside the document.")
    anchor: str = Field(default="", description="Section anchor (without '#').")
    url: str = Field(description="Deep link to this section (page + anchor).")
    text: str = Field(description="Cleaned text of the section (code blocks kept).")
    metadata: dict[str, Any] = Field(default_factory=dict,
                                     description="Extra fields (tags, license, EDAM terms, authors...). "
                                                 "Values must be JSON-serialisable.")

    @property
    def section_title(self) -> str:
        return self.path[-1] if self.path else self.doc_title
