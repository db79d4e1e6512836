"""Checks that read meaning: does a claim say what its passage says, not just use the same words?

Word overlap cannot tell "Noise2Void needs clean images" from "Noise2Void does not need clean
images". For a claim and the passage that supports it best, :func:`conflicts` compares the claim with
the passage sentence closest to it and reports:

* ``polarity``: one of them is negated and the other is not ("no", "not", "nor", "never", "cannot",
  "without" ... are meaning here, not stopwords), or the claim uses the opposite of the passage's word
  ("increases" / "decreases", "more" / "fewer", "supervised" / "self-supervised");
* ``entity``: the claim names a tool or method that the passage sentence is not about (the sentence,
  its subject carried from the sentence before for "It ..." / "This method ...", and the section);
* ``number``: a number (with its unit) of the claim that the passage does not state, or the same
  number with another unit ("200 nm" against "200 µm").

Names are matched as whole words (:class:`scopebot.answer.entities.NameIndex`), never as substrings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from scopebot.answer.entities import WELL_KNOWN, NameIndex, find_entities, norm
from scopebot.answer.text import content_set, split_sentences, strip_citations

NEGATIONS = frozenset("""no not nor never cannot can't don't doesn't didn't isn't aren't wasn't weren't won't
without none neither unable fails fail lacks lack nothing""".split())
#: Pairs of opposites; a claim using one where its passage sentence uses the other is flipped.
ANTONYMS = (("increase", "decrease"), ("increases", "decreases"), ("increasing", "decreasing"),
            ("more", "fewer"), ("more", "less"), ("higher", "lower"), ("larger", "smaller"),
            ("bigger", "smaller"), ("before", "after"), ("faster", "slower"), ("better", "worse"),
            ("supervised", "self-supervised"), ("supervised", "unsupervised"), ("overfitting", "underfitting"),
            ("undersampling", "oversampling"), ("undersampled", "oversampled"), ("always", "never"),
            ("reduces", "increases"), ("reduce", "increase"), ("improves", "degrades"), ("single", "two"),
            ("paired", "unpaired"), ("linear", "nonlinear"), ("local", "global"), ("2d", "3d"),
            ("maximum", "minimum"), ("dark", "bright"), ("works", "fails"), ("succeeds", "fails"), ("inside", "outside"), ("required", "optional"))
_ANAPHOR_RE = re.compile(r"^(?:it|its|this|these|they|their|such|that|those|the method|the model|the network|"
                         r"this method|this approach|this model|this network|this tool)\b", re.IGNORECASE)
_NUM_UNIT_RE = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(nm|µm|um|μm|mm|cm|m|px|pixels?|%|s|ms|min|h|"
                          r"khz|hz|x|gb|mb|kb|bits?|bit)?(?![\w])", re.IGNORECASE)
_UNIT_ALIASES = {"um": "µm", "μm": "µm", "pixel": "px", "pixels": "px", "bits": "bit"}
_TOKEN_RE = re.compile(r"[a-z0-9']+(?:-[a-z0-9]+)*")


def _tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower().replace("’", "'"))


#: Words that negate by meaning; two negations cancel ("without a correct value ... wrong").
NEGATIVE_WORDS = frozenset("wrong incorrect missing absent independent".split())


_NEG_PHRASE_RE = re.compile(r"\b(?:remov|eliminat|avoid)\w* the need\b|\bno longer\b", re.IGNORECASE)
_CLAUSE_RE = re.compile(r"[,;:()]|\b(?:and|but|so|because|since|while|whereas|which|although|though|by)\b",
                        re.IGNORECASE)


def negated(text: str) -> bool:
    """An odd number of negations ("no", "not", "without", "fails", "wrong", "removes the need" ...)."""
    toks = _tokens(text)
    n = sum(1 for t in toks if t in NEGATIONS or t in NEGATIVE_WORDS or t.endswith("n't"))
    return (n + len(_NEG_PHRASE_RE.findall(text))) % 2 == 1


def clauses(text: str) -> list[str]:
    """``text`` cut at commas and conjunctions: each piece carries its own polarity."""
    return [c.strip() for c in _CLAUSE_RE.split(text) if c and c.strip()]


@lru_cache(maxsize=256)
def _clause_sets(sentences: tuple[str, ...]) -> list[tuple[str, set[str]]]:
    """The clauses of a passage's sentences with their content words (two or more), computed once."""
    pcs = [(c, content_set(c)) for s in sentences for c in clauses(s)]
    return [(c, cs) for c, cs in pcs if len(cs) >= 2]


