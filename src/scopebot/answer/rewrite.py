"""Follow-up questions: rewrite the retrieval query with the conversation, only once a follow-up is proven.

An earlier turn may only leak into a new question when the new question demonstrably depends on it
(:func:`follow_up`). The proof:

1. **It refers back.** An elliptical opener or marker ("*and* in 3D?", "*what about* for EM?",
   "... *instead*?", "which *one*", "do *that*", "*those* areas", "the *same* problem") or a pronoun
   ("how do I install *it*?", "why does *it* struggle with elongated cells?"). "this image"/"these files" point at the upload, not at the
   conversation. A question that does neither ("What is Noise2Void?") stands alone, however short.
2. **What it refers to is not in the question itself.** A pronoun with nothing before it in the
   question to point to (no name, fewer than two content words: "how do I install it?") refers to
   the previous turn. When the question names its own topic before the pronoun ("Noise2Void: how do
   I install it?", "what are batch effects and how do they ..."), the pronoun may point at that
   topic, so the question must also be *similar* to the previous turn (share a name, or two word
   stems, with the previous question or answer) to count as a follow-up. So must a determiner that
   may point at the user's own material ("this error", "these settings").

A small model (``model.is_small``) rewrites unreliably, so for it the rewrite is deterministic: the
content words of the previous user question are added to a proven follow-up. A strong model gets
the ``answer_rewrite`` prompt for a proven follow-up; if its reply is empty, multi-line garbage or
the call fails, the deterministic rewrite is used. Any other question is its own query.
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
_DEMONSTRATIVES = frozenset("this these that those".split())
#: Words that only ever point back in the discourse ("those areas", "the same problem"): no test
#: for an antecedent inside the question.
_DISCOURSE = frozenset("those same previous above latter former ones".split())
#: "this image", "these files": deixis to the uploaded data, not to the conversation.
_DATA_NOUNS = frozenset("image images picture pictures photo stack stacks file files data dataset datasets movie "
                        "movies video volume volumes tif tiff png jpg jpeg czi nd2 lif channel channels frame "
                        "frames folder upload".split())
#: "that"/"one" refer back only in these positions ("do that?", "than that", "which one"), not as a
#: relative pronoun ("cells that touch") or a number ("one image").
_THAT = re.compile(r"\bthat\s*[?.!]*\s*$|\b(?:do|does|did|doing|done|than|like|about)\s+that\b", re.IGNORECASE)
_WHICH_ONE = re.compile(r"\b(?:which|that|this|the other|the same|the first|the second|the last)\s+one\b",
                        re.IGNORECASE)
#: Elliptical openers and markers: the question continues the previous one.
_ELLIPSIS = re.compile(r"^\s*(?:and|or|but|what about|how about|same)\b|\binstead\b", re.IGNORECASE)
MAX_QUERY_CHARS = 300
#: Similar enough to the previous turn: a shared name, or this many shared word stems (one shared
#: everyday word such as "image" is not enough).
MIN_SHARED_STEMS = 2


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


@dataclass(frozen=True)
class Cue:
    """How a question refers back: the words, and whether the question itself names what they may mean."""

    text: str
    #: True when a topic named earlier in the question itself could be what the pronoun means.
    anchored: bool = False


def refers_back(question: str) -> Cue | None:
    """How ``question`` points at an earlier turn (see the module docstring), or None."""
    for pattern in (_ELLIPSIS, _WHICH_ONE, _THAT):
        m = pattern.search(question)
        if m:
            return Cue(m.group(0).strip().lower())
    toks = words(question)
    anchored: Cue | None = None
    for i, tok in enumerate(toks):
        low = tok.lower()
        if low not in _REFERRING:
            continue
        if low in _DEMONSTRATIVES and any(t.lower() in _DATA_NOUNS for t in toks[i + 1:i + 4]):
            continue  # "this 16-bit image": the upload
        if low in _DISCOURSE:
            return Cue(low)
        before = " ".join(toks[:i])
        following = toks[i + 1].lower() if i + 1 < len(toks) else ""
        # "this error", "these settings": a determiner may point at the user's own material as well
        determiner = low in ("this", "these") and following.isalpha() and following not in STOPWORDS
        if determiner or own_topic(before) or len(content_set(before)) >= 2:
            anchored = anchored or Cue(low, anchored=True)
            continue
        return Cue(low)
    return anchored


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
    if not cue.anchored:
        return FollowUp(True, f"refers back ({cue.text!r}) with nothing in the question to point to")
    earlier = f"{previous}\n{_previous_reply(history or [])}"
    shared = content_set(question) & content_set(earlier)
    names = {n.lower() for n in own_topic(question)} & {w.lower() for w in words(earlier)}
    if names or len(shared) >= MIN_SHARED_STEMS:
        return FollowUp(True, f"refers back ({cue.text!r}) and shares {', '.join(sorted(names or shared)[:3])} "
                              "with the previous turn")
    return FollowUp(False, f"{cue.text!r} may point at the question's own topic, which the previous turn "
                           "does not share")


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
