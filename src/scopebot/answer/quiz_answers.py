"""What a quiz passage states once its answer key is applied (issue 16).

Training lessons end with assessments phrased as scenarios (a student swaps the objective and asks whether
an old shading-correction image still applies), and conversational questions retrieve
them first. Their options and blanks are not statements, so the evidence used to leave them out, and with
them the answer. This module reads the statements a quiz passage makes once its solution is applied:

* a multiple-choice answer key ("Answer number 2", "The correct answer is c)", "Correct Answer: 3.")
  gives the text of that option;
* the prose of such a solution after its key ("3 Uneven illumination causes shading at the tile
  borders.") is kept.

Nothing else is read: true-or-false items state the false ones as plainly as the true ones, and blanks
say nothing alone, so a quiz without a multiple-choice key states nothing here (and stays out of the
evidence, :mod:`scopebot.answer.evidence`). Kept lines have enough words, no blank, no code and no
trailing verdict.
"""

from __future__ import annotations

import re

from scopebot.answer.text import content_words

_SOLUTION_RE = re.compile(r"^[\s>]*(?:#{1,6}\s*|\*\*)?(?:solutions?|answers?)(?:\*\*)?\s*:?\s*$",
                          re.IGNORECASE | re.MULTILINE)
_OPTION_RE = re.compile(r"^\s*(?:[-*]\s*)?\(?([1-9]|[a-eA-E])[.)]\s+(\S.*)$")
#: An answer key: a phrase and the option ("Answer number 2", "The correct answer is c)", "Correct Answer: 3.,
#: prose"), or a bare option number alone or before prose ("3 Uneven illumination ..."); "1. False; ..."
#: opens a list of items, not a key.
_KEY_RE = re.compile(r"^\s*(?:(?:the\s+)?correct\s+answer(?:\s+is)?|answer(?:\s+number)?|issue\s+number|option)"
                     r"\s*:?\s*\(?([1-9]|[a-eA-E])(?:[.)]|(?=[\s,]|$))\s*,?\s*(.*)$", re.IGNORECASE)
_BARE_KEY_RE = re.compile(r"^\s*([1-9])(?:\s+([A-Za-z].*))?\s*$")
_INLINE_OPTIONS_RE = re.compile(r"\s\(?[b-e]\)\s")
_LEADING_VERDICT_RE = re.compile(r"^\s*\**(?:true|false|yes|no)\**\s*[;:,.]\s*(?=\S)", re.IGNORECASE)
_TRAILING_VERDICT_RE = re.compile(r"\**\b(?:true|false)\b\**\s*\.?\s*$", re.IGNORECASE)
_BLANK_RE = re.compile(r"_{2,}|\b_\b")
_EMPHASIS_RE = re.compile(r"\*\*|`")
#: A kept line has at least this many content words.
MIN_CONTENT_WORDS = 4


def _sentence(text: str) -> str:
    text = _EMPHASIS_RE.sub("", text).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!")) else f"{text}."


def _keep(line: str) -> bool:
    return (len(content_words(line)) >= MIN_CONTENT_WORDS and not _BLANK_RE.search(line)
            and not _TRAILING_VERDICT_RE.search(line) and "```" not in line)


def quiz_statements(body: str) -> list[str]:
    """The statements a quiz passage makes with its solution applied (see the module docstring); empty
    when it has no solution or states nothing on its own."""
    m = _SOLUTION_RE.search(body)
    if m is None:
        return []
    options: dict[str, str] = {}
    for line in body[:m.start()].split("\n"):
        o = _OPTION_RE.match(line)
        if o:
            options.setdefault(o.group(1).lower(), o.group(2).strip())
    out: list[str] = []
    lines = [ln for ln in body[m.end():].split("\n") if ln.strip()]
    if not lines or "```" in body[m.end():]:
        return []
    first = _EMPHASIS_RE.sub("", lines[0])
    key = _KEY_RE.match(first) or _BARE_KEY_RE.match(first)
    if key is None or len(options) < 2 or key.group(1).lower() not in options:
        return []
    option = _LEADING_VERDICT_RE.sub("", options[key.group(1).lower()])
    if _keep(option) and not _INLINE_OPTIONS_RE.search(option):
        out.append(_sentence(option))
    prose = " ".join(ln.strip() for ln in [key.group(2) or "", *lines[1:]] if not _OPTION_RE.match(ln))
    text = _LEADING_VERDICT_RE.sub("", prose).strip()
    if _keep(text):
        out.append(_sentence(text))
    return out
