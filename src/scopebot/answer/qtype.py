"""What kind of answer a question asks for: definition, how-to, comparison, which-tool, compute, conceptual.

The cue phrases are data (``data/question_types.yaml``); this module only applies them. For a
comparison the two sides are extracted ("Cellpose or StarDist for DAPI nuclei?" -> ``Cellpose``,
``StarDist``, with the shared topic ``DAPI nuclei``); for every question the *subject* is the first
name it mentions (a tool, model or method), which the synthesis and the entity checks use to tell a
passage about the subject from one about something else.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

from scopebot.answer.text import stem

QuestionKind = Literal["definition", "howto", "comparison", "which_tool", "compute", "conceptual"]
DATA_PATH = Path(__file__).resolve().parent.parent / "data" / "question_types.yaml"
_SPLIT_RE = re.compile(r"\s+(?:or|vs\.?|versus|and)\s+", re.IGNORECASE)
#: "between A and B" names both sides with "and" only ("between images taken on different days with
#: different laser settings" compares nothing named); "compare A with/to/and B" when no "between" follows
_BETWEEN_RE = re.compile(r"\bbetween\s+(.+?)\s+and\s+(.+?)(?:[?.!,]|$)", re.IGNORECASE)
_COMPARE_RE = re.compile(r"\bcompared?\s+((?:(?!\bbetween\b)[^?.!,])+?)\s+(?:and|with|to|vs\.?|versus)\s+(.+?)"
                         r"(?:[?.!,]|$)", re.IGNORECASE)
_DIFFER_RE = re.compile(r"(?:how|in what ways?|where)\s+(?:do|does|did|are|is)\s+(.+?)\s+and\s+(.+?)\s+"
                        r"(?:differ|compare)\b", re.IGNORECASE)
_OR_RE = re.compile(r"([\w\-+.]+(?:\s[\w\-+.]+){0,3})\s+(?:or|vs\.?|versus)\s+([\w\-+.]+(?:\s[\w\-+.]+){0,3})",
                    re.IGNORECASE)
_NAME_RE = re.compile(r"\b([A-Z][A-Za-z0-9]*-[A-Za-z0-9][\w\-]*|[A-Z][a-z]*[A-Z0-9][\w\-]*|[A-Z]{2,}[\w\-]*|[a-z]+[A-Z][\w\-]*|[A-Z][a-z]{2,}[\w\-]*)\b")


class QuestionType(BaseModel):
    """The kind of question, the compared sides and the subject."""

    kind: QuestionKind = "conceptual"
    sides: list[str] = Field(default_factory=list, description="The two compared things of a comparison.")
    topic: str = Field(default="", description="What a comparison is about, without the sides.")
    subject: str = Field(default="", description="The first tool/method name the question mentions.")
    mentioned: list[str] = Field(default_factory=list,
                                 description="Every tool/method name the question mentions (\"IoU\", \"F1\").")
    aliases: list[str] = Field(default_factory=list,
                               description="Other names of the subject found in the passages (\"N2V\" for Noise2Void).")


    def side_keys(self) -> list[str]:
        """What identifies each side in a passage: its words not shared with the other side
        ("local training" / "cloud training" -> "local" / "cloud"), else the whole side."""
        if len(self.sides) != 2:
            return list(self.sides)
        words = [s.split() for s in self.sides]
        shared = {w.lower() for w in words[0]} & {w.lower() for w in words[1]}
        keys = []
        for side, toks in zip(self.sides, words, strict=True):
            own = [t for t in toks if t.lower() not in shared]
            keys.append(" ".join(own) if own else side)
        return keys


@lru_cache(maxsize=1)
def cue_data() -> dict:
    """The cue phrases of ``data/question_types.yaml`` (read once)."""
    return yaml.safe_load(DATA_PATH.read_text(encoding="utf-8"))


def _words(text: str) -> str:
    return " " + re.sub(r"[^\w\s.\-+']", " ", text.lower()).strip() + " "


def _clean_side(side: str, stop: set[str], *, from_end: bool) -> str:
    toks = side.strip(" ?.!,").split()
    if from_end:  # the left side: drop the question words before the name
        while toks and toks[0].lower() in stop:
            toks.pop(0)
        toks = [t for t in toks if re.search(r"\w", t)][-3:]
        while len(toks) > 1 and toks[0].lower() in stop:
            toks.pop(0)
    else:  # the right side: stop at the first word that starts the shared topic
        out = []
        for t in toks:
            if t.lower() in stop and out:
                break
            if t.lower() not in stop and re.search(r"\w", t):
                out.append(t)
        toks = out[:3]
    return " ".join(toks).strip(" ?.!,")


def comparison_sides(question: str) -> tuple[list[str], str]:
    """The compared sides and the remaining topic words, or ``([], "")``."""
    stop = set(cue_data()["side_stopwords"])
    m = _BETWEEN_RE.search(question) or _COMPARE_RE.search(question) or _DIFFER_RE.search(question)
    if m and m.group(1).split()[0].lower() in set(cue_data().get("clause_openers", [])):
        return [], ""  # "compare when I train ..." compares nothing named
    if m:
        a, b = _clean_side(m.group(1), stop, from_end=True), _clean_side(m.group(2), stop, from_end=False)
        rest = question[m.end():]
    else:
        m = _OR_RE.search(question)
        if not m:
            return [], ""
        a, b = _clean_side(m.group(1), stop, from_end=True), _clean_side(m.group(2), stop, from_end=False)
        # "Cellpose or StarDist for DAPI nuclei?" -> the topic is what follows the right side's name
        end = question.find(b, m.start(2)) if b else -1
        rest = question[end + len(b):] if end >= 0 else question[m.end():]
    if not a or not b or a.lower() == b.lower():
        return [], ""
    if m.re is _OR_RE and not _real_choice(question, a, b):
        return [], ""
    topic = re.sub(r"^\W*(?:for|when|if|to|in|on|with)\b", "", rest.strip(" ?.!,"), flags=re.IGNORECASE).strip()
    return [a, b], topic


def _real_choice(question: str, a: str, b: str) -> bool:
    """An "A or B" that offers a choice, not a pair of adjectives inside another question ("Why do
    denoised images look smooth or waxy?"): the question opens with the first side, a side is a
    name, or the question asks to choose (cue words in the data file)."""
    if _words(question).strip().startswith(_words(a).strip()):
        return True
    if any(_NAME_RE.search(side) for side in (a, b)):
        return True
    text = _words(question)
    return any(f" {c} " in text for c in cue_data().get("choice_words", []))


def names_of(question: str) -> list[str]:
    """The name-like words of the question, in order (not its first word): ``IoU``, ``F1``."""
    first = question.split()[:1]
    out = []
    for m in _NAME_RE.finditer(question):
        w = m.group(1)
        if first and w == first[0].strip("?,.!"):
            continue
        if w.lower() in {"what", "which", "how", "why", "when", "where", "can", "should", "does", "is", "i"}:
            continue
        out.append(w)
    return list(dict.fromkeys(out))


def subject_of(question: str) -> str:
    """The first name-like word of the question (not its first word): ``Noise2Void``, ``StarDist``."""
    names = names_of(question)
    return names[0] if names else ""


def _contains(text: str, cue: str, after: list[str] | None) -> bool:
    """``cue`` occurs in ``text``; with ``after``, only right after one of those words."""
    if after is None:
        return cue in text
    return any(f" {word} {cue.strip()}" in text for word in after)


def classify(question: str) -> QuestionType:
    """The question type (first matching cue wins, in the data file's order)."""
    text = _words(question)
    start = text.strip()
    names = names_of(question)
    qt = QuestionType(subject=names[0] if names else "", mentioned=names)
    for kind, cues in cue_data()["types"].items():
        hit = any(start.startswith(c) for c in cues.get("starts", [])) or \
            any(_contains(text, c, cues.get("contains_after")) for c in cues.get("contains", []))
        if not hit:
            continue
        if kind == "comparison":
            sides, topic = comparison_sides(question)
            if not sides:
                continue
            return qt.model_copy(update={"kind": kind, "sides": sides, "topic": topic})
        return qt.model_copy(update={"kind": kind})
    return qt


def is_writing_request(question: str) -> bool:
    """The question asks scopebot to write something (a poem, a story, a letter) instead of asking about a topic."""
    start = _words(question).strip()
    return any(start.startswith(c) for c in cue_data().get("writing_requests", []))


_YEAR_RE = re.compile(r"(?<![\w.])(\d{4})(?![\w.])")


def is_time_anchored(question: str) -> bool:
    """The question is tied to a moment ("right now", "this winter", "the upcoming release", a year within
    ``time_anchored_years``): cue data in ``data/question_types.yaml``."""
    text = _words(question)
    cues = cue_data()
    if any(f" {c} " in text for c in cues.get("time_anchored", [])):
        return True
    first, last = cues.get("time_anchored_years", [1, 0])
    return any(int(first) <= int(y) <= int(last) for y in _YEAR_RE.findall(question))


def shape_hint(qtype: QuestionType) -> str:
    """The answer layout asked of a generative model for this question type (from the data file)."""
    hint = cue_data().get("shapes", {}).get(qtype.kind, "")
    if qtype.kind == "comparison" and qtype.sides:
        hint = hint.format(a=qtype.sides[0], b=qtype.sides[1])
    return hint


def descriptor_suffixes() -> frozenset[str]:
    """Stems of the last parts of a hyphenated sample description ("-stained", "-tagged", "-positive")."""
    return frozenset(stem(w) for w in cue_data().get("descriptor_suffixes", []))


def word_prefixes() -> frozenset[str]:
    """English prefixes that open a hyphenated word ("sub-resolution", "non-linear"): plain words, not names."""
    return frozenset(str(w).lower() for w in cue_data().get("word_prefixes", []))
