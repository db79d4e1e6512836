"""Extracts that say what they are about, organised by what was asked (issue 16).

* **Subjects and labels.** Each quoted sentence is labelled with the method or section it is about:
  the first tool/method name in it, else the subject carried from the sentence before it, else its
  section heading. A sentence that leans on an antecedent ("It trains ...", "This method ...") takes
  the subject of the sentence before it or of its heading; when neither names anything it is
  skipped, since quoted alone it would be read as being about something else.
* **Subject drift.** For a question about one method (not a comparison), a sentence about another
  named method ("It trains on two noisy images", said of Noise2Noise, for a Noise2Void question) is
  not used.
* **Layout** (:func:`layout`): a definition puts the defining sentence first; a how-to lists the
  steps in order; a comparison gives each side its own block (and says when the sources say nothing
  about one side); other questions get labelled bullets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scopebot.answer.entities import WELL_KNOWN, find_entities, norm
from scopebot.answer.evidence import names_any, names_side, side_names
from scopebot.answer.qtype import QuestionType
from scopebot.answer.text import split_sentences
from scopebot.citations import NOT_IN_SOURCES

if TYPE_CHECKING:
    from scopebot.answer.candidates import Candidate

ANAPHOR_RE = re.compile(r"^(?:[A-Za-z]+(?: [a-z]+){0,2}, )?"  # "Essentially, it ...", "As a result, they ..."
                        r"(?:it|its|this|these|they|their|such|those|that (?:method|model|approach|network|tool)|"
                        r"the (?:method|model|approach|network|tool|algorithm))\b", re.IGNORECASE)
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9\-+]*[A-Za-z0-9]")
_NUMBERED_HEADING_RE = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?\s+|note:\s*)", re.IGNORECASE)
#: Well-known names that are stains, cell lines or platforms, never the method a sentence is about.
NOT_SUBJECTS = frozenset("dapi hoechst gfp egfp mcherry hela python python3 github youtube colab googlecolab "
                         "jupyter anaconda conda pip macos ios iphone javascript powerpoint phd bioimage".split())
_DEFINES_RE = (r"(?:(?:is|are)\s+(?:a|an|the|one|used|designed|trained|based)|refers to|means|describes|denotes|"
               r"measures|computes|is defined as|stands for)\b")


def names_in(text: str) -> list[str]:
    """Tool/method names in ``text`` as written, in order: entity patterns and well-known names
    (code names such as ``skimage.filters.threshold_otsu`` are not subjects)."""
    found: dict[str, str] = {}
    for e in find_entities(text):
        if e.kind == "tool" and len(norm(e.name)) >= 3:
            found.setdefault(norm(e.name), e.name)
    for m in _WORD_RE.finditer(text):
        w = m.group(0)
        if norm(w) in WELL_KNOWN and len(w) >= 4 and (w[0].isupper() or any(c.isupper() for c in w[1:])
                                                      or norm(w) in {"ilastik", "napari", "cellpose"}):
            found.setdefault(norm(w), w)
    found = {k: v for k, v in found.items() if k not in NOT_SUBJECTS}
    order = {k: text.find(v) for k, v in found.items()}
    return [found[k] for k in sorted(found, key=lambda k: order[k])]


def section_label(section: str, title: str = "") -> str:
    """A short label from a heading: numbering and "Note:" removed, at most eight words."""
    label = _NUMBERED_HEADING_RE.sub("", section or title).strip(" :.")
    words = label.split()
    return " ".join(words[:8]) + (" …" if len(words) > 8 else "")


#: Openers that only make sense after the sentence before them ("If not, ...", "Otherwise ...").
DEPENDENT_RE = re.compile(r"^(?:if not|if so|otherwise|in that case|in this case|then)\b", re.IGNORECASE)


def assign_subject(text: str, previous: str, heading: str, previous_subject: str = "") -> tuple[str, bool]:
    """``(subject, ok)`` of a sentence: its own first name, or (for "It ...") the antecedent's subject:
    the first name of the sentence before, else that sentence's own subject (a chain of "It ..."
    sentences), else the heading's.

    ``ok`` is False for an antecedent sentence whose subject cannot be found, and for a sentence that
    continues the one before it ("If not, ..."): quoted alone, either would mislead, so it is skipped.
    """
    if DEPENDENT_RE.match(text.strip()):
        return "", False
    own = names_in(text)
    if ANAPHOR_RE.match(text.strip()):
        prev = names_in(previous) if previous else []
        if prev:
            return prev[0], True
        if previous_subject:
            return previous_subject, True
        head = names_in(heading)
        if head:
            return head[0], True
        return "", False
    return (own[0] if own else ""), True


def subject_names(qtype: QuestionType) -> list[str]:
    """The question's subject and its aliases found in the passages."""
    return [n for n in [qtype.subject, *qtype.aliases] if n]


def is_subject(name: str, qtype: QuestionType) -> bool:
    return bool(name) and norm(name) in {norm(n) for n in subject_names(qtype)}


