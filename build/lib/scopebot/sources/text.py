"""Text helpers shared by the source parsers: anchors, HTML stripping and inline markup cleaning.

Each static-site generator derives heading anchors differently; :func:`slugify` reproduces the
schemes of the sites we link to, so that the deep links we cite land on the right heading.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path
from typing import Any, Literal

import yaml

AnchorScheme = Literal["pandoc", "kramdown", "docutils", "gfm"]

_WS_RE = re.compile(r"[ \t\r\f\v]+")
_MULTI_NL_RE = re.compile(r"\n{3,}")


def normalize_ws(text: str) -> str:
    """Collapse runs of spaces, strip line ends and keep at most one blank line in a row."""
    lines = [_WS_RE.sub(" ", ln).strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _MULTI_NL_RE.sub("\n\n", "\n".join(lines)).strip()


def one_line(text: str) -> str:
    """All whitespace (newlines included) collapsed to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


_BLOCK_TAG_RE = re.compile(r"<\s*(br|/p|/li|/h\d|/div|/tr|p|li|h\d|div|tr)\b[^>]*>", re.I)
_TAG_RE = re.compile(r"<!--.*?-->|<[^<>]+>", re.S)


def strip_html(text: str) -> str:
    """Plain text of an HTML fragment: tags removed, entities decoded, whitespace normalised.

    Block-level tags become line breaks so that paragraphs stay apart.
    """
    text = _BLOCK_TAG_RE.sub("\n", text)
    text = _TAG_RE.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    return normalize_ws(text)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def slugify(title: str, scheme: AnchorScheme = "pandoc") -> str:
    """The anchor a site generator gives a heading with this (already cleaned) title.

    * ``pandoc`` (Quarto, Carpentries workbench): keep letters, digits, ``_-.``; spaces to hyphens;
      drop everything before the first letter; ``section`` when nothing is left.
    * ``kramdown`` (Jekyll): keep letters, digits, spaces and hyphens; spaces to hyphens; drop leading
      non-letters.
    * ``docutils`` (Sphinx / Jupyter Book): ASCII-fold, runs of other characters to one hyphen, drop
      leading non-letters and trailing hyphens.
    * ``gfm`` (GitHub): keep letters, digits, ``-_``; spaces to hyphens.
    """
    t = title.strip().lower()
    if scheme == "pandoc":
        t = re.sub(r"[^\w\s.-]", "", t)
        t = re.sub(r"\s+", "-", t)
        t = re.sub(r"^[\W\d_]+", "", t)
        return t or "section"
    if scheme == "kramdown":
        t = re.sub(r"[^\w\s-]|_", "", t)
        t = re.sub(r"^[^a-z]+", "", t)
        return re.sub(r"\s", "-", t) or "section"
    if scheme == "docutils":
        t = _strip_accents(t).encode("ascii", "ignore").decode()
        t = re.sub(r"[^a-z0-9]+", "-", t)
        t = re.sub(r"^[^a-z]+", "", t).rstrip("-")
        return t or "section"
    if scheme == "gfm":
        t = re.sub(r"[^\w\s-]", "", t)
        return re.sub(r"\s", "-", t)
    raise ValueError(f"unknown anchor scheme {scheme!r}")


class AnchorMaker:
    """Unique anchors within one page (duplicates get ``-1``, ``-2`` ... like Pandoc and Jekyll)."""

    def __init__(self, scheme: AnchorScheme) -> None:
        self.scheme = scheme
        self._seen: dict[str, int] = {}

    def make(self, title: str, explicit: str = "") -> str:
        if explicit:
            self._seen.setdefault(explicit, 0)
            return explicit
        base = slugify(title, self.scheme)
        n = self._seen.get(base)
        if n is None:
            self._seen[base] = 0
            return base
        self._seen[base] = n + 1
        sep = "_" if self.scheme == "docutils" else "-"
        return f"{base}{sep}{n + 1}"


# --- inline markup -------------------------------------------------------------------------------

