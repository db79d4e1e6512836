"""Small helpers shared by the parsers: file selection, Markdown reading, section construction."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from scopebot.sources.base import ParseReport
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.markdown import MdSection, split_markdown
from scopebot.sources.text import AnchorScheme, read_text, split_front_matter


def natural_key(path: Path | str) -> list[Any]:
    """Sort key that orders ``2-x`` before ``10-x``."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", str(path))]


def select_files(root: Path, include: Iterable[str], exclude: Iterable[str] = ()) -> list[Path]:
    """Files under ``root`` matching any ``include`` glob and no ``exclude`` pattern (matched against
    the path relative to ``root`` and against the file name), in natural order."""
    excl = list(exclude)
    found: dict[Path, None] = {}
    for pattern in include:
        for p in root.glob(pattern):
            if not p.is_file():
                continue
            rel = p.relative_to(root).as_posix()
            if any(fnmatch.fnmatch(rel, x) or fnmatch.fnmatch(p.name, x) for x in excl):
                continue
            found[p] = None
    return sorted(found, key=lambda p: natural_key(p.relative_to(root).as_posix()))


def read_markdown_file(path: Path, report: ParseReport) -> tuple[dict[str, Any], str, int] | None:
    """(front matter, body, first body line) of a Markdown file; problems go to the report.

    An unreadable file yields ``None``; invalid front matter is reported and the body still used.
    """
    try:
        text = read_text(path)
    except OSError as exc:
        report.problem(f"cannot read file: {exc}", path=path)
        return None
    report.files_read += 1
    meta, body, first, error = split_front_matter(text)
    if error:
        line = re.search(r"at line (\d+)", error)
        report.problem(error, path=path, line=int(line.group(1)) if line else None,
                       hint="fix the YAML between the leading '---' lines")
    return meta, body, first


def page_url(base: str, page: str, anchor: str = "") -> str:
    """``base/page`` plus ``#anchor`` when there is one."""
    url = f"{base.rstrip('/')}/{page.lstrip('/')}" if page else base
    return f"{url}#{anchor}" if anchor else url


def markdown_sections(spec: SourceSpec, body: str, *, doc_title: str, page: str, first_line: int = 1,
                      scheme: AnchorScheme = "pandoc", metadata: dict[str, Any] | None = None,
                      path_prefix: list[str] | None = None, first_h1_is_title: bool = True,
                      ) -> Iterator[Section]:
    """Sections of one Markdown page: ``path = [doc_title, *headings]``, ``url = page#anchor``."""
    _h1, raw = split_markdown(body, scheme=scheme, first_line=first_line, first_h1_is_title=first_h1_is_title)
    yield from sections_from_raw(spec, raw, doc_title=doc_title, page=page, metadata=metadata,
                                 path_prefix=path_prefix)


def sections_from_raw(spec: SourceSpec, raw: list[MdSection], *, doc_title: str, page: str,
                      metadata: dict[str, Any] | None = None, path_prefix: list[str] | None = None,
                      ) -> Iterator[Section]:
    prefix = path_prefix if path_prefix is not None else [doc_title]
    for r in raw:
        meta = dict(metadata or {})
        meta["line"] = r.line
        yield Section(source_id=spec.id, kind=spec.kind, doc_title=doc_title, path=[*prefix, *r.titles],
                      anchor=r.anchor, url=page_url(page, "", r.anchor), text=r.text, metadata=meta)


def author_names(value: Any) -> list[str]:
    """Names from the usual author shapes: strings, ``{name: ...}`` dicts, or lists of either."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    names: list[str] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            names.append(item.strip())
        elif isinstance(item, dict):
            name = item.get("name") or item.get("text") or ""
            if isinstance(name, dict):  # Quarto: name: {given: .., family: ..}
                name = " ".join(str(name.get(k, "")) for k in ("given", "family")).strip()
            if str(name).strip():
                names.append(str(name).strip())
    return names
