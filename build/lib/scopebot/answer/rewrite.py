"""Follow-up questions: rewrite the retrieval query with the conversation.

A small model (``model.is_small``) rewrites unreliably, so for it the rewrite is deterministic: the
content words of the previous user question are added to a follow-up that refers back ("how do I
install it?", "and in 3D?"). A strong model gets the ``answer_rewrite`` prompt; if its reply is
empty, multi-line garbage or the call fails, the deterministic rewrite is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from scopebot.answer.text import STOPWORDS, words
from scopebot.errors import ScopebotError
from scopebot.llm.base import ChatModel, Message

if TYPE_CHECKING:
    from scopebot.prompts import PromptLibrary

_REFERRING = frozenset("it its it's this that these those they them their one ones same above previous "
                       "instead also too there then".split())
MAX_QUERY_CHARS = 300


def _previous_user(history: Sequence[Message]) -> str:
    return next((m.content for m in reversed(history) if m.role == "user" and m.content.strip()), "")


def needs_context(question: str) -> bool:
    """A follow-up that refers back (pronouns) or is too short to stand alone."""
    toks = [w.lower() for w in words(question)]
    content = [w for w in toks if w not in STOPWORDS]
    return bool(set(toks) & _REFERRING) or len(content) < 3 or question.strip().lower().startswith(("and ", "what about"))


def deterministic_rewrite(question: str, history: Sequence[Message] | None) -> str:
    """``question`` plus the content words of the previous user question when it refers back."""
    if not history or not needs_context(question):
        return question.strip()
    previous = _previous_user(history)
    if not previous:
        return question.strip()
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
    """The standalone retrieval query for ``question`` given the conversation ``history``."""
    fallback = deterministic_rewrite(question, history)
    if not history or not _previous_user(history) or model is None or model.is_small or prompts is None:
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
