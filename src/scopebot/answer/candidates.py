"""Candidate sentences of the passages: what an extractive answer may quote.

Every sentence of the top passages is a candidate, except those that are not statements
(:mod:`scopebot.answer.statements`: captions, metadata, maths, exercise text), headings, questions and
fragments. A sentence that ends a thought too early keeps the next one; a sentence that leans on an
unnamed antecedent ("It comes out of ...") is quoted with the sentence before it, or not at all. Each
candidate carries its subject, section label and cues (instruction, signpost) for the sentence scorer
(:mod:`scopebot.answer.extractive`). Short code lines are candidates too, as inline code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scopebot.answer.context import ContextPassage
from scopebot.answer.evidence import is_exercise
from scopebot.answer.statements import (
    DISPLAY_MATH_RE,
    FIGURE_RE,
    INLINE_MATH_RE,
    MATH_RE,
    METADATA_RE,
    PANEL_RE,
    TRAILING_METADATA_RE,
    is_instruction,
    is_signpost,
    plain_math,
)
from scopebot.answer.synthesis import assign_subject, names_in, section_label
from scopebot.answer.text import (
    close_list_items,
    content_words,
    is_heading_like,
    join_short_lists,
    split_sentences,
)

_NAMING_RE = re.compile(r"^(?:This|That|These|Those|It|Such)\b.*[.!?]$")
_SENTENCE_END_RE = re.compile(r"[.!?][\"')\]]?$")
#: A line inside a code fence is quoted as code only when it looks like code: an assignment, an import or a
#: call ("name(" with no space). Prose that a chunk boundary left inside an unclosed fence (a lesson sentence
#: with a colour in brackets, cut in the middle) is not.
_CODE_HINT_RE = re.compile(r"=|\bimport\b|\w\(")
#: A sentence shorter than this that ends a thought too early ("Noise2Void removes the other half.") is
#: quoted together with the sentence after it in the same paragraph.
SHORT_SENTENCE = 50


@dataclass
class Candidate:
    text: str
    key: str
    rank: int
    position: int
    code: bool = False
    relevance: float = 0.0
    heading: str = ""
    subject: str = ""
    label: str = ""
    first: bool = False
    defining: bool = False
    kind: str = "book"
    instruction: bool = False
    signpost: bool = False


def _letters_ratio(text: str) -> float:
    return sum(ch.isalpha() or ch.isspace() for ch in text) / max(1, len(text))


#: Longest sentence quoted (characters); a longer one is usually a table row or a run-on list.
MAX_SENTENCE = 550


def _quotable_antecedent(prev: str) -> bool:
    """``prev`` can carry the antecedent of the sentence after it: a plain sentence of its own that does
    not itself lean on an antecedent."""
    return len(prev) >= 20 and prev.endswith((".", "!")) and not is_heading_like(prev) and \
        assign_subject(prev, "", "")[1] and not is_exercise(prev)


def candidates(passages: Sequence[ContextPassage], max_passages: int = 5) -> list[Candidate]:
    """Quotable sentences and short code lines of the first ``max_passages`` passages."""
    out: list[Candidate] = []
    for p in passages[:max_passages]:
        pos = 0
        heading = f"{p.result.chunk.title} {p.result.chunk.section}"
        section = p.result.chunk.section
        label = section_label(p.result.chunk.section, p.result.chunk.title)
        prose: list[str] = []
        fences = [ln.strip() for ln in p.text.split("\n") if ln.strip().startswith("```")]
        # a chunk cut inside a code block opens with its closing fence: an odd number of fences whose first is
        # bare ("```", an opening one names its language) means the text before it is code
        in_code = len(fences) % 2 == 1 and fences[0] == "```"

        def flush(prose: list[str], rank: int, key: str, heading: str, label: str = label,
                  section: str = section, kind: str = p.result.chunk.kind) -> None:
            nonlocal pos
            merged: list[str] = []
            for sentence in split_sentences(DISPLAY_MATH_RE.sub("\n", "\n".join(close_list_items(join_short_lists(prose))))):
                # "This is shortcut learning." names what the sentence before it explains: keep them together
                if merged and len(sentence) < 40 and _NAMING_RE.match(sentence) and merged[-1].endswith((".", "!")) \
                        and len(merged[-1]) < 400:
                    merged[-1] = f"{merged[-1]} {sentence}"
                elif merged and len(merged[-1]) < SHORT_SENTENCE and merged[-1].endswith(".") \
                        and len(merged[-1].split()) >= 3 and len(sentence) < 400 and not is_heading_like(sentence):
                    # "Noise2Void removes the other half." says little without the sentence that follows it
                    merged[-1] = f"{merged[-1]} {sentence}"
                else:
                    merged.append(sentence)
            previous = last_subject = ""
            for sentence in merged:
                pos += 1
                s = INLINE_MATH_RE.sub(plain_math, TRAILING_METADATA_RE.sub("", sentence.strip()))
                prev, previous = previous, s
                prev_subject, last_subject = last_subject, ""
                if (len(s) < 30 or len(s) > MAX_SENTENCE or is_heading_like(s) or not _SENTENCE_END_RE.search(s)
                        or FIGURE_RE.match(s) or PANEL_RE.search(s) or _letters_ratio(s) < 0.75
                        or len(content_words(s)) < 3 or s.endswith("?") or is_exercise(s) or MATH_RE.search(s)
                        or METADATA_RE.search(s)):
                    continue
                subject, ok = assign_subject(s, prev, heading, prev_subject)
                last_subject = subject if ok else ""
                if not ok:
                    # "It ..." with no antecedent to name: quoted alone it would mislead, so it is quoted
                    # after the sentence it leans on ("The confidence score ... is not a check. It comes out
                    # of the same computation ..."), or not at all
                    if not _quotable_antecedent(prev) or len(prev) + len(s) > MAX_SENTENCE:
                        continue
                    s = f"{prev} {s}"
                    subject = names_in(prev)[0] if names_in(prev) else ""
                    if out and out[-1].key == key and out[-1].text == prev:
                        out.pop()  # quoted once, together with the sentence that leans on it
                first = pos == 1
                if first and not subject:  # a glossary entry's first sentence is about its headword
                    head_names = names_in(section)
                    subject = head_names[0] if head_names else ""
                out.append(Candidate(text=s, key=key, rank=rank, position=pos, heading=heading, subject=subject,
                                     label=label, first=first, instruction=is_instruction(s),
                                     signpost=is_signpost(s), kind=kind))
            prose.clear()

        for line in p.text.split("\n"):
            if line.strip().startswith("```"):
                in_code = not in_code
                flush(prose, p.n, p.key, heading)
                continue
            if not in_code:
                prose.append(line)
                continue
            code = line.strip()
            pos += 1
            if 8 <= len(code) <= 100 and _CODE_HINT_RE.search(code) and not code.startswith("#"):
                out.append(Candidate(text=f"`{code}`", key=p.key, rank=p.n, position=pos, code=True))
        flush(prose, p.n, p.key, heading)
    return out
