"""Section-aware chunking: every chunk stays inside one section and carries its breadcrumb.

A section's text is split with LangChain's ``RecursiveCharacterTextSplitter`` (paragraphs first,
then lines, sentences, words) under a size cap with overlap; fenced code blocks are kept whole
when they fit. Each chunk's text starts with its breadcrumb line, e.g.
``Book › 6 Image Restoration › Denoising``, so both the dense and the lexical retriever see the
headings, and citations can show where the passage lives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from scopebot.citations import make_key
from scopebot.index.models import BREADCRUMB_SEP, Chunk
from scopebot.sources.models import Section, SourceSpec

_WS = re.compile(r"[ \t]+")
_BLANKS = re.compile(r"\n{3,}")


def source_label(spec: SourceSpec) -> str:
    """Short label of a source for breadcrumbs (``options.label`` or the title)."""
    return str(spec.options.get("label") or spec.title)


def breadcrumb_parts(label: str, section: Section) -> list[str]:
    parts = [label, section.doc_title]
    for p in section.path:
        if p and p != parts[-1]:
            parts.append(p)
    return [p.strip() for p in parts if p and p.strip()]


def normalise_text(text: str) -> str:
    lines = [_WS.sub(" ", ln).rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


class Chunker:
    """Splits sections into :class:`Chunk` records with stable keys."""

    def __init__(self, chunk_size: int = 900, chunk_overlap: int = 150) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        if chunk_overlap >= chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, keep_separator=True,
            separators=["\n```", "\n\n", "\n", ". ", "; ", ", ", " ", ""])

    def split_text(self, text: str) -> list[str]:
        text = normalise_text(text)
        if not text:
            return []
        if len(text) <= self.chunk_size:
            return [text]
        pieces = [p.strip() for p in self._splitter.split_text(text)]
        return [p for p in pieces if p]

    def chunk_section(self, spec: SourceSpec, section: Section) -> list[Chunk]:
        parts = breadcrumb_parts(source_label(spec), section)
        crumb = BREADCRUMB_SEP.join(parts)
        out: list[Chunk] = []
        for pos, body in enumerate(self.split_text(section.text)):
            key = make_key(section.kind, section.source_id, section.url, crumb, body)
            meta = dict(section.metadata)
            meta["path"] = list(section.path)
            meta["anchor"] = section.anchor
            out.append(Chunk(key=key, source_id=section.source_id, kind=section.kind, title=section.doc_title,
                             section=section.section_title, breadcrumb=crumb, url=section.url,
                             text=f"{crumb}\n{body}", position=pos, metadata=meta))
        return out

    def chunk_sections(self, spec: SourceSpec, sections: Iterable[Section]) -> Iterator[Chunk]:
        """Chunks of all sections; exact duplicates (same key) are dropped."""
        seen: set[str] = set()
        for section in sections:
            for chunk in self.chunk_section(spec, section):
                if chunk.key in seen:
                    continue
                seen.add(chunk.key)
                yield chunk