_SHORTCODE_RE = re.compile(r"\{\{[<%]\s*(\w[\w-]*)\s*(.*?)\s*[>%]\}\}")
_IMG_RE = re.compile(r"!\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*([^()]*(?:\([^()]*\)[^()]*)*)\)(\{[^}]*\}(?!`))?", re.S)
_LINK_RE = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])+)\]\(\s*[^()\s]*(?:\([^()]*\))?[^()]*\)(\{[^}]*\}(?!`))?")
_REFLINK_RE = re.compile(r"(?<!!)\[([^\]]+)\]\[[^\]]*\]")
_ALT_ATTR_RE = re.compile(r"alt\s*=\s*(['\"])(.*?)\1", re.S)
_MYST_ROLE_RE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
_CITE_BRACKET_RE = re.compile(r"\s?\[[^\[\]@]{0,40}-?@[\w:.#$%&+?<>~/-]+[^\[\]]*\]")
_XREF_RE = re.compile(r"(?<![\w@.])@(fig|sec|tbl|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr)-[\w:-]*\w")
_BARE_CITE_RE = re.compile(r"(?<![\w@.`/])-?@[A-Za-z][\w:-]*\w(?![\w@]*\.[a-z]{2,})")
_ATTR_RE = re.compile(r"\{:?\s*[.#][^{}\n]*\}|\{:\s*[\w\\]+\s*\}")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_INLINE_TAG_RE = re.compile(r"</?(?:span|div|details|summary|sup|sub|b|i|em|strong|u|a|font|center|small|"
                            r"kbd|abbr|mark|section|p|figure|figcaption|iframe|video|source|table|thead|"
                            r"tbody|tr|td|th|ul|ol|li|h\d|script|style|button|input|label|blockquote|hr)"
                            r"\b[^>]*>", re.I)
_IMG_TAG_RE = re.compile(r"<img\b[^>]*>", re.I)
_BR_RE = re.compile(r"<br\s*/?>", re.I)

_XREF_WORDS = {"fig": "the figure", "sec": "the section", "tbl": "the table", "eq": "the equation",
               "lst": "the listing"}


def _shortcode(m: re.Match[str]) -> str:
    name, args = m.group(1), m.group(2)
    if name == "glossary":  # {{< glossary "training data" >}} renders the term itself
        return args.strip().strip("'\"")
    return ""


def _myst_role(m: re.Match[str]) -> str:
    role, content = m.group(1), m.group(2)
    if role.startswith("cite") or role in {"footcite", "numref", "eq"}:
        return ""
    label = re.match(r"(.*?)\s*<[^>]*>\s*$", content, re.S)  # {ref}`text <target>`
    return label.group(1) if label else content


def _img_tag(m: re.Match[str]) -> str:
    alt = _ALT_ATTR_RE.search(m.group(0))
    return alt.group(2) if alt else ""


def _image(m: re.Match[str]) -> str:
    alt = _LINK_RE.sub(lambda lm: lm.group(1), m.group(1)).strip()
    if not alt and m.group(3):
        attr = _ALT_ATTR_RE.search(m.group(3))
        alt = attr.group(2) if attr else ""
    return one_line(alt)


def clean_inline(text: str) -> str:
    """Remove presentation markup from prose (not code) while keeping what a reader would see.

    Handles Quarto/Hugo shortcodes, images (alt text kept), links (text kept), MyST roles,
    Pandoc citations (dropped) and cross-references (turned into words), attribute blocks
    ``{.class}`` / ``{: .solution}`` and inline HTML tags.
    """
    text = _SHORTCODE_RE.sub(_shortcode, text)
    text = _XREF_RE.sub(lambda m: _XREF_WORDS.get(m.group(1), ""), text)
    text = _CITE_BRACKET_RE.sub("", text)
    text = _IMG_RE.sub(_image, text)
    text = _IMG_TAG_RE.sub(_img_tag, text)
    text = _LINK_RE.sub(lambda m: m.group(1), text)
    text = _REFLINK_RE.sub(lambda m: m.group(1), text)
    text = _MYST_ROLE_RE.sub(_myst_role, text)
    text = _BARE_CITE_RE.sub("", text)
    text = _ATTR_RE.sub("", text)
    text = _BR_RE.sub(" ", text)
    text = _INLINE_TAG_RE.sub("", text)
    text = html.unescape(text) if "&" in text else text
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    return re.sub(r"[ \t]{2,}", " ", text)


def remove_html_comments(text: str) -> str:
    return _HTML_COMMENT_RE.sub("", text)


# --- front matter --------------------------------------------------------------------------------

_FRONT_RE = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def split_front_matter(text: str) -> tuple[dict[str, Any], str, int, str]:
    """Split YAML front matter off a Markdown document.

    Returns ``(metadata, body, body_first_line, error)``; ``body_first_line`` is the 1-based line of
    the body in the file (for problem reports) and ``error`` is a message when the YAML is invalid
    (then the metadata is empty and the body is still returned).
    """
    m = _FRONT_RE.match(text)
    if not m:
        return {}, text, 1, ""
    body = text[m.end():]
    first = text[: m.end()].count("\n") + 1
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        return {}, body, first, f"invalid YAML front matter{where}: {str(exc).splitlines()[0]}"
    return (meta if isinstance(meta, dict) else {}), body, first, ""


def read_text(path: Path) -> str:
    """A text file decoded as UTF-8 (undecodable bytes replaced rather than failing)."""
    return path.read_text(encoding="utf-8", errors="replace")
