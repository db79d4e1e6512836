"""What a message asks, apart from the scene it sets.

Bench scientists write "We image zebrafish hearts on a spinning disk and the signal is weak. How do I
denoise the stacks without losing the valves?": one or more sentences of context, then the question. The
context words (zebrafish, spinning disk) describe the sample; the question is what the sources must answer.
:func:`split_focus` tells them apart: a sentence *asks* when it ends with a question mark or opens with an
asking phrase (cue data ``asking_openers`` in ``data/question_types.yaml``); the other sentences are
context. A message that asks nothing explicitly, or whose asking sentences lean on the context ("Is that
enough?", fewer than ``asked_min_content_words`` content words), is asked as a whole.

The abstention inputs that ask "does the evidence address what is asked" and the question type are taken
from the asked part (:mod:`scopebot.answer.abstain`, :mod:`scopebot.answer.qtype`).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field

from scopebot.answer.qtype import cue_data
from scopebot.answer.text import content_words, split_sentences


class QuestionFocus(BaseModel):
    """A message split into the sentences that ask and the sentences that set the scene."""

    asked: str = Field(description="The sentences that ask (the whole message when none asks on its own).")
    context: str = Field(default="", description="The sentences that describe the situation, in order.")

    @property
    def has_context(self) -> bool:
        return bool(self.context)


@lru_cache(maxsize=1)
def _openers() -> tuple[str, ...]:
    return tuple(sorted((str(c).lower() for c in cue_data().get("asking_openers", [])), key=len, reverse=True))


def _asks(sentence: str) -> bool:
    s = sentence.strip()
    if s.endswith("?"):
        return True
    low = " ".join(s.lower().replace(",", " ").split())
    return any(low == o or low.startswith(o + " ") for o in _openers())


@lru_cache(maxsize=512)
def split_focus(message: str) -> QuestionFocus:
    """The asked part and the context of ``message`` (see the module docstring)."""
    sentences = split_sentences(message)
    if len(sentences) < 2:
        return QuestionFocus(asked=message.strip())
    asking = [_asks(s) for s in sentences]
    if all(asking) or not any(asking):
        return QuestionFocus(asked=message.strip())
    asked = " ".join(s for s, a in zip(sentences, asking, strict=True) if a)
    if len(set(content_words(asked))) < int(cue_data().get("asked_min_content_words", 3)):
        return QuestionFocus(asked=message.strip())
    context = " ".join(s for s, a in zip(sentences, asking, strict=True) if not a)
    return QuestionFocus(asked=asked, context=context)


def asked_part(message: str) -> str:
    """The sentences of ``message`` that ask (all of it when it sets no scene)."""
    return split_focus(message).asked
