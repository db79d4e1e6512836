"""Splitting Markdown dialects (Quarto, Pandoc fenced divs, MyST, kramdown) into heading sections.

:func:`split_markdown` is shared by the book, lesson, NEUBIAS and notebook parsers. It keeps the
heading hierarchy and anchors, keeps fenced code (minus Quarto ``#|`` chunk options), keeps the
content of callouts / directives / challenge boxes while dropping their fences, and treats
headings inside such boxes or inside code as text rather than as section breaks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scopebot.sources.text import AnchorMaker, AnchorScheme, clean_inline

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*$")
_HTML_HEADING_RE = re.compile(r"^\s*<h([1-6])\b([^>]*)>(.*?)</h\1>\s*$", re.I)
_ID_ATTR_RE = re.compile(r"\bid\s*=\s*[\"']([^\"']+)[\"']")
_TRAILING_ATTR_RE = re.compile(r"\s*\{([^{}]*)\}\s*$")
_FENCE_RE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(.*?)\s*$")
_DIV_RE = re.compile(r"^\s*(:{3,})\s*(.*?)\s*:*\s*$")
_QUOTE_RE = re.compile(r"^\s*(?:>\s?)+")
_MYST_TARGET_RE = re.compile(r"^\s*\([^()\s]+\)=\s*$")
_MYST_OPTION_RE = re.compile(r"^\s*:[\w-]+:.*$")
_LIQUID_RE = re.compile(r"\{%-?.*?-?%\}|\{\{-?\s*(?:site|page|include|lesson|episode)\b.*?\}\}")
_COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
_MULTILINE_IMG_RE = re.compile(r"!\[[^\]]*\]\([^()]*\)(?:\{[^{}]*\})?")


def _join_multiline_images(body: str) -> str:
    """Put images written across lines on one line (later line numbers in that file shift a little)."""
    return _MULTILINE_IMG_RE.sub(lambda m: m.group(0).replace("\n", " "), body)

#: MyST/Sphinx directives whose body is prose for the reader.
_TEXT_DIRECTIVES = {"note", "important", "warning", "tip", "caution", "attention", "danger", "error", "hint",
                    "seealso", "admonition", "glossary", "dropdown", "margin", "sidebar", "epigraph", "topic",
                    "card", "tab-set", "tab-item", "grid", "grid-item", "grid-item-card", "div", "math",
                    "exercise", "solution", "prf:definition", "versionadded", "deprecated", "todo", "aside"}
_CAPTION_DIRECTIVES = {"figure", "image", "table", "list-table", "csv-table"}
_DROP_DIRECTIVES = {"toctree", "bibliography", "tableofcontents", "raw", "include", "literalinclude", "iframe",
                    "youtube", "video", "mermaid", "graphviz", "contents", "footbibliography"}
_CODE_DIRECTIVES = {"code-cell", "code-block", "code", "sourcecode", "ipython", "jupyter-execute"}
#: Labels for lesson boxes that carry no heading of their own.
_DIV_LABELS = {"questions": "Questions", "objectives": "Objectives", "keypoints": "Key points",
               "prereq": "Prerequisites", "checklist": "Checklist"}


@dataclass
class MdSection:
    """A raw section: heading titles below the document title, anchor, cleaned text, start line."""

    titles: list[str]
    anchor: str
    text: str
    line: int
    level: int = 0


@dataclass
class _Fence:
    char: str
    length: int
    kind: str  # "code" | "text" | "caption" | "drop"
    options_open: bool = False  # inside a MyST ``---`` option block at the top of a directive
    fresh: bool = True  # no body line seen yet (options may still follow)


@dataclass
class _State:
    fences: list[_Fence] = field(default_factory=list)
    divs: list[bool] = field(default_factory=list)  # True = dropped div (e.g. pdf-only content)

    @property
    def dropping(self) -> bool:
        return any(self.divs) or any(f.kind == "drop" for f in self.fences)

    @property
    def boxed(self) -> bool:
        return bool(self.divs) or any(f.kind in ("text", "caption") for f in self.fences)


def clean_title(title: str) -> str:
    """Heading text for display: markup removed, emphasis and code markers dropped."""
    t = clean_inline(_MULTILINE_IMG_RE.sub("", title))
    t = re.sub(r"(\*\*|__|\*|`)", "", t)
    return re.sub(r"\s+", " ", t).strip(" #/-|")


def heading_parts(raw: str) -> tuple[str, str, set[str]]:
    """Split a heading's raw text into (title, explicit id, classes) using its ``{#id .class}`` block."""
    explicit, classes = "", set()
    m = _TRAILING_ATTR_RE.search(raw)
    if m and re.search(r"[#.]|^:", m.group(1).strip()):
        raw = raw[: m.start()]
        for tok in m.group(1).replace(":", " ").split():
            if tok.startswith("#"):
                explicit = tok[1:]
            elif tok.startswith("."):
                classes.add(tok[1:])
    raw = re.sub(r"\s+#+\s*$", "", raw)
    return clean_title(raw), explicit, classes


def _directive(info: str) -> tuple[str, str]:
    """(name, argument) of a fence info string: ``{python}``, ``python``, ``{figure} a.png``."""
    m = re.match(r"\{\s*\.?([\w:.+-]+)[^}]*\}\s*(.*)$", info)
    if m:
        return m.group(1).lower(), m.group(2).strip()
    parts = info.split(None, 1)
    return (parts[0].lower() if parts else ""), (parts[1] if len(parts) > 1 else "")


