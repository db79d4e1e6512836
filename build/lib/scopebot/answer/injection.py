"""Check 5 — retrieved text is data: find instructions inside passages and make sure none is followed.

Two parts, each usable alone:

* :func:`find_instructions` flags sentences of a passage that address the assistant ("ignore previous
  instructions", "you are now ...", "reply only with ..."). The pipeline removes them from the text
  the model sees and from the sentences extractive synthesis may quote, and reports the passage keys.
* :func:`followed_instructions` tells whether an answer repeats what such an instruction asked for
  (its payload), which is how a model that obeyed an injection shows up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scopebot.answer.text import content_set, split_sentences, stem

_INSTRUCTION_PATTERNS = [
    r"\bignore\b.{0,40}\b(?:instructions?|rules|prompts?|previous|prior)\b",
    r"\bdisregard\b.{0,40}\b(?:instructions?|rules|prompts?|previous|prior)\b",
    r"\bforget\b.{0,30}\b(?:instructions?|rules|everything you)\b",
    r"\b(?:new|updated|real|actual)\s+instructions?\s*:",
    r"\byou\s+are\s+(?:now|no\s+longer)\s+(?:a|an|the|my|in)\b",
    r"\byou\s+must\s+now\s+(?:ignore|forget|answer|reply|say|respond|obey)\b",
    r"\bas\s+an?\s+(?:ai|assistant|language\s+model|chatbot|llm)\s*,\s*you\b",
    r"\b(?:reveal|print|show|output|repeat)\b.{0,30}\b(?:system\s+prompt|your\s+prompt|your\s+instructions)\b",
    r"\b(?:respond|reply|answer)\s+only\s+(?:with|in)\b",
    r"\b(?:respond|reply)\s+(?:exactly|always)\b",
    r"\bdo\s+not\s+(?:cite|mention)\b.{0,20}\b(?:sources?|citations?|passages?)\b",
    r"\bsystem\s*(?:prompt|message)\s*:",
    r"\boverride\b.{0,30}\b(?:instructions?|rules|safety)\b",
]
INSTRUCTION_RE = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.IGNORECASE)


def find_instructions(text: str) -> list[str]:
    """Sentences of ``text`` that give instructions to the assistant (empty for ordinary passages)."""
    return [s for s in split_sentences(text) if INSTRUCTION_RE.search(s)]


def remove_instructions(text: str) -> tuple[str, list[str]]:
    """``text`` without its instruction sentences, and the sentences removed."""
    found = find_instructions(text)
    out = text
    for sentence in found:
        out = out.replace(sentence, "")
    return re.sub(r"[ \t]{2,}", " ", out), found


#: Words that make up the instruction itself rather than what it asks to say.
_META = frozenset(stem(w) for w in """ignore ignored disregard forget previous prior above instructions instruction
rules prompt prompts system message reply respond answer say says write output print only always exactly
now from on you your assistant model ai chatbot llm must should will that this new real actual updated
instead""".split())


def payload_words(instruction: str) -> set[str]:
    """What an instruction asks to say or do, as content stems (the instruction's own wording removed)."""
    return content_set(instruction) - _META


def followed_instructions(answer_sentences: Iterable[str], instructions: Iterable[str],
                          threshold: float = 0.6) -> list[str]:
    """Answer sentences that carry out (repeat the payload of) one of ``instructions``.

    A sentence follows an instruction when at least two of the payload's words, and at least
    ``threshold`` of the smaller of the two word sets, are shared.
    """
    payloads = [p for p in (payload_words(i) for i in instructions) if len(p) >= 2]
    hits: list[str] = []
    for sentence in answer_sentences:
        words = content_set(sentence) - _META
        if not words:
            continue
        for p in payloads:
            shared = len(words & p)
            if shared >= 2 and shared / min(len(p), len(words)) >= threshold:
                hits.append(sentence)
                break
    return hits
