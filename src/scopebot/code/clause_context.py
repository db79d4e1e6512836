"""Statement clauses inside a sentence: the unit of the context ablation below the sentence.

:mod:`context_words` frees the unplaced words of a sentence the plan does not depend on, but its guards look at
the whole sentence: a number or a request anywhere in it keeps every unknown word reported. A request often
packs a statement about the sample or the situation into the sentence that asks or states the calibration
("i think my two markers are in different compartments but my PI isn't convinced", "the voxel size is in the
header (it is not isotropic, z is much coarser)", "Exclude the nuclei at the edge, since their size would be
wrong"). This module decomposes a sentence into clauses and applies the same ablation to one **statement
clause**: a clause with its own subject, which states something rather than asks for it.

A statement clause is a stretch of a sentence between clause breaks (, ; : ( ) and the sentence's end) that
starts, after leading connectors (and, but, so, although, since ...), with a subject: a personal pronoun or a
possessive (I, we, it, they, there, my, our, its ...), a demonstrative followed by a verb of being or an
auxiliary ("this isn't stored"), or, after a subordinator of reason or concession (because, since, although,
though, whereas), any noun phrase ("since the lamp is old").

**Guards** (any one keeps the clause's words reported): the clause holds a request marker or a verb of asking
(want, need, measure, count, give, tell, quantify ...), a focus word, a question head (how, what, which), a
number the plan may need; a negation in a clause that also holds a plan word (it may negate a step); and the
word-level guards of :func:`context_words.guarded` that look at neighbours (next to a plan word, "the X of the
nuclei", after a rate word, where the objects are). Then the ablation: the plan without the clause must equal
the request's plan (fields, missing inputs, other reported words). The freed words are shown in
``plan.not_used``, never dropped.

A leading subordinator the vocabulary does not know ("since", "although") is a connector: it is freed together
with its clause's words, or alone when its clause is a statement whose words are all placed (the clause's plan
words are then planned as usual).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.normalise import CLAUSE_BREAKS

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan, ImageMeta
    from scopebot.code.planner import Parse, Planner

#: words that may lead a clause before its subject
CONNECTORS = frozenset({"and", "but", "so", "because", "since", "as", "although", "though", "whereas", "while",
                        "also", "then", "yet", "cause", "cuz", "plus", "anyway", "even", "ok", "okay"})
#: subordinators of reason or concession: after one, any noun phrase is the clause's subject
SUBORDINATORS = frozenset({"because", "since", "although", "though", "whereas", "cause", "cuz"})
SUBJECTS = frozenset({"i", "we", "it", "they", "he", "she", "there", "my", "our", "his", "her", "their", "its",
                      "i'm", "we're", "it's", "they're", "there's", "i've", "we've", "i'd", "we'd", "none", "nothing"})
DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
#: verbs of being and auxiliaries: a demonstrative before one is a subject ("this isn't stored in the file")
COPULAS = frozenset({"is", "are", "was", "were", "isn't", "aren't", "wasn't", "weren't", "has", "have", "had",
                     "will", "would", "should", "can", "could", "may", "might", "must", "does", "do", "did",
                     "doesn't", "don't", "didn't", "won't", "can't", "seems", "looks"})
#: verbs that ask for a result: a clause holding one may be the request ("we also count the rings")
ASKING = frozenset({"measure", "measured", "count", "counted", "give", "tell", "show", "report", "list", "compute",
                    "calculate", "quantify", "estimate", "determine", "find", "get", "know", "aim", "goal",
                    "question", "wonder", "wondering", "curious", "asked", "ask", "asking", "hope", "expect",
                    "plot", "table", "output", "return", "analyse", "analyze", "compare", "check", "see",
                    "should", "must", "shall", "ought", "needs", "need", "require", "requires", "required",
                    "matter", "matters", "important", "importantly", "priority", "key", "main", "mostly"})
#: nouns of the data and the instrument: after a determiner they are the subject of a statement about the data
DATA_SUBJECTS = frozenset({"image", "images", "stack", "movie", "file", "files", "tif", "tiff", "ome-tiff", "export",
                           "header", "metadata", "camera", "microscope", "scope", "software", "macro", "plugin"})
_DETERMINERS = frozenset({"the", "this", "my", "our", "that"})
_QUESTION_HEADS = frozenset({"how", "what", "which", "why", "whether", "where", "when"})


def _starts_clause(texts: list[str], k: int) -> bool:
    """Whether a connector at ``k`` opens a new clause inside a stretch between breaks: a subordinator, or a
    connector followed by a subject ("... compartments but my PI isn't convinced")."""
    if texts[k] in SUBORDINATORS:
        return True
    return texts[k] in CONNECTORS and k + 1 < len(texts) and texts[k + 1] in SUBJECTS


def statement_clause(texts: list[str], i: int) -> tuple[int, int] | None:
    """[lo, hi) of the statement clause holding token ``i``, or None when its clause is not one."""
    lo = i
    while lo > 0 and texts[lo - 1] not in CLAUSE_BREAKS and not (lo < i and _starts_clause(texts, lo)):
        lo -= 1
    hi = i + 1
    while hi < len(texts) and texts[hi] not in CLAUSE_BREAKS and not _starts_clause(texts, hi):
        hi += 1
    k = lo
    while k < hi and texts[k] in CONNECTORS:  # the clause starts at its first connector
        k += 1
    if k >= hi:
        return None
    subordinate = any(t in SUBORDINATORS for t in texts[lo:k])
    head = texts[k]
    if head in SUBJECTS or (head in DEMONSTRATIVES and k + 1 < hi and texts[k + 1] in COPULAS):
        return lo, hi
    if head in _DETERMINERS and any(t in DATA_SUBJECTS for t in texts[k + 1:min(hi, k + 3)]) and hi - k > 2:
        return lo, hi  # "the plain tif lost it", "the export dropped the calibration": a statement about the data
    if subordinate and head not in _QUESTION_HEADS and not head[:1].isdigit():
        return lo, hi
    return None


def _guarded(parse: Parse, planner: Planner, lo: int, hi: int, i: int) -> bool:
    """Whether a guard of the module text keeps unplaced token ``i`` of the clause [lo, hi) reported."""
    from scopebot.code.context_words import (
        FOCUS,
        NEUTRAL,
        REQUEST_MARKERS,
        _conjunction,
        _plan_role,
        _quantity,
        word_guard,
    )

    vocab = planner.vocab
    toks = parse.tokens
    texts = [t.text for t in toks]
    words = texts[lo:hi]
    if any(t in REQUEST_MARKERS or t in ASKING or t in _QUESTION_HEADS for t in words):
        return True
    if any(t in FOCUS and not _conjunction(texts, k) for k, t in enumerate(words, start=lo)):
        return True
    if any(_quantity(toks, texts, vocab, k) for k in range(lo, hi)):
        return True
    if any(texts[k] in COPULAS and texts[k + 1] in ("the", "a", "an") and not toks[k + 2].used
           for k in range(lo, min(hi, len(texts) - 2))):
        return True  # "but our readout is the flatness": a definition may name what is asked
    negated = any(toks[k].used == "negation" or texts[k] in vocab.negations for k in range(lo, hi))
    if negated and any(_plan_role(toks[k].used) and toks[k].used != "negation" for k in range(lo, hi)):
        return True
    # a negation in a statement without plan words negates no step: it is no plan word next to the word
    return word_guard(parse, vocab, i, NEUTRAL | {"negation"}) is not None  # the sentence-level guards are replaced by the checks above


def read_clauses(planner: Planner, parse: Parse, plan: AnalysisPlan, meta: ImageMeta | None,
                 words: list[int], skip: set[str], whole: str) -> set[int]:
    """The positions (of ``words``, unplaced tokens) in statement clauses the plan does not depend on
    (``whole``: the signature of the whole request, :func:`context_words.signature`)."""
    from scopebot.code.context_words import signature

    texts = [t.text for t in parse.tokens]
    freed: set[int] = set()
    tried: dict[tuple[int, int], bool] = {}
    for i in words:
        span = statement_clause(texts, i)
        if span is None:
            continue
        lo, hi = span
        if texts[i] in CONNECTORS and i < lo + 3 and all(t.used for t in parse.tokens[lo:hi] if t.text != texts[i]) \
                and all(texts[k] in CONNECTORS for k in range(lo, i)):
            freed.add(i)  # "since" leading a statement whose words are all placed: a connector
            continue
        if _guarded(parse, planner, lo, hi, i):
            continue
        if span not in tried:
            rest = texts[:lo] + texts[hi:]
            tried[span] = bool(rest) and signature(planner.plan(" ".join(rest), meta, context=False), skip) == whole
        if tried[span]:
            freed.add(i)
    return freed
