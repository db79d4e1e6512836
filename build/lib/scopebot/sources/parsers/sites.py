"""Parser for Markdown lesson/guide sites (Carpentries workbench, Jupyter Book / MyST guides).

Options:

* ``include`` – globs of the page files (default ``["**/*.md"]``); ``exclude`` – patterns to skip.
* ``url_template`` – page URL with ``{stem}`` (file name without suffix) and ``{path}`` (relative
  path without suffix), e.g. ``https://datacarpentry.github.io/image-processing/{stem}.html``.
* ``anchor_scheme`` – how the site derives heading ids: ``pandoc`` (Carpentries workbench),
  ``docutils`` (Sphinx / Jupyter Book), ``kramdown`` (Jekyll) or ``gfm``.

The page title comes from the front matter ``title``, else the first level-1 heading, else the file
name; it is the first element of every section's path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from scopebot.sources.base import ParseReport, register
from scopebot.sources.models import Section, SourceSpec
from scopebot.sources.parsers.common import read_markdown_file, sections_from_raw, select_files
from scopebot.sources.parsers.markdown import clean_title, split_markdown


def title_from_stem(stem: str) -> str:
    """``03-skimage-images`` -> ``Skimage images`` (last resort page title)."""
    words = stem.replace("_", " ").replace("-", " ").split()
    if words and words[0].isdigit():
        words = words[1:]
    text = " ".join(words) or stem
    return text[:1].upper() + text[1:]


@register("markdown-site")
def parse_markdown_site(root: Path, spec: SourceSpec, report: ParseReport) -> Iterator[Section]:
    opts = spec.options
    template = str(opts.get("url_template", spec.url.rstrip("/") + "/{path}.html"))
    scheme = opts.get("anchor_scheme", "pandoc")
    files = select_files(root, opts.get("include", ["**/*.md"]), opts.get("exclude", []))
    if not files:
        report.problem("no Markdown pages found", path=root, hint="check the include/exclude options")
    for path in files:
        read = read_markdown_file(path, report)
        if read is None:
            continue
        meta, body, first = read
        rel = path.relative_to(root).with_suffix("").as_posix()
        fm_title = clean_title(str(meta.get("title", ""))) if meta.get("title") else ""
        h1, raw = split_markdown(body, scheme=scheme, first_line=first, first_h1_is_title=not fm_title)
        title = fm_title or h1 or title_from_stem(path.stem)
        page = template.format(stem=path.stem, path=rel)
        yield from sections_from_raw(spec, raw, doc_title=title, page=page,
                                     metadata={"file": path.relative_to(root).as_posix()})
