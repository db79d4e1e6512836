"""Parser for the Bio-image Analysis Notebooks text dump (JSONL of ``{"path", "kind", "text"}``).

Each record is the Markdown of one notebook (its markdown cells) or one Markdown page of the
Jupyter Book; it is split at its headings (docutils anchors, as Jupyter Book renders them).
Community boilerplate (code of conduct, contributing guide, licences) and files outside the
book folder are skipped.

Options: ``file`` (default ``markdown_cells.jsonl``), ``base_url``, ``book_prefix`` (``docs/``),
``skip`` (file-name patterns).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.common import sections_from_raw
from scopebot.sources.parsers.markdown import split_markdown
from scopebot.sources.parsers.sites import title_from_stem

DEFAULT_SKIP = ["CODE-OF-CONDUCT*", "CODE_OF_CONDUCT*", "CONTRIBUTING*", "LICENSE*", "licen[cs]e*"]


def notebook_url(base: str, path: str, prefix: str = "docs/") -> str:
    """``docs/12_x/01_y.ipynb`` -> ``<base>/12_x/01_y.html``."""
    rel = path[len(prefix):] if prefix and path.startswith(prefix) else path
    return f"{base.rstrip('/')}/{PurePosixPath(rel).with_suffix('.html').as_posix()}"


@register("notebooks-jsonl")
def parse_notebooks(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    opts = spec.options
    base = str(opts.get("base_url", "https://haesleinhuepf.github.io/BioImageAnalysisNotebooks"))
    prefix = str(opts.get("book_prefix", "docs/"))
    skip = list(opts.get("skip", DEFAULT_SKIP))
    path = root / str(opts.get("file", "markdown_cells.jsonl"))
    if not path.is_file():
        report.problem("notebook text file missing", path=path)
        return
    report.files_read += 1
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                report.problem(f"invalid JSON line: {exc.msg}", path=path, line=lineno)
                continue
            if not isinstance(rec, dict) or not isinstance(rec.get("path"), str) or \
                    not isinstance(rec.get("text"), str):
                report.problem("record lacks 'path'/'text'", path=path, line=lineno)
                continue
            nb_path = rec["path"]
            name = PurePosixPath(nb_path).name
            if any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name.lower(), p.lower()) for p in skip):
                continue
            if prefix and not nb_path.startswith(prefix):
                continue
            h1, raw = split_markdown(rec["text"], scheme="docutils")
            title = h1 or title_from_stem(PurePosixPath(nb_path).stem)
            yield from sections_from_raw(spec, raw, doc_title=title, page=notebook_url(base, nb_path, prefix),
                                         metadata={"file": nb_path, "record_line": lineno,
                                                   "notebook_kind": str(rec.get("kind", ""))})
