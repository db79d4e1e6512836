"""Parser for the NFDI4BIOIMAGE training-materials index (YAML ``resources:`` list).

One Section per resource, linked to the resource itself. When the YAML file is corrupt, the
entries are re-read one by one so that one bad entry (reported with its line) does not hide the
other thousand.

Options: ``files`` (default ``resources/*.yml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.common import author_names, select_files
from scopebot.sources.text import clean_inline, normalize_ws, read_text

_DOI_RE = re.compile(r"(10\.\d{4,9}/[^\s\"<>]+)")


def _loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [normalize_ws(str(v)) for v in values if v is not None and str(v).strip()]


def load_resources(path: Path, report: ParseReport) -> list[tuple[int, dict[str, Any]]]:
    """``[(line, entry)]`` of a resources YAML file, recovering entry by entry from syntax errors."""
    text = read_text(path)
    try:
        data = yaml.load(text, Loader=_loader())
        entries = data.get("resources") if isinstance(data, dict) else data
        if not isinstance(entries, list):
            report.problem("expected a 'resources:' list", path=path)
            return []
        return [(0, e) for e in entries]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        report.problem(f"invalid YAML: {str(exc).splitlines()[0]}; re-reading entry by entry", path=path,
                       line=mark.line + 1 if mark is not None else None)
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if re.match(r"^\s{0,2}- ", ln) and not ln.startswith("   ")]
    indent = min((len(lines[i]) - len(lines[i].lstrip()) for i in starts), default=0)
    starts = [i for i in starts if len(lines[i]) - len(lines[i].lstrip()) == indent]
    out: list[tuple[int, dict[str, Any]]] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        chunk = "\n".join(ln[indent:] for ln in lines[start:end])
        try:
            item = yaml.load(chunk, Loader=_loader())
        except yaml.YAMLError as exc:
            report.problem(f"skipped invalid resource entry: {str(exc).splitlines()[0]}", path=path,
                           line=start + 1, hint="fix the YAML of the entry starting at this line")
            continue
        if isinstance(item, list) and item and isinstance(item[0], dict):
            out.append((start + 1, item[0]))
    return out


def resource_section(spec: SourceSpec, entry: dict[str, Any]) -> Section | None:
    name = normalize_ws(str(entry.get("name") or ""))
    urls = _list(entry.get("url"))
    if not name or not urls:
        return None
    description = normalize_ws(clean_inline(str(entry.get("description") or entry.get("abstract") or "")))
    authors = author_names(entry.get("authors"))
    tags = [t for t in _list(entry.get("tags")) if not re.match(r"(?i)(include in|exclude from) dalia", t)]
    types = _list(entry.get("type"))
    lic = ", ".join(_list(entry.get("license")))
    level = ", ".join(_list(entry.get("proficiency_level")))
    doi = ""
    for u in [*_list(entry.get("doi")), *urls]:
        m = _DOI_RE.search(u)
        if m and ("doi" in u or "zenodo" in u or u.startswith("10.")):
            doi = m.group(1)
            break
    lines = [f"{name}" + (f" ({', '.join(types)})" if types else "") + (f": {description}" if description else ".")]
    if authors:
        lines.append("Authors: " + ", ".join(authors) + ".")
    if tags:
        lines.append("Tags: " + ", ".join(tags) + ".")
    if level:
        lines.append(f"Proficiency level: {level}.")
    if lic:
        lines.append(f"License: {lic}.")
    lines.append(f"Link: {urls[0]}")
    meta: dict[str, Any] = {"name": name, "description": description, "authors": authors, "tags": tags,
                            "resource_type": types, "license": lic, "urls": urls, "homepage": urls[0],
                            "doi": doi, "proficiency_level": level, "tool_type": "training-material"}
    if entry.get("publication_date"):
        meta["publication_date"] = str(entry["publication_date"])
    return Section(source_id=spec.id, kind=spec.kind, doc_title=name, path=[name], url=urls[0],
                   text="\n".join(lines), metadata=meta)


@register("nfdi4bioimage-yaml")
def parse_nfdi(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    files = select_files(root, spec.options.get("files", ["resources/*.yml", "resources/*.yaml"]))
    if not files:
        report.problem("no resources YAML found", path=root)
    for path in files:
        entries = load_resources(path, report)
        report.files_read += 1
        for line, entry in entries:
            if not isinstance(entry, dict):
                report.problem("resource entry is not a mapping", path=path, line=line or None)
                continue
            section = resource_section(spec, entry)
            if section is None:
                report.problem(f"resource without name or url: {entry.get('name')!r}", path=path,
                               line=line or None)
                continue
            yield section
