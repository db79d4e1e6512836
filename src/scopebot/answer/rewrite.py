"""Follow-up questions: rewrite the retrieval query with the conversation, only once a follow-up is proven.

An earlier turn may only leak into a new question when the new question demonstrably depends on it
(:func:`follow_up`). The proof has two parts:

1. **It refers back**: a pronoun or demonstrative with nothing in the question to point to ("how do
   I install *it*?", "why does *it* struggle with elongated cells?", "which *ones* work in 3D?"), or
   an elliptical opener ("*and* in 3D?", "*what about* for EM?", "... *instead*?"). A question that
   does neither ("What is Noise2Void?") is standalone whatever came before it, however short.
2. **It has no topic of its own, or its topic is the previous turn's.** When the question names
   something itself (a tool, a model: "Noise2Void", "Fiji", "CARE"), it must share a word stem with
   the previous question or answer; otherwise the names in it are the topic, and earlier turns stay
   out of the query.

A small model (``model.is_small``) rewrites unreliably, so for it the rewrite is deterministic: the
content words of the previous user question are added to a proven follow-up. A strong model gets
the ``answer_rewrite`` prompt for a proven follow-up; if its reply is empty, multi-line garbage or
the call fails, the deterministic rewrite is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scopebot.answer.text import STOPWORDS, content_set, words
from scopebot.errors import ScopebotError
from scopebot.llm.base import ChatModel, Message

if TYPE_CHECKING:
    from scopebot.prompts import PromptLibrary

#: Pronouns and demonstratives that point at something said before (closed-class words, not tuned).
_REFERRING = frozenset("it its it's itself they them their theirs these those this ones same above previous "
                       "latter former".split())
#: "that"/"one" refer back only in these positions ("do that?", "which one", "that one"), not as
#: a relative pronoun ("cells that touch") or a number ("one image").
_THAT_END = re.compile(r"\bthat\s*[?.!]*\s*$", re.IGNORECASE)
_WHICH_ONE = re.compile(r"\b(which|that|this|the other|the same|the first|the second|the last)\s+one\b",
                        re.IGNORECASE)
#: Elliptical openers and markers: the question continues the previous one.
_ELLIPSIS = re.compile(r"^\s*(and|or|but|what about|how about|same)\b|\binstead\b", re.IGNORECASE)
MAX_QUERY_CHARS = 300


@dataclass(frozen=True)
class FollowUp:
    """Whether a question was proven to continue the previous turn, and why (for traces and tests)."""

    proven: bool
    reason: str


def _previous_user(history: Sequence[Message]) -> str:
    return next((m.content for m in reversed(history) if m.role == "user" and m.content.strip()), "")


def _previous_reply(history: Sequence[Message]) -> str:
    """The assistant's reply to the previous user question ('' when there is none)."""
    seen_user = False
    for m in reversed(history):
        if m.role == "user" and m.content.strip():
            seen_user = True
        elif m.role == "assistant" and not seen_user:
            return m.content
    return ""


def refers_back(question: str) -> str | None:
    """The word or opener by which ``question`` points at an earlier turn, or None."""
    toks = [w.lower() for w in words(question)]
    hit = next((t for t in toks if t in _REFERRING), None)
    if hit:
        return hit
    for pattern in (_THAT_END, _WHICH_ONE, _ELLIPSIS):
        m = pattern.search(question)
        if m:
            return m.group(0).strip().lower()
    return None


def own_topic(question: str) -> list[str]:
    """Names the question brings itself: words written as names (``Noise2Void``, ``Fiji``, ``CARE``).

    A name has three characters or more (two-letter words such as "EM" or "2D" qualify a topic) and
    is written as a name: a capital after its first letter, letters mixed with digits (four
    characters or more), all capitals, or a capital first letter anywhere but at the sentence start.
    """
    names: list[str] = []
    for i, tok in enumerate(words(question)):
        low = tok.lower()
        if low in STOPWORDS or low in _REFERRING or len(tok) < 3:
            continue  # two-letter words ("EM", "2D") qualify a topic rather than name one
        mixed = any(c.isupper() for c in tok[1:])
        digits = any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok) and len(tok) >= 4
        acronym = tok.isupper() and tok.isalpha()
        capitalised = i > 0 and tok[0].isupper()
        if mixed or digits or acronym or capitalised:
            names.append(tok)
    return names


def follow_up(question: str, history: Sequence[Message] | None) -> FollowUp:
    """Prove (or not) that ``question`` continues the previous turn of ``history`` (see the module doc)."""
    previous = _previous_user(history or [])
    if not previous:
        return FollowUp(False, "no earlier question")
    cue = refers_back(question)
    if cue is None:
        return FollowUp(False, "nothing in the question refers back: it stands alone")
    names = own_topic(question)
    if not names:
        return FollowUp(True, f"refers back ({cue!r}) and names no topic of its own")
    shared = content_set(question) & content_set(f"{previous}\n{_previous_reply(history or [])}")
    if shared:
        return FollowUp(True, f"refers back ({cue!r}) and shares {', '.join(sorted(shared)[:3])} with the previous turn")
    return FollowUp(False, f"names its own topic ({', '.join(names[:3])}) unrelated to the previous turn")


def needs_context(question: str, history: Sequence[Message] | None = None) -> bool:
    """True when ``question`` is a proven follow-up of ``history`` (see :func:`follow_up`)."""
    return follow_up(question, history).proven


def deterministic_rewrite(question: str, history: Sequence[Message] | None) -> str:
    """``question`` plus the content words of the previous user question, for a proven follow-up only."""
    if not history or not follow_up(question, history).proven:
        return question.strip()
    previous = _previous_user(history)
    mine = {w.lower() for w in words(question)}
    extra = [w for w in dict.fromkeys(words(previous)) if w.lower() not in STOPWORDS and w.lower() not in mine]
    return f"{question.strip()} {' '.join(extra)}".strip()[:MAX_QUERY_CHARS]


def format_history(history: Sequence[Message], turns: int = 6, chars: int = 400) -> str:
    lines = []
    for m in list(history)[-turns:]:
        if m.role not in ("user", "assistant") or not m.content.strip():
            continue
        text = re.sub(r"\s+", " ", m.content).strip()
        lines.append(f"{'User' if m.role == 'user' else 'Assistant'}: {text[:chars]}")
    return "\n".join(lines)


def rewrite_query(question: str, history: Sequence[Message] | None, model: ChatModel | None,
                  prompts: PromptLibrary | None = None) -> str:
    """The standalone retrieval query for ``question`` given the conversation ``history``.

    Earlier turns enter the query only for a proven follow-up; any other question is its own query.
    """
    if not history or not follow_up(question, history).proven:
        return question.strip()
    fallback = deterministic_rewrite(question, history)
    if model is None or model.is_small or prompts is None:
        return fallback
    try:
        messages = prompts.messages("answer_rewrite", history=format_history(history), question=question)
        reply = model.complete(messages, max_tokens=64, temperature=0.0).text
    except ScopebotError:
        return fallback
    line = next((ln.strip() for ln in reply.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^(?:standalone\s+)?(?:search\s+)?query\s*:\s*", "", line, flags=re.IGNORECASE).strip(" \"'`")
    if not line or len(line) > MAX_QUERY_CHARS:
        return fallback
    return line