def drifts(c: Candidate, qtype: QuestionType) -> bool:
    """The sentence is about another named method than the question's subject (not for comparisons)."""
    if qtype.kind == "comparison" or not qtype.subject or not c.subject:
        return False
    if is_subject(c.subject, qtype) or any(names_side(c.text, n) for n in subject_names(qtype)):
        return False
    if any(norm(c.subject) == norm(n) for n in qtype.mentioned):  # "How are IoU and F1 computed?"
        return False
    return norm(c.subject) in WELL_KNOWN or any(ch.isupper() for ch in c.subject[1:]) or \
        any(ch.isdigit() for ch in c.subject)


#: "Noise2Void (N2V)" and "N2V (Noise2Void)": one name followed by another in brackets.
_ALIAS_RE = re.compile(r"([A-Za-z][\w\-]*[A-Za-z0-9])\s*\(([A-Za-z][\w\-]*[A-Za-z0-9])\)")


def find_aliases(subject: str, texts: Sequence[str]) -> list[str]:
    """Other single-word names of ``subject`` that the texts give in brackets ("Noise2Void (N2V)")."""
    if not subject:
        return []
    found: list[str] = []
    for text in texts:
        for m in _ALIAS_RE.finditer(text):
            a, b = m.group(1), m.group(2)
            if norm(a) == norm(subject) and norm(b) != norm(subject):
                found.append(b)
            elif norm(b) == norm(subject) and norm(a) != norm(subject) and (a[0].isupper() or a.isupper()):
                found.append(a)
    return list(dict.fromkeys(found))


def label_of(c: Candidate) -> str:
    return c.subject or c.label


def cited(c: Candidate) -> str:
    """The candidate's text with its key after each sentence (an extract of two sentences cites both)."""
    if c.code:
        return f"{c.text} [{c.key}]"
    return " ".join(f"{s} [{c.key}]" for s in split_sentences(c.text)) or f"{c.text} [{c.key}]"


def _line(c: Candidate, with_label: bool = True) -> str:
    label = label_of(c)
    if with_label and label and not c.code:
        return f"**{label}**: {cited(c)}"
    return cited(c)


def defines(c: Candidate, subject: str | Sequence[str]) -> bool:
    """The sentence defines one of the names ("StarDist is a ...", "Noise2Void (N2V) is ..."), or it is
    the first sentence of a passage headed by the name (a glossary entry)."""
    names = [subject] if isinstance(subject, str) else list(subject)
    for name in (n for n in names if n):
        if re.search(rf"\b{re.escape(name)}\b[^.]{{0,40}}?\b{_DEFINES_RE}", c.text,
                     0 if name.isupper() else re.IGNORECASE):
            return True
        if c.first and c.subject and norm(c.subject) == norm(name) and not names_in(c.text)[:1]:
            return True
    return False


def layout(selected: Sequence[Candidate], qtype: QuestionType | None) -> str:
    """The extractive answer organised for ``qtype`` (see the module docstring)."""
    if not selected:
        return ""
    kind = qtype.kind if qtype is not None else "conceptual"
    if kind == "comparison" and qtype is not None and len(qtype.sides) == 2:
        blocks = []
        used: set[int] = set()
        keys = [side_names(k, [c.text for c in selected]) for k in qtype.side_keys()]
        both = [c for c in selected if all(names_any(c.text, k) for k in keys) and
                not any(names_any(label_of(c), k) for k in keys)]
        used.update(id(c) for c in both)
        for side, key in zip(qtype.sides, keys, strict=True):
            mine = [c for c in selected if id(c) not in used and
                    (names_any(c.text, key) or names_any(label_of(c), key))]
            used.update(id(c) for c in mine)
            if not mine and both:  # the sentences that speak of both sides answer for this one
                continue
            lines = [f"- {_line(c)}" for c in mine] or [f"- {NOT_IN_SOURCES}"]
            blocks.append(f"**{side}**:\n" + "\n".join(lines))
        rest = both + [c for c in selected if id(c) not in used]
        if rest:
            blocks.append("**In general**:\n" + "\n".join(f"- {_line(c)}" for c in rest))
        return "\n\n".join(blocks)
    ordered = list(selected)
    if kind == "definition" and qtype is not None and qtype.subject:
        first = [c for c in ordered if c.defining or defines(c, subject_names(qtype))][:1]
        ordered = first + [c for c in ordered if c not in first]
    if kind == "howto":
        return "\n".join(f"{i}. {_line(c)}" for i, c in enumerate(ordered, start=1))
    lines: list[str] = []
    previous = None
    for c in ordered:  # consecutive extracts about the same thing share one labelled bullet
        label = label_of(c)
        if lines and label and label == previous and not c.code:
            lines[-1] += f" {_line(c, with_label=False)}"
        else:
            lines.append(f"- {_line(c)}")
        previous = label
    return "\n".join(lines)