def polarity_conflict(claim: str, sentences: list[str]) -> str:
    """A clause of ``claim`` whose closest passage clauses all have the opposite polarity ("" if none)."""
    pcs = _clause_sets(tuple(sentences))
    for cc in clauses(claim):
        want = content_set(cc)
        if len(want) < 2:
            continue
        scored = sorted(((len(want & cs), c) for c, cs in pcs), key=lambda x: -x[0])
        if not scored or scored[0][0] < 2:
            continue
        top = scored[0][0]
        close = [c for n, c in scored if n >= max(2, 0.6 * top)]
        if all(negated(c) != negated(cc) for c in close):
            return ("polarity: " + (f"'{cc}' is negated, the passage is not" if negated(cc)
                                    else f"the passage negates what '{cc}' states"))
    return ""


def number_units(text: str) -> set[tuple[str, str]]:
    """``(number, unit)`` pairs written in ``text`` (unit ``""`` when none follows)."""
    out = set()
    for m in _NUM_UNIT_RE.finditer(strip_citations(text)):
        unit = (m.group(2) or "").lower()
        out.add((m.group(1).replace(",", "."), _UNIT_ALIASES.get(unit, unit)))
    return out


def tool_names(text: str, known: Iterable[str] = WELL_KNOWN) -> set[str]:
    """Normalised tool/method names in ``text``: the entity patterns plus known names as whole words."""
    names = {norm(e.name) for e in find_entities(text) if e.kind in ("tool", "function", "api")}
    index = NameIndex(text)
    names |= {k for k in known if len(k) >= 4 and k in index}
    return {n for n in names if len(n) >= 3}


def closest_sentence(claim: str, passage: str) -> tuple[int, list[str]]:
    """Index of the passage sentence sharing most content words with ``claim``, and the sentences."""
    sentences = split_sentences(passage) or [passage]
    want = content_set(claim)
    best, best_i = -1.0, 0
    for i, s in enumerate(sentences):
        have = content_set(s)
        score = len(want & have) / max(1, len(want | have))
        if score > best:
            best, best_i = score, i
    return best_i, sentences


_PREFIX_PAIRS = (("under", "over"), ("increas", "decreas"), ("up", "down"), ("high", "low"), ("max", "min"))


def _prefix_antonyms(claim: set[str], passage: set[str]) -> list[tuple[str, str]]:
    """Opposites made by swapping a prefix: "undersample" / "oversample", "increasing" / "decreasing"."""
    out = []
    for a, b in _PREFIX_PAIRS:
        for t in claim:
            for p, q in ((a, b), (b, a)):
                if t.startswith(p) and len(t) > len(p) + 2 and q + t[len(p):] in passage:
                    out.append((t, q + t[len(p):]))
    return out


def conflicts(claim: str, passage: str, *, heading: str = "", known: Iterable[str] = WELL_KNOWN) -> list[str]:
    """What the claim says differently from ``passage`` (see the module docstring); [] when consistent."""
    claim = strip_citations(claim)
    i, sentences = closest_sentence(claim, passage)
    target = sentences[i]
    out: list[str] = []
    flipped = polarity_conflict(claim, sentences) if negated(claim) != negated(target) else ""
    if flipped:
        out.append(flipped)
    if not flipped:
        ctoks, ptoks = set(_tokens(claim)), set(_tokens(target))
        for a, b in [*ANTONYMS, *_prefix_antonyms(ctoks, ptoks)]:
            if (a in ctoks and b in ptoks and a not in ptoks and b not in ctoks) or \
                    (b in ctoks and a in ptoks and b not in ptoks and a not in ctoks):
                out.append(f"polarity: '{a if a in ctoks else b}' where the passage says '{b if a in ctoks else a}'")
                break
    known = set(known)
    claim_names = tool_names(claim, known)
    if claim_names:
        about_text = target
        if _ANAPHOR_RE.match(target.strip()) and i > 0:
            about_text = f"{sentences[i - 1]} {target}"
        about = tool_names(about_text, known)
        if not about:  # the sentence names nothing: it is about what its section and passage are about
            about = tool_names(f"{heading} {passage}", known)
        missing = sorted(n for n in claim_names if n not in about and n not in NameIndex(about_text))
        if missing and about:
            out.append(f"entity: the claim names {', '.join(missing)}; the passage is about "
                       f"{', '.join(sorted(about))}")
    pairs = number_units(passage)
    nums = {n for n, _ in pairs}
    for n, unit in sorted(number_units(claim)):
        if n not in nums:
            out.append(f"number: {n}{(' ' + unit) if unit else ''} is not in the passage")
        elif unit and (n, unit) not in pairs and not any(u == "" for m, u in pairs if m == n):
            out.append(f"number: {n} {unit} where the passage gives another unit")
    return out
