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

from scopebot.answer.text import content_set, split_sentences

_INSTRUCTION_PATTERNS = [
    r"\bignore\b.{0,40}\b(?:instructions?|rules|prompts?|context|above|previous|prior)\b",
    r"\bdisregard\b.{0,40}\b(?:instructions?|rules|prompts?|above|previous|prior|sources?)\b",
    r"\bforget\b.{0,30}\b(?:instructions?|rules|everything|previous|prior)\b",
    r"\b(?:new|updated|real|actual)\s+instructions?\s*:",
    r"\byou\s+(?:are\s+now|must\s+now|will\s+now|should\s+now)\b",
    r"\b(?:as\s+an?\s+)?(?:ai|assistant|language\s+model|chatbot|llm)\s*[,:]?\s*(?:you\s+)?(?:must|should|will)\b",
    r"\b(?:reveal|print|show|output|repeat)\b.{0,30}\b(?:system\s+prompt|prompt|instructions)\b",
    r"\b(?:respond|reply|answer|say)\s+(?:only\s+)?with\b",
    r"\b(?:respond|reply|answer)\s+(?:only|exactly|always)\b",
    r"\bdo\s+not\s+(?:cite|mention|follow|use)\b.{0,30}\b(?:sources?|citations?|passages?|rules|instructions)\b",
    r"\bsystem\s*(?:prompt|message)\s*:",
    r"\boverride\b.{0,30}\b(?:instructions?|rules|safety|settings)\b",
]
INSTRUCTION_RE = re.compile("|".join(f"(?:{p})" for p in _INSTRUCTION_PATTERNS), re.IGNORECASE)
_PAYLOAD_RE = re.compile(r"(?:\band\s+(?:instead\s+)?|:\s*|\binstead\s*,?\s*|\bwith\s+)(.+)$", re.IGNORECASE)


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


def payload(instruction: str) -> str:
    """What an instruction asks to say or do: the part after 'and', ':' or 'with' (or all of it)."""
    m = _PAYLOAD_RE.search(instruction)
    return (m.group(1) if m else instruction).strip(" .\"'")


def followed_instructions(answer_sentences: Iterable[str], instructions: Iterable[str],
                          threshold: float = 0.6) -> list[str]:
    """Answer sentences that carry out (repeat the payload of) one of ``instructions``."""
    payloads = [content_set(payload(i)) for i in instructions]
    payloads = [p for p in payloads if len(p) >= 2]
    hits: list[str] = []
    for sentence in answer_sentences:
        words = content_set(sentence)
        if not words:
            continue
        for p in payloads:
            overlap = len(words & p) / len(p)
            if overlap >= threshold and len(words & p) >= 2:
                hits.append(sentence)
                break
    return hits
