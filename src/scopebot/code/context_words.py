"""Unplaced words in sentences the plan does not depend on: shown as "not used" instead of declining.

The vocabulary planner reports every word it cannot place (``plan.not_understood``) and the assistant then
declines. Many such words only describe the sample or the situation ("The dots are from a micropatterned
slide.", "The scale is embedded in the file.", "Our core printed the array to test the new spotter."); others
carry the request ("the whole distance", "don't count the specks"). A word list cannot tell them apart for the
next author's words, so this module decides by a test that does not look at the word at all:

**Ablation.** A sentence is a *description* when planning the request without it gives the same plan: the
same fields, the same missing inputs, the same other reported words. An unplaced word of a description
sentence cannot change the analysis through the plan's grammar: its sentence says nothing the plan uses.

**Guards** (checked first; any one keeps the word reported):
- the request names no measurement and the plan falls back to its default (count and size): the unknown
  words may be the request itself ("Could you 3D print these nuclei?");
- the sentence restricts what is measured (a focus word: only, just, interested, mainly ...);
- the sentence asks something (a question mark, "you", "please", a wish: "I want", "I'd like") or starts
  with the unplaced word (an imperative verb the vocabulary does not know: "Register the image ...");
- the sentence holds a number (digits, "one", "third": a quantity the plan may need even where the
  image's metadata gives one: "one frame per minute"), or the word follows a rate word ("per minute");
- an object noun stands earlier in the clause with a locating preposition between ("The spots are on the
  cilium."): the word may say which objects are measured;
- the word follows how/what/which (what the question asks), stands in a clause with a negation, stands
  right before or after a plan word or before "ones" (part of a measured noun phrase or of which objects:
  "the whole distance", "the dividing cells", "the mitotic ones"), or heads "the X of <plan word>".

The words read as context are still shown (``plan.not_used``, the plan's "not used:" line), never dropped.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scopebot.answer.text import STOPWORDS
from scopebot.code.normalise import CLAUSE_BREAKS
from scopebot.code.thesaurus import SENTENCE_BREAKS  # ":" too: "Quick background: ..." is a unit of its own

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan, ImageMeta
    from scopebot.code.planner import Parse, Planner, Vocabulary

#: ``Token.used`` values that carry no plan meaning (everything else is a plan role)
NEUTRAL = frozenset({"filler", "magnification", "duration", "translocation"})
#: words that make a sentence a request to the assistant rather than a description
REQUEST_MARKERS = frozenset({"?", "you", "u", "please", "pls", "want", "wants", "need", "needs", "like", "wish"})
#: focus words: a sentence with one restricts what is measured ("I'm only interested in mitoses")
FOCUS = frozenset({"only", "just", "interested", "interest", "focus", "care", "mainly", "specifically",
                   "particular", "particularly", "exclusively", "solely", "except", "but"})
#: the plan's note when no measurement was named (plan_rules._defaults)
DEFAULT_NOTE = "segmentation only -> count and size (default)"
_QUESTION_HEADS = frozenset({"how", "what", "which"})
_ONES = frozenset({"ones", "one"})


def _plan_role(used: str | None, neutral: frozenset[str] = NEUTRAL) -> bool:
    return used is not None and used not in neutral


def _span(texts: list[str], i: int, breaks: frozenset[str]) -> tuple[int, int]:
    """[lo, hi) of the sentence or clause around position i (without its closing break)."""
    lo = i
    while lo > 0 and texts[lo - 1] not in breaks:
        lo -= 1
    hi = i
    while hi + 1 < len(texts) and texts[hi + 1] not in breaks:
        hi += 1
    return lo, hi + 1


def _next_content(texts: list[str], i: int, hi: int) -> int | None:
    k = i + 1
    while k < hi and (texts[k] in STOPWORDS or texts[k] in CLAUSE_BREAKS):
        k += 1
    return k if k < hi else None


#: words before "but" that make it "except" ("all but the smallest"); elsewhere "but" joins two clauses
_EXCEPT_LEADS = frozenset({"all", "everything", "anything", "nothing", "none", "every", "each", "any", "nobody"})
#: ``Token.used`` of numbers the planner has read as something other than a plan quantity
_NOT_QUANTITIES = frozenset({"channel", "magnification", "duration"})


def _conjunction(texts: list[str], k: int) -> bool:
    """Whether the focus word at ``k`` is "but" joining two clauses ("..., but the prep has dust"), not "except"."""
    return texts[k] == "but" and (k == 0 or texts[k - 1] not in _EXCEPT_LEADS)


def _quantity(toks: list, texts: list[str], vocab: Vocabulary, k: int) -> bool:
    """Whether token ``k`` is a number the plan may need: not a channel reference, an objective's magnification or a
    duration the planner has read, and not a number word of an idiom ("two by two", "one another")."""
    t = toks[k]
    if not (t.text[:1].isdigit() or t.text in vocab.cardinals or t.text in vocab.ordinals) or t.used in _NOT_QUANTITIES:
        return False
    if t.text in vocab.cardinals and k + 1 < len(texts) and (texts[k + 1] in ("another", ":") or (
            texts[k + 1] == "by" and k + 2 < len(texts) and texts[k + 2] == t.text)):
        return False  # "one another", "two by two", "Slow one: ..."
    return not (t.text in vocab.cardinals and k >= 2 and texts[k - 1] == "by" and texts[k - 2] == t.text)


#: heads of a courtesy formula: a sentence with one thanks, apologises or greets, even when it says "you"
COURTESY = frozenset({"thanks", "thank", "thx", "sorry", "apologies", "apologise", "apologize", "regards", "cheers",
                      "grateful", "appreciate", "appreciated", "bother", "bothering", "hope", "hoping"})
#: what makes a sentence with "you" a request even when it also thanks ("thanks, could you also ...")
_ASKING = frozenset({"?", "please", "pls", "plz", "want", "wants", "need", "needs", "like", "wish", "can", "could",
                     "would", "will", "may", "might", "must", "should"})


def courtesy(tokens: list) -> bool:
    """Whether a sentence (its tokens) holding a request marker is a courtesy formula ("Thanks a lot, you saved my
    weekend.", "Sorry to bother you with such a simple thing."): a courtesy head, none of the words that ask, and no
    clause that opens with an unplaced word ("Thanks, and deconvolve it first": an instruction)."""
    texts = [t.text for t in tokens]
    if not any(t in COURTESY for t in texts) or any(t in _ASKING for t in texts):
        return False
    for k, tok in enumerate(tokens):
        j = k - 1
        while j >= 0 and texts[j] in _LEADS:
            j -= 1
        if not tok.used and tok.text.isalpha() and (j < 0 or texts[j] in CLAUSE_BREAKS) and tok.text not in _LEADS:
            return False
    return True


#: words that may open a clause before an instruction ("and also deconvolve it")
_LEADS = frozenset({"and", "also", "then", "so", "but", "just", "first", "maybe"})


def guarded(parse: Parse, vocab: Vocabulary, i: int) -> str | None:
    """Why unplaced token ``i`` must stay reported (None: it may be context if its sentence is)."""
    toks = parse.tokens
    texts = [t.text for t in toks]
    clo, chi = _span(texts, i, CLAUSE_BREAKS)
    slo, shi = _span(texts, i, SENTENCE_BREAKS)
    sentence = texts[slo:min(len(texts), shi + 1)]
    if any(t in REQUEST_MARKERS for t in sentence) and not courtesy(toks[slo:min(len(texts), shi + 1)]):
        return "in a sentence that asks something"
    if any(t in FOCUS and not _conjunction(texts, k) for k, t in enumerate(texts[slo:shi], start=slo)):
        return "in a sentence that restricts what is measured"
    if i == slo and not (i + 1 < len(texts) and texts[i + 1] in (",", ":")):  # "Hallo, ...", "Context: ..."
        return "first word of its sentence (an instruction?)"
    if any(_quantity(toks, texts, vocab, k) for k in range(slo, shi)):
        return "in a sentence with a number (a quantity the plan may need)"
    if any(toks[k].used == "channel" for k in range(clo, chi)) and not any(
            toks[k].used == f"concept:{idx}" and vocab.concepts[idx].get("object_nouns")
            for k in range(clo, chi) for idx in (dict(parse.concepts).get(k, -1),) if idx >= 0):
        return "said of a channel (it may say which channel is measured or left out: 'the first one is ignored')"
    if any(toks[k].used == "negation" or texts[k] in vocab.negations for k in range(clo, chi)):
        return "in a clause with a negation"
    return word_guard(parse, vocab, i)


def word_guard(parse: Parse, vocab: Vocabulary, i: int, neutral: frozenset[str] = NEUTRAL) -> str | None:
    """The guards of :func:`guarded` that look at the word's neighbours, not at its sentence (``neutral``: the
    ``Token.used`` values that are no plan word next to it)."""
    toks = parse.tokens
    texts = [t.text for t in toks]
    clo, chi = _span(texts, i, CLAUSE_BREAKS)
    if i > 0 and texts[i - 1] in vocab.per_words - {"a", "an"}:  # "per minute", "every minute"; not an article
        return "after a rate word (a unit?)"
    if i > 0 and texts[i - 1] in _QUESTION_HEADS:
        return "what the question asks"
    if _located_objects(parse, vocab, texts, clo, i):
        return "where the objects are (it may narrow which objects are measured)"
    nxt = toks[i + 1] if i + 1 < chi else None
    if nxt is not None and (_plan_role(nxt.used, neutral) or nxt.text in _ONES):
        return "before a plan word (part of what is measured or of which objects)"
    if i > clo and _plan_role(toks[i - 1].used, neutral):
        return "after a plan word (part of what is measured or of which objects)"
    if nxt is not None and nxt.text == "of":
        after = _next_content(texts, i + 1, chi)
        if after is not None and _plan_role(toks[after].used, neutral):
            return "a noun of a plan word ('the X of the nuclei')"
    return None


#: Prepositions that place objects somewhere ("the spots are on the cilium", "nuclei in the outer layer").
LOCATING = frozenset({"on", "in", "inside", "within", "along", "at", "near", "around", "outside", "beside",
                      "between", "across", "under", "over", "into", "onto"})


def _located_objects(parse: Parse, vocab: Vocabulary, texts: list[str], clo: int, i: int) -> bool:
    """An object noun stands earlier in the clause and a locating preposition between it and word ``i``:
    "The spots are on the cilium." may restrict the count to the spots on the cilium."""
    objects = [pos for pos, idx in parse.concepts if clo <= pos < i and vocab.concepts[idx].get("object_nouns")]
    return bool(objects) and any(t in LOCATING for t in texts[min(objects) + 1:i])


def signature(plan: AnalysisPlan, skip: set[str]) -> str:
    core = plan.model_dump(exclude={"understood", "not_understood", "not_used"})
    return json.dumps([core, sorted(w for w in plan.not_understood if w not in skip)], sort_keys=True, default=str)


def description_sentences(planner: Planner, texts: list[str], starts: set[int], meta: ImageMeta | None,
                          skip: set[str], whole: str) -> set[int]:
    """The sentence starts (of ``starts``) whose sentence the plan does not depend on: planning the request
    without it gives the same plan (fields, missing inputs, other reported words) as ``whole``, the
    :func:`signature` of the whole request."""
    out = set()
    for lo in sorted(starts):
        hi = _span(texts, lo, SENTENCE_BREAKS)[1]
        rest = texts[:lo] + texts[min(len(texts), hi + 1):]  # the sentence and its full stop
        if rest and signature(planner.plan(" ".join(rest), meta, context=False), skip) == whole:
            out.add(lo)
    return out


def read_context(planner: Planner, parse: Parse, plan: AnalysisPlan, meta: ImageMeta | None) -> AnalysisPlan:
    """Move the unplaced words of description sentences (and of contrastive negations, :mod:`contrast`) from
    ``plan.not_understood`` to ``plan.not_used``."""
    from scopebot.code.clause_context import read_clauses
    from scopebot.code.contrast import read_contrasts
    from scopebot.code.phrase_context import in_history_phrase, read_phrases

    toks = parse.tokens
    texts = [t.text for t in toks]
    unplaced = [i for i, t in enumerate(toks) if not t.used]
    if not plan.not_understood or DEFAULT_NOTE in plan.understood \
            or plan.not_understood[:len(unplaced)] != [texts[i] for i in unplaced]:
        return plan
    skip = {texts[i] for i in unplaced}
    whole = signature(planner.plan(" ".join(texts), meta, context=False), skip)
    if whole != signature(plan, skip):
        return plan  # the normalised words do not plan like the request: read nothing as context
    context = read_contrasts(planner, parse, plan, meta, unplaced)
    candidates = [i for i in unplaced if texts[i].isalpha() and i not in context
                  and not guarded(parse, planner.vocab, i) and not in_history_phrase(parse, plan, i)]
    if candidates:
        starts = {_span(texts, i, SENTENCE_BREAKS)[0] for i in candidates}
        described = description_sentences(planner, texts, starts, meta, skip, whole)
        context |= {i for i in candidates if _span(texts, i, SENTENCE_BREAKS)[0] in described}
    rest = [i for i in unplaced if texts[i].isalpha() and i not in context]
    if rest:  # a provenance or history phrase inside a sentence the plan depends on (phrase_context)
        context |= read_phrases(planner, parse, plan, meta, rest, skip, whole)
    rest = [i for i in rest if i not in context and not in_history_phrase(parse, plan, i)]
    if rest:  # a statement clause inside a sentence that asks or holds a number (clause_context)
        context |= read_clauses(planner, parse, plan, meta, rest, skip, whole)
    if not context:
        return plan
    plan.not_understood = [texts[i] for i in unplaced if i not in context] + plan.not_understood[len(unplaced):]
    plan.not_used = list(dict.fromkeys(texts[i] for i in sorted(context)))
    plan.understood.append("not used (the plan is the same without their sentence or phrase): "
                           + ", ".join(plan.not_used))
    return plan
