"""Discourse ``cooked`` HTML → plain text that keeps code blocks, lists and quotes readable.

Discourse stores every post as rendered HTML (``cooked``). For retrieval we want plain text, but
code must survive verbatim (fenced with the language when Discourse recorded one), quotes of other
posts should stay recognisable, and link previews ("oneboxes"), image lightboxes and emoji
should shrink to a short marker instead of flooding the text.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

_BLOCK = {"p", "div", "section", "article", "table", "tr", "ul", "ol", "blockquote", "details",
          "aside", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "summary", "figure"}
_VOID = {"br", "img", "hr", "meta", "input", "source", "wbr"}
_WS = re.compile(r"[ \t\r\f\v\n]+")
_BLANKS = re.compile(r"\n{3,}")


class _CookedParser(HTMLParser):
    """A small state machine over the tag stream (robust to unbalanced tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._pre_depth = 0
        self._code_lang = ""
        self._skip_depth = 0          # inside an element whose text we drop (onebox body, image meta)
        self._stack: list[str] = []   # open tags, to know when a skipped element ends
        self._quote_depth = 0
        self._quote_starts: list[int] = []   # index into ``out`` where each open quote began
        self._list_stack: list[list[int]] = []   # [counter] per open list; counter < 0 for bullets
        self._href: str | None = None
        self._link_text: list[str] = []

    # -- helpers -----------------------------------------------------------------------------
    def _emit(self, text: str) -> None:
        if self._href is not None:
            self._link_text.append(text)
        self.out.append(text)

    def _newline(self, n: int = 1) -> None:
        self.out.append("\n" * n)

    # -- tags ---------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        classes = set(a.get("class", "").split())
        if tag not in _VOID:
            self._stack.append(tag)
        if self._skip_depth:
            if tag not in _VOID:
                self._skip_depth += 1
            return
        if tag == "aside" and "onebox" in classes:
            src = a.get("data-onebox-src", "")
            self._newline()
            if src:
                self._emit(f"[link: {src}]")
            self._newline()
            self._skip_depth = 1
            return
        if tag == "div" and ("meta" in classes or "title" in classes and self._quote_depth):
            # image lightbox metadata (file name, size) and quote headers ("bob said:")
            self._skip_depth = 1
            return
        if tag == "aside" and "quote" in classes:
            user = a.get("data-username", "")
            self._quote_depth += 1
            self._newline(2)
            self._quote_starts.append(len(self.out))
            if user:
                self._emit(f"{user} wrote:")
                self._newline()
            return
        if tag == "pre":
            self._pre_depth += 1
            self._code_lang = ""
            self._newline(2)
            return
        if tag == "code":
            if self._pre_depth:
                lang = next((c[5:] for c in classes if c.startswith("lang-") and c != "lang-auto"), "")
                self._emit(f"```{lang}\n")
                self._code_lang = lang or "-"
            else:
                self._emit("`")
            return
        if tag == "img":
            if "emoji" in classes:
                return
            alt = a.get("alt", "").strip()
            self._emit(f"[image: {alt}]" if alt else "[image]")
            return
        if tag == "br":
            self._newline()
            return
        if tag in ("ul", "ol"):
            self._list_stack.append([0 if tag == "ol" else -1])
            self._newline()
            return
        if tag == "li":
            self._newline()
            depth = max(len(self._list_stack) - 1, 0)
            if self._list_stack and self._list_stack[-1][0] >= 0:
                self._list_stack[-1][0] += 1
                marker = f"{self._list_stack[-1][0]}."
            else:
                marker = "-"
            self._emit("  " * depth + marker + " ")
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._newline(2)
            self._emit("#" * int(tag[1]) + " ")
            return
        if tag in ("td", "th"):
            self._emit(" | ")
            return
        if tag == "a":
            href = a.get("href", "")
            if href and "mention" not in classes and "lightbox" not in classes and not href.startswith("#"):
                self._href = href
                self._link_text = []
            return
        if tag in _BLOCK:
            self._newline(2 if tag in ("p", "blockquote", "table", "details") else 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        # pop up to the matching tag (tolerates unclosed children)
        if tag in self._stack:
            while self._stack:
                top = self._stack.pop()
                if self._skip_depth:
                    self._skip_depth -= 1
                    if self._skip_depth == 0:
                        self._after_close(top)
                        return
                    if top == tag:
                        return
                    continue
                self._after_close(top)
                if top == tag:
                    return

    def _after_close(self, tag: str) -> None:
        if self._skip_depth:
            return
        if tag == "code":
            if self._pre_depth and self._code_lang:
                if self.out and not self.out[-1].endswith("\n"):
                    self._newline()
                self._emit("```")
                self._code_lang = ""
            elif not self._pre_depth:
                self._emit("`")
        elif tag == "pre":
            self._pre_depth = max(self._pre_depth - 1, 0)
            self._newline(2)
        elif tag == "aside" and self._quote_depth:
            self._quote_depth -= 1
            start = self._quote_starts.pop() if self._quote_starts else len(self.out)
            body = _BLANKS.sub("\n\n", "".join(self.out[start:])).strip()
            quoted = "\n".join(("> " + ln.strip()).rstrip() for ln in body.split("\n"))
            self.out[start:] = [quoted]
            self._newline(2)
        elif tag in ("ul", "ol"):
            if self._list_stack:
                self._list_stack.pop()
            self._newline()
        elif tag == "a" and self._href is not None:
            text = "".join(self._link_text).strip()
            href = self._href
            self._href = None
            if href.startswith(("http://", "https://")) and text and text != href and href not in text:
                self.out.append(f" ({href})")
        elif tag in _BLOCK:
            self._newline(2 if tag in ("p", "blockquote", "table", "details") else 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._pre_depth:
            self._emit(data)
            return
        self._emit(_WS.sub(" ", data))


def _postprocess(raw: str) -> str:
    """Strip line ends outside code fences, prefix quoted lines, collapse blank runs."""
    lines: list[str] = []
    in_code = False
    for line in raw.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            lines.append(line.strip())
            continue
        lines.append(line.rstrip() if in_code else line.strip() if not line.startswith("  ") else line.rstrip())
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip()


def cooked_to_text(cooked: str) -> str:
    """Plain text of one Discourse post's ``cooked`` HTML, code blocks fenced with their language."""
    if not cooked:
        return ""
    parser = _CookedParser()
    try:
        parser.feed(cooked)
        parser.close()
    except Exception:  # pragma: no cover - html.parser is lenient; keep a crude fallback anyway
        return _postprocess(html_lib.unescape(re.sub(r"<[^>]+>", " ", cooked)))
    return _postprocess("".join(parser.out).replace("\xa0", " "))