def _div_info(info: str) -> tuple[bool, str]:
    """(drop?, label) for an opening fenced div."""
    low = info.lower()
    if "content-visible" in low and "when-format" in low and "html" not in low:
        return True, ""
    if "content-visible" in low and "unless-format" in low and "html" in low:
        return True, ""
    if "content-hidden" in low and (("when-format" in low and "html" in low)
                                    or ("unless-format" in low and "html" not in low)):
        return True, ""
    name = re.sub(r"[{}.]", " ", low).split()
    return False, _DIV_LABELS.get(name[0], "") if name else ""


def split_markdown(body: str, *, scheme: AnchorScheme = "pandoc", first_line: int = 1,
                   first_h1_is_title: bool = True, box_heading_re: str = "") -> tuple[str, list[MdSection]]:
    """Split a Markdown body into sections.

    Returns ``(h1_title, sections)``. When ``first_h1_is_title`` and the first heading is a level-1
    heading, it is taken as the document title (returned, not part of ``titles``); text before
    the first sub-heading forms a section with empty ``titles``. Sections with no text are
    omitted, but their headings still appear in their children's ``titles``. Headings matching
    ``box_heading_re`` (e.g. rendered callout titles) are kept as bold text, like headings in boxes.
    """
    box_heading = re.compile(box_heading_re) if box_heading_re else None
    body = _COMMENT_RE.sub(lambda m: "\n" * m.group(0).count("\n"), body)
    body = _join_multiline_images(body)
    anchors = AnchorMaker(scheme)
    st = _State()
    h1_title = ""
    stack: list[tuple[int, str]] = []
    sections: list[MdSection] = []
    cur = MdSection(titles=[], anchor="", text="", line=first_line)
    buf: list[str] = []
    para: list[str] = []  # raw prose lines, cleaned together so multi-line links/images work
    seen_heading = False

    def end_para() -> None:
        if para:
            buf.extend(clean_inline(_LIQUID_RE.sub("", "\n".join(para))).split("\n"))
            para.clear()

    def emit(text: str) -> None:
        end_para()
        buf.append(text)

    def flush() -> None:
        end_para()
        text = "\n".join(buf)
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
        if text.strip():
            cur.text = text
            sections.append(cur)

    for i, line in enumerate(body.split("\n")):
        lineno = first_line + i
        top = st.fences[-1] if st.fences else None
        # --- inside fenced code: raw lines until the closing fence ---------------------------
        if top is not None and top.kind == "code":
            if line.strip() and set(line.strip()) == {top.char} and len(line.strip()) >= top.length:
                st.fences.pop()
                if not st.dropping:
                    emit("```")
            elif not st.dropping and not re.match(r"^\s*#\|", line):
                emit(line.rstrip())
            continue
        # --- MyST option block (--- ... ---) at the top of a directive ------------------------
        if top is not None and top.options_open:
            if line.strip() == "---":
                top.options_open = False
            continue
        fence = _FENCE_RE.match(line)
        if fence:
            char, length, info = fence.group(2)[0], len(fence.group(2)), fence.group(3)
            if top is not None and top.char == char and not info and length >= top.length:
                st.fences.pop()  # closes a text/caption/drop directive
                continue
            name, arg = _directive(info)
            is_myst = info.startswith("{")
            if is_myst and (name in _TEXT_DIRECTIVES or name.startswith("prf:")):
                st.fences.append(_Fence(char, length, "text"))
                if arg and not st.dropping:
                    emit(f"**{clean_title(arg)}**")
            elif is_myst and name in _CAPTION_DIRECTIVES:
                st.fences.append(_Fence(char, length, "caption"))
            elif is_myst and name in _DROP_DIRECTIVES:
                st.fences.append(_Fence(char, length, "drop"))
            else:
                lang = arg.split()[0] if name in _CODE_DIRECTIVES and arg else name
                st.fences.append(_Fence(char, length, "code"))
                if not st.dropping:
                    emit("```" + re.sub(r"[^\w+.#-]", "", lang))
            continue
        if top is not None and top.kind in ("text", "caption") and top.fresh:
            if line.strip() == "---":
                top.options_open = True
                continue
            if _MYST_OPTION_RE.match(line):
                continue
            if line.strip():
                top.fresh = False
        # --- fenced divs ---------------------------------------------------------------------
        div = _DIV_RE.match(line)
        if div:
            info = div.group(2)
            if info:
                drop, label = _div_info(info)
                st.divs.append(drop)
                if label and not st.dropping:
                    emit(f"**{label}**")
            elif st.divs:
                st.divs.pop()
            continue
        if st.dropping:
            continue
        if _MYST_TARGET_RE.match(line) or re.match(r"^%(\s|$)", line):
            continue
        # --- headings ------------------------------------------------------------------------
        quoted = bool(_QUOTE_RE.match(line))
        content = _QUOTE_RE.sub("", line) if quoted else line
        head = _HEADING_RE.match(content)
        html_head = None if head else _HTML_HEADING_RE.match(content)
        if head or html_head:
            if head:
                level = len(head.group(1))
                title, explicit, _classes = heading_parts(head.group(2))
            else:
                assert html_head is not None
                level = int(html_head.group(1))
                title = clean_title(re.sub(r"<[^>]+>", "", html_head.group(3)))
                id_attr = _ID_ATTR_RE.search(html_head.group(2))
                explicit = id_attr.group(1) if id_attr else ""
            if quoted or st.boxed or (box_heading is not None and box_heading.search(title)):
                if title:
                    emit(f"**{title}**")
                continue
            if level == 1 and first_h1_is_title and not seen_heading:
                h1_title = title
                seen_heading = True
                continue
            seen_heading = True
            flush()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            cur = MdSection(titles=[t for _, t in stack], anchor=anchors.make(title, explicit), text="",
                            line=lineno, level=level)
            buf = []
            continue
        if not content.strip():
            emit("")
        else:
            para.append(content)
    flush()
    return h1_title, sections
