"""A small invented index for the MCP server and Jupyter magic unit tests (hash embedder, scripted model)."""

from __future__ import annotations

from pathlib import Path

from scopebot.index.builder import IndexBuilder
from scopebot.index.embeddings import HashEmbedder
from scopebot.settings import Settings
from scopebot.sources.models import Section, SourceSpec

BOOK = SourceSpec(id="testbook", title="Test Book", kind="book", license="BSD-3", attribution="us",
                  url="https://example.org/book", subpath="book", parser="markdown", options={"label": "Book"})
BIII = SourceSpec(id="biii", title="Test registry", kind="registry", license="CC0", attribution="us",
                  url="https://example.org/reg", subpath="reg", parser="markdown")


def _book(title: str, text: str, chapter: str = "2 Restoration") -> Section:
    return Section(source_id=BOOK.id, kind="book", doc_title=chapter, path=[chapter, title],
                   anchor=title.lower().replace(" ", "-"), url=f"https://example.org/{chapter[0]}.html#{title[:4]}",
                   text=text)


def _tool(name: str, text: str, **meta: object) -> Section:
    return Section(source_id=BIII.id, kind="registry", doc_title=name, path=[name], anchor=name.lower(),
                   url=f"https://biii.example/{name.lower()}", text=text,
                   metadata={"name": name, "description": text, **meta})


SECTIONS = [
    _book("Denoising", "Self-supervised denoising such as Noise2Void learns to remove shot noise without clean "
                       "ground truth images. It trains on single noisy acquisitions taken at low laser power."),
    _book("Deconvolution", "Deconvolution reverses the blur of the microscope's point spread function with "
                           "iterative Richardson-Lucy updates."),
    _book("Segmentation", "Instance segmentation of nuclei gives every nucleus its own label; a watershed splits "
                          "touching objects.", chapter="3 Segmentation"),
]
TOOLS = [
    _tool("NucleoView3D", "Desktop application with a point-and-click interface that segments nuclei in 3D "
          "fluorescence stacks.", interface="gui", edam_operations=["Image segmentation"]),
    _tool("QuietPix", "Python package for denoising noisy fluorescence images with self-supervised networks.",
          interface="library", edam_operations=["Image denoising"]),
]


def small_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings for a temporary home holding the small index (built here)."""
    settings = Settings(home=tmp_path / "home", sources_dir=tmp_path / "no-sources", embedding_model="hash",
                        chunk_size=400, chunk_overlap=60, llm_backend="scripted", forum_live=False,
                        **overrides)  # type: ignore[arg-type]
    builder = IndexBuilder(settings, HashEmbedder())
    builder.ingest_sections(BOOK, SECTIONS)
    builder.ingest_sections(BIII, TOOLS)
    return settings
