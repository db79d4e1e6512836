"""What may reach the page as markup: user text is text, model and source text is sanitised Markdown.

Three kinds of text end up in the browser, each with its own rule:

* **User text** (questions, comments, file names, endpoint URLs): :func:`text_markdown` turns it into
  Markdown that renders as exactly those characters. ``<``, ``>``, ``&`` and every character that
  could format (``*``, ``_``, ``[``, ``$``, a leading ``#`` ...) become character references, so
  ``<b>x</b>``, ``**x**`` or ``$x$`` is shown as typed, in the chat, the feedback line and the
  exports alike.
* **Model output and our own Markdown** (answers, code notes, run output): :func:`no_raw_html`
  keeps the Markdown formatting but escapes every ``<`` outside code, so no raw HTML tag or comment
  survives, and turns Markdown images into plain links (nothing is fetched from elsewhere); code
  blocks and code spans keep their text. The page's Markdown renderer (Gradio's,
  with ``sanitize_html`` on and no extra tags allowed) is a second layer, not the only one.
* **Source passages shown in HTML panels**: :func:`markdown_html` renders them with markdown-it
  with raw HTML switched off (it is escaped), images off (nothing is fetched) and unsafe link
  schemes refused.

Maths is rendered by the KaTeX that ships inside Gradio's frontend, with :data:`LATEX_DELIMITERS`.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

#: KaTeX delimiters for the chat and the Markdown panels (KaTeX is bundled with Gradio; nothing is fetched).
LATEX_DELIMITERS: list[dict[str, str | bool]] = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "\\[", "right": "\\]", "display": True},
]

# Characters that format anywhere in a line, as numeric character references: a reference is always
# literal text in Markdown (CommonMark), and, unlike a backslash escape, it cannot form a maths
# delimiter ("\\[", "$") for the KaTeX pass, which reads the Markdown source.
_MD_INLINE = {ord(c): f"&#{ord(c)};" for c in "\\`*_[]|~$"}
# ... and what formats only at the start of a line: headings, bullets, setext underlines, ordered lists
_MD_LINE_START = re.compile(r"^(#|[-+=]|\d{1,9}[.)])")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_CODE_SPAN = re.compile(r"(?<![\\`])(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^\s<>\"'`]*>", re.IGNORECASE)
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)


def text_markdown(text: Any) -> str:
    """Markdown that renders as the literal ``text`` (no HTML, no formatting; line breaks kept)."""
    lines = []
    for line in str(text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        stripped = line.lstrip(" \t")
        indent = line[: len(line) - len(stripped)].replace("\t", "    ")
        escaped = html.escape(stripped.rstrip(), quote=False).translate(_MD_INLINE)
        escaped = _MD_LINE_START.sub(lambda m: m.group(1)[:-1] + f"&#{ord(m.group(1)[-1])};", escaped)
        # leading spaces as entities: an indented line must not become a code block
        lines.append("&nbsp;" * len(indent) + escaped)
    return "  \n".join(lines).strip()


def inline_text(text: Any) -> str:
    """:func:`text_markdown` on one line (newlines become spaces), for headings, list items and table cells."""
    return text_markdown(" ".join(str(text or "").split()))


def no_raw_html(markdown: Any) -> str:
    """``markdown`` with every ``<`` outside code escaped: formatting stays, raw HTML does not.

    Fenced code blocks and code spans are left alone (their text is shown literally anyway); an
    autolink to an http(s)/mailto address is kept. Where the scan is unsure whether something is
    code, it escapes: the worst case is a visible ``&lt;``, never a live tag.
    """
    out: list[str] = []
    prose: list[str] = []
    fence: tuple[str, int] | None = None
    for line in str(markdown or "").split("\n"):
        if fence is not None:
            out.append(line)
            close = re.match(r"^ {0,3}(`{3,}|~{3,})\s*$", line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= fence[1]:
                fence = None
            continue
        opened = _FENCE_OPEN.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            if prose:
                out.append(_escape_prose("\n".join(prose)))
            prose = []
            fence = (opened.group(1)[0], len(opened.group(1)))
            out.append(line)
            continue
        prose.append(line)
    if prose:
        out.append(_escape_prose("\n".join(prose)))
    return "\n".join(out)


def _escape_prose(text: str) -> str:
    """Escape ``<`` in ``text`` except inside code spans and http(s)/mailto autolinks."""
    parts: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        parts.append(_escape_lt(text[pos:m.start()]))
        parts.append(m.group(0))
        pos = m.end()
    parts.append(_escape_lt(text[pos:]))
    return "".join(parts)


def _escape_lt(text: str) -> str:
    """``<`` as ``&lt;`` (autolinks kept) and ``![`` as ``&#33;[``: no tag, and no Markdown image that
    would make the page fetch from elsewhere (the link text and address stay readable)."""
    pieces: list[str] = []
    pos = 0
    for m in _AUTOLINK.finditer(text):
        pieces.append(text[pos:m.start()].replace("<", "&lt;").replace("![", "&#33;["))
        pieces.append(m.group(0))
        pos = m.end()
    pieces.append(text[pos:].replace("<", "&lt;").replace("![", "&#33;["))
    return "".join(pieces)


def fenced(code: Any, language: str = "") -> str:
    """``code`` in a fenced block whose fence is longer than any backtick run inside it."""
    body = str(code or "").rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


def safe_url(url: Any) -> str | None:
    """``url`` when it is a plain http(s) address (for links we build ourselves), else None."""
    text = str(url or "").strip()
    return text if _SAFE_URL.match(text) else None


@lru_cache(maxsize=1)
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    # "html": False escapes raw HTML; images are off so a passage cannot make the page fetch anything
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").disable("image")


def markdown_html(text: Any) -> str:
    """Source text rendered to HTML: Markdown formatting kept, raw HTML escaped, no images."""
    rendered = _renderer().render(str(text or ""))
    # links open in a new tab and pass no referrer (markdown-it already refuses javascript: and the like)
    return rendered.replace("<a href=", '<a target="_blank" rel="noopener noreferrer" href=')


def one_block(html_text: str) -> str:
    """``html_text`` on one line, for a Markdown component: a blank line would end the HTML block and
    hand what follows to the Markdown parser. Newlines inside ``<pre>`` become ``&#10;`` (still line
    breaks there); elsewhere they are spaces."""
    parts = re.split(r"(<pre>.*?</pre>)", html_text, flags=re.DOTALL)
    return "".join(part.replace("\n", "&#10;") if part.startswith("<pre>") else part.replace("\n", " ")
                   for part in parts)
