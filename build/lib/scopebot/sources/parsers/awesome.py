"""Parser for an "awesome list" README: one Section per ``- [Name](link) - description`` entry.

The category heading becomes the path (``[category, name]``); the Section links to the category
in the list (GitHub anchor) and the tool's own link is kept as ``homepage``.

Options: ``file`` (default ``README.md``), ``list_url`` (web page of the README, default the
source url), ``skip_headings`` (categories that are not tools).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.markdown import clean_title
from scopebot.sources.text import AnchorMaker, clean_inline, normalize_ws, read_text

_ENTRY_RE = re.compile(r"^\s*[-*+]\s+\[([^\]]+)\]\(([^)\s]+)\)\s*(?:[-–—:]\s*)?(.*)$")
_HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
DEFAULT_SKIP = ["Contents", "Table of contents", "Footnotes", "Similar lists and repositories", "License",
                "Contributing"]


@register("awesome-list")
def parse_awesome(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    opts = spec.options
    path = root / str(opts.get("file", "README.md"))
    list_url = str(opts.get("list_url", spec.url)).rstrip("/")
    skip = {s.lower() for s in opts.get("skip_headings", DEFAULT_SKIP)}
    if not path.is_file():
        report.problem("awesome-list README missing", path=path)
        return
    report.files_read += 1
    anchors = AnchorMaker("gfm")
    category, anchor, in_code = "", "", False
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        head = None if in_code else _HEADING_RE.match(line)
        if head:
            title = clean_title(head.group(2))
            anchor = anchors.make(title)
            if len(head.group(1)) >= 2:
                category = title
            continue
        entry = None if in_code else _ENTRY_RE.match(line)
        if not entry or not category or category.lower() in skip:
            continue
        name = clean_title(entry.group(1))
        homepage = entry.group(2)
        description = re.sub(r"\*\*|\*|`", "", normalize_ws(clean_inline(entry.group(3))))
        text = f"{name}: {description}" if description else f"{name}."
        text += f"\nCategory: {category}.\nLink: {homepage}"
        yield Section(source_id=spec.id, kind=spec.kind, doc_title=name, path=[category, name], anchor=anchor,
                      url=f"{list_url}#{anchor}", text=text,
                      metadata={"name": name, "homepage": homepage, "category": category,
                                "description": description, "line": lineno,
                                "tool_type": "publication" if category.lower() == "publications" else "software"})
