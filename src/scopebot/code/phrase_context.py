"""Prepositional phrases the plan does not depend on: "my stack is from light sheet", "imaged on our Zeiss".

:mod:`context_words` frees the unplaced words of a whole sentence when the plan is the same without it. A
sentence that also carries something the plan uses (a number, a plan word) cannot be taken out whole, yet a
phrase inside it may still say only where the data come from. This module applies the same ablation to one
phrase: a provenance phrase ("from ...", "on ...", "at ...") or, in a plan that is not time-resolved, a phrase
of the sample's history ("after ...", "before ...", "during ...") running to the end of its clause.

**Guards** (any one keeps the phrase's words reported):
- an object noun stands earlier in the clause ("the spots are on the cilium", "cells with mitotic figures",
  "nuclei from the infected wells"): a phrase after the objects may narrow which objects are measured;
- the word before the preposition is not a known filler (a plan word: "the intensity at the cilium"; an
  unknown word: "spots that lie on ..."), or a relative pronoun stands before it in the clause;
- a time phrase in a time-resolved plan ("track them after the drug addition": which frames), unless it follows an
  acquisition verb and its rate ("filmed every 30 s after drug treatment": when the data were taken; the phrase may
  then follow a number and the objects named before the verb);
- the phrase holds a number, a negation, a focus word, or its sentence asks something;
- the plan without the phrase differs from the request's plan (fields, missing inputs, other reported words).

The freed words are shown in ``plan.not_used`` by the caller, never dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.normalise import CLAUSE_BREAKS

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan, ImageMeta
    from scopebot.code.planner import Parse, Planner

#: prepositions of where the data come from (instrument, facility, source)
PROVENANCE = frozenset({"from", "on", "at"})
#: prepositions of the sample's history: in a time-resolved plan they may choose frames
HISTORY = frozenset({"after", "before", "during"})
_RELATIVE = frozenset({"that", "which", "who", "whose", "where", "whom"})


#: verbs of acquiring the data: a history phrase right after one (and its rate) says when the data were taken
ACQUISITION = frozenset({"recorded", "imaged", "acquired", "taken", "captured", "filmed", "shot", "started"})
_RATE_WORDS = frozenset({"every", "each", "per", "at", "a", "one", "frame", "frames", "image", "images"})


def _acquisition_verb(toks: list, texts: list[str], lo: int, p: int) -> int | None:
    """The position of an acquisition verb before the history preposition at ``p`` in its clause, with its rate (a
    number) and nothing else between ("filmed every 30 s after ..."), or None."""
    rate = False
    for k in range(p - 1, lo - 1, -1):
        if texts[k] in ACQUISITION:
            return k if rate else None  # "imaged after the drug" alone may mean the frames after it
        if not (toks[k].used in ("number", "unit", "filler") or texts[k] in _RATE_WORDS):
            return None
        rate = rate or toks[k].used == "number"
    return None


def phrase_at(parse: Parse, planner: Planner, plan: AnalysisPlan, i: int) -> tuple[int, int] | None:
    """[start, end) of the provenance or history phrase holding unplaced token ``i``, or None when a guard
    keeps it (see the module text)."""
    from scopebot.code.context_words import FOCUS, REQUEST_MARKERS, SENTENCE_BREAKS, _span

    vocab = planner.vocab
    toks = parse.tokens
    texts = [t.text for t in toks]
    lo, hi = _span(texts, i, CLAUSE_BREAKS)
    p = next((k for k in range(i - 1, lo, -1) if texts[k] in PROVENANCE | HISTORY), None)
    if p is None:
        return None
    verb = _acquisition_verb(toks, texts, lo, p)  # "filmed every 30 s after drug treatment": when, not which frames
    if texts[p] in HISTORY and (plan.inputs.time == "all" or plan.meta.t > 1) and verb is None:
        return None
    if (toks[p - 1].used != "filler" and verb is None) or any(t in _RELATIVE for t in texts[lo:p]):
        return None
    if any(vocab.concepts[idx].get("object_nouns") for pos, idx in parse.concepts
           if (lo if verb is None else verb) <= pos < p):  # objects named before the acquisition verb are its subject
        return None
    slo, shi = _span(texts, i, SENTENCE_BREAKS)
    if any(t in REQUEST_MARKERS for t in texts[slo:min(len(texts), shi + 1)]):
        return None
    for t in toks[p:hi]:
        if (t.text[:1].isdigit() or t.text in vocab.cardinals or t.text in vocab.ordinals or t.used == "negation"
                or t.text in vocab.negations or t.text in FOCUS):
            return None
    return p, hi


def read_phrases(planner: Planner, parse: Parse, plan: AnalysisPlan, meta: ImageMeta | None,
                 words: list[int], skip: set[str], whole: str) -> set[int]:
    """The positions (of ``words``, unplaced tokens) inside phrases the plan does not depend on (``whole``: the
    signature of the whole request, :func:`scopebot.code.context_words.signature`)."""
    from scopebot.code.context_words import signature

    texts = [t.text for t in parse.tokens]
    freed: set[int] = set()
    tried: dict[tuple[int, int], bool] = {}
    for i in words:
        span = phrase_at(parse, planner, plan, i)
        if span is None:
            continue
        if span not in tried:
            rest = texts[:span[0]] + texts[span[1]:]
            tried[span] = signature(planner.plan(" ".join(rest), meta, context=False), skip) == whole
        if tried[span]:
            freed.add(i)
    return freed


def in_history_phrase(parse: Parse, plan: AnalysisPlan, i: int) -> bool:
    """Whether unplaced token ``i`` stands in a history phrase ("after the drug addition") of a time-resolved plan,
    not after an acquisition verb: the phrase may choose frames, so no ablation may show it as not used."""
    from scopebot.code.context_words import _span

    if not (plan.inputs.time == "all" or plan.meta.t > 1):
        return False
    texts = [t.text for t in parse.tokens]
    lo, _ = _span(texts, i, CLAUSE_BREAKS)
    p = next((k for k in range(i - 1, lo - 1, -1) if texts[k] in HISTORY), None)
    return p is not None and _acquisition_verb(parse.tokens, texts, lo, p) is None
