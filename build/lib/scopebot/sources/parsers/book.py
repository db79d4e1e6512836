"""Parser for a Quarto book: chapter files (``.qmd`` or rendered ``.md``) plus its ``glossary.yml``.

Options (``knowledge/sources.yaml``):

* ``base_url`` – the published site (pages are ``<base_url>/<chapter-stem>.html``).
* ``chapters_dir`` – folder with the chapter files (default ``chapters``).
* ``glossary`` – glossary YAML file, relative to the source root (default ``glossary.yml``).
* ``pages`` – per-chapter overrides keyed by file stem: ``page`` (HTML page name) and ``label``
  (format string with ``{number}`` and ``{title}``, e.g. ``"Appendix A — {title}"``).
* ``exclude`` – file-name patterns to skip.
* ``callout_heading_re`` – headings matching it are callout titles in rendered text (kept as text).

The bibliography and the site's search index are deliberately not indexed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.common import (
    author_names,
    page_url,
    read_markdown_file,
    sections_from_raw,
    select_files,
)
from scopebot.sources.parsers.markdown import split_markdown
from scopebot.sources.text import clean_inline, normalize_ws, read_text, slugify

#: Headings of rendered callout boxes ("### Note: ...") are box titles, not sections with anchors.
CALLOUT_HEADING_RE = r"^(Note|Tip|Warning|Important|Caution):"


def chapter_stem(path: Path) -> str:
    """``10-output-quality.rendered.md`` -> ``10-output-quality``; ``6-x.qmd`` -> ``6-x``."""
    return path.name.split(".", 1)[0]


def chapter_label(stem: str, title: str, body: str, label_format: str = "") -> str:
    """The chapter's breadcrumb label, numbered from the file name as on the site ("6 Image Restoration")."""
    m = re.match(r"^(\d+)-", stem)
    number = m.group(1) if m else ""
    unnumbered = bool(re.search(r"^#\s.*\{(?:[^}]*\s)?(?:\.unnumbered|-)(?:\s[^}]*)?\}\s*$", body, re.M))
    if label_format:
        return label_format.format(number=number, title=title).strip()
    if not number or unnumbered or re.match(rf"^{number}\b", title) or "appendix" in stem:
        return title
    return f"{number} {title}"


@register("quarto-book")
def parse_quarto_book(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    """Chapters (one Section per non-empty heading section) followed by the glossary terms."""
    opts = spec.options
    base = str(opts.get("base_url", spec.url))
    pages: dict[str, dict[str, str]] = opts.get("pages", {}) or {}
    chapters = root / str(opts.get("chapters_dir", "chapters"))
    files = select_files(chapters, ["*.qmd", "*.md"], opts.get("exclude", []))
    box_re = str(opts.get("callout_heading_re", CALLOUT_HEADING_RE))
    if not files:
        report.problem("no chapter files found", path=chapters, hint="check the source's chapters_dir option")
    for path in files:
        read = read_markdown_file(path, report)
        if read is None:
            continue
        meta, body, first = read
        stem = chapter_stem(path)
        conf = pages.get(stem, {})
        h1, raw = split_markdown(body, scheme="pandoc", first_line=first, box_heading_re=box_re)
        title = h1 or str(meta.get("title", "")) or stem
        label = chapter_label(stem, title, body, conf.get("label", ""))
        page = page_url(base, f"{conf.get('page', stem)}.html")
        extra = {"file": path.relative_to(root).as_posix(), "chapter": label}
        authors = author_names(meta.get("author"))
        if authors:
            extra["authors"] = authors
        if not raw:
            report.problem("chapter has no text", path=path)
        yield from sections_from_raw(spec, raw, doc_title=label, page=page, metadata=extra)
    gloss = opts.get("glossary", "glossary.yml")
    if gloss:
        yield from parse_glossary(root / str(gloss), spec, report, base_url=base)


def parse_glossary(path: Path, spec: SourceSpec, report: ParseReport, *, base_url: str,
                   page: str = "glossary.html") -> Iterator[Section]:
    """One Section per ``term: definition`` entry of a Quarto glossary YAML file."""
    if not path.is_file():
        report.problem("glossary file missing", path=path)
        return
    try:
        data = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.problem(f"invalid glossary YAML: {str(exc).splitlines()[0]}", path=path,
                       line=mark.line + 1 if mark is not None else None)
        return
    report.files_read += 1
    if not isinstance(data, dict):
        report.problem("glossary must be a mapping of term to definition", path=path)
        return
    url = page_url(base_url, page)
    for term, definition in data.items():
        term_s = str(term).strip()
        text = normalize_ws(clean_inline(str(definition or "")))
        if not term_s or not text:
            report.problem(f"glossary term {term_s!r} has no definition", path=path)
            continue
        anchor = slugify(term_s, "pandoc")
        yield Section(source_id=spec.id, kind=spec.kind, doc_title="Glossary", path=["Glossary", term_s],
                      anchor=anchor, url=f"{url}#{anchor}", text=text,
                      metadata={"file": path.name, "term": term_s})
