"""Parser for NEUBIAS training-resources modules (Jekyll pages with rich YAML front matter).

A module page ``_modules/<module>.md`` becomes:

* an overview section (title, prerequisites, learning objectives, motivation, figure legend),
* activity / exercise sections (the front-matter prefaces plus the Markdown activity texts
  referenced from ``_includes/``; scripts are not indexed),
* an assessment section with questions and their solutions,
* the sections of the page body (kramdown anchors).

Options: ``base_url`` (default ``https://neubias.github.io/training-resources``),
``modules_dir`` (``_modules``) and ``includes_dir`` (``_includes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.common import read_markdown_file, sections_from_raw, select_files
from scopebot.sources.parsers.markdown import clean_title, split_markdown
from scopebot.sources.text import clean_inline, normalize_ws, read_text


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _md_inline(value: Any) -> str:
    return normalize_ws(clean_inline(str(value)))


def overview_text(meta: dict[str, Any]) -> str:
    """Readable overview of a module from its front matter."""
    parts: list[str] = []
    prereq = [_md_inline(p) for p in _as_list(meta.get("prerequisites")) if p]
    if prereq:
        parts.append("Prerequisites: " + "; ".join(prereq) + ".")
    objectives = [_md_inline(o) for o in _as_list(meta.get("objectives")) if o]
    if objectives:
        parts.append("Learning objectives:\n" + "\n".join(f"- {o}" for o in objectives))
    if meta.get("motivation"):
        parts.append("Motivation: " + _md_inline(meta["motivation"]))
    if meta.get("figure_legend"):
        parts.append("Figure: " + _md_inline(meta["figure_legend"]))
    keypoints = [_md_inline(k) for k in _as_list(meta.get("keypoints")) if k]
    if keypoints:
        parts.append("Key points:\n" + "\n".join(f"- {k}" for k in keypoints))
    nxt = [_md_inline(n) for n in _as_list(meta.get("learn_next")) if n]
    if nxt:
        parts.append("Learn next: " + "; ".join(nxt) + ".")
    return "\n\n".join(parts)


class _Module:
    """Builds the sections of one module page."""

    def __init__(self, spec: SourceSpec, report: ParseReport, includes: Path, page: str, title: str,
                 rel: str) -> None:
        self.spec, self.report, self.includes = spec, report, includes
        self.page, self.title, self.rel = page, title, rel

    def section(self, path: list[str], text: str, anchor: str = "", line: int | None = None) -> Section:
        meta: dict[str, Any] = {"file": self.rel, "module": self.title}
        if line:
            meta["line"] = line
        return Section(source_id=self.spec.id, kind=self.spec.kind, doc_title=self.title,
                       path=[self.title, *path], anchor=anchor,
                       url=f"{self.page}#{anchor}" if anchor else self.page, text=text, metadata=meta)

    def markdown(self, path: list[str], text: str) -> Iterator[Section]:
        """Sections of a Markdown string (front-matter block) below ``path``; anchors are not linked."""
        _h1, raw = split_markdown(text, scheme="kramdown", first_h1_is_title=False)
        for r in raw:
            yield self.section([*path, *r.titles], r.text)

    def include(self, path: list[str], rel_file: str) -> Iterator[Section]:
        """Sections of an activity/exercise Markdown file from ``_includes``; scripts are skipped."""
        if not str(rel_file).endswith(".md"):
            return
        file = self.includes / rel_file
        if not file.is_file():
            self.report.problem(f"activity file {rel_file} referenced by module {self.title!r} is missing",
                                path=file)
            return
        self.report.files_read += 1
        _h1, raw = split_markdown(read_text(file), scheme="kramdown", first_h1_is_title=False)
        for r in raw:
            yield self.section([*path, *r.titles], r.text, anchor=r.anchor if r.titles else "")

    def activities(self, meta: dict[str, Any]) -> Iterator[Section]:
        if meta.get("activity_preface"):
            yield from self.markdown(["Activities"], str(meta["activity_preface"]))
        for item in _as_list(meta.get("activities")):
            if isinstance(item, list) and len(item) >= 2:
                yield from self.include(["Activities", clean_title(str(item[0]))], str(item[1]))
        for n, item in enumerate(_as_list(meta.get("multiactivities")), 1):
            if not (isinstance(item, list) and item):
                continue
            base = ["Activities", f"Activity {n}"]
            yield from self.include(base, str(item[0]))
            for impl in item[1] if len(item) > 1 and isinstance(item[1], list) else []:
                if isinstance(impl, list) and len(impl) >= 2:
                    yield from self.include([*base, clean_title(str(impl[0]))], str(impl[1]))
        if meta.get("exercise_preface"):
            yield from self.markdown(["Exercises"], str(meta["exercise_preface"]))
        for item in _as_list(meta.get("exercises")):
            if isinstance(item, list) and len(item) >= 2:
                yield from self.include(["Exercises", clean_title(str(item[0]))], str(item[1]))


@register("neubias-modules")
def parse_neubias(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    opts = spec.options
    base = str(opts.get("base_url", "https://neubias.github.io/training-resources")).rstrip("/")
    modules = root / str(opts.get("modules_dir", "_modules"))
    includes = root / str(opts.get("includes_dir", "_includes"))
    files = select_files(modules, ["*.md"], opts.get("exclude", []))
    if not files:
        report.problem("no module pages found", path=modules)
    for path in files:
        read = read_markdown_file(path, report)
        if read is None:
            continue
        meta, body, first = read
        title = clean_title(str(meta.get("title") or path.stem.replace("_", " ")))
        page = f"{base}/{path.stem}/index.html"
        mod = _Module(spec, report, includes, page, title, path.relative_to(root).as_posix())
        overview = overview_text(meta)
        if overview:
            yield mod.section([], overview)
        yield from mod.activities(meta)
        if meta.get("assessment"):
            yield from mod.markdown(["Assessment"], str(meta["assessment"]))
        _h1, raw = split_markdown(body, scheme="kramdown", first_line=first, first_h1_is_title=False)
        yield from sections_from_raw(spec, raw, doc_title=title, page=page,
                                     metadata={"file": mod.rel, "module": title})
