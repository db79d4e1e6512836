"""Pairwise features of (claim sentence, cited passage) for the learned support check.

Every feature compares the claim with the passage, or with the passage sentence closest to it (by MiniLM
cosine when vectors are given, else by shared content words). The layout is :data:`FEATURE_NAMES`;
change it and bump :data:`FEATURE_VERSION` (a model trained on another layout is refused).

* **similarity**: the best cosine between the claim and a passage sentence (``has_cos`` says whether a
  cosine was available; the model is trained with and without it), stemmed content-word and bigram
  coverage (the project's one stopword list and one stemmer, :mod:`scopebot.answer.text`), coverage of
  and by the closest sentence, how many claim words the passage never uses, a verbatim copy;
* **polarity**: negation parity against the closest sentence and per clause
  (:func:`scopebot.answer.meaning.polarity_conflict`), opposites from the versioned lexicon
  (``data/support_lexicon.yaml``), as written or as stems, against the closest sentence and against the
  whole passage; opposites that trade places (:func:`role_swap`: "a low rate overshoots, a high one is
  stable" against the reverse);
* **numbers**: claim numbers the passage lacks, the same number with another unit, and number-subject
  binding: the content words next to each number in the claim against those next to it in the passage;
* **names**: tools or methods the claim names that the passage (sentence, carried subject, section) is
  not about, and names found nowhere in it; capitalised names the passage never uses; the claim's
  subject (its first content words) in the closest sentence and in the passage, and how many of its
  words the passage never uses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from scopebot.answer.abstain import proper_names
from scopebot.answer.entities import WELL_KNOWN, NameIndex
from scopebot.answer.meaning import (
    _ANAPHOR_RE,
    clauses,
    negated,
    number_units,
    polarity_conflict,
    tool_names,
)
from scopebot.answer.text import bigrams, content_words, split_sentences, strip_citations, words

FEATURE_VERSION = 4
LEXICON_PATH = Path(__file__).parent / "data" / "support_lexicon.yaml"
FEATURE_NAMES: tuple[str, ...] = (
    "has_cos", "cos_best", "cos_closest", "uni", "bi", "uni_closest", "rev_closest", "novel", "verbatim",
    "neg_mismatch", "clause_flip", "antonym_closest", "antonym_passage", "num_missing", "unit_mismatch",
    "num_binding", "entity_not_about", "entity_absent", "subject_closest", "subject_passage", "length",
    "neg_x_close", "antonym_x_close", "novel_x_close", "proper_absent", "subject_novel", "role_swap",
)
#: Content words on each side of a number that name what the number is about.
BINDING_WINDOW = 3
SUBJECT_WORDS = 3
_WS_RE = re.compile(r"\s+")
_LABEL_RE = re.compile(r"^\*\*([^*\n]{1,80})\*\*:\s*")
#: An answer particle opening a claim ("No: ...", "Yes, ...") answers the question; it negates nothing.
_PARTICLE_RE = re.compile(r"^(?:yes|no)\b\s*[,:;.!\u2014-]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Lexicon:
    """Opposites and synonyms (see ``data/support_lexicon.yaml``)."""

    version: int
    antonyms: tuple[tuple[str, str], ...]
    synonyms: tuple[tuple[str, str], ...]
    names: tuple[str, ...]
    #: phrase pairs that say the same thing (often with the negation moved): faithful training claims only
    rewrites: tuple[tuple[str, str], ...] = ()
    #: what a person adds when restating a passage: an opening phrase, an adverb, a closing remark
    openers: tuple[str, ...] = ()
    fillers: tuple[str, ...] = ()
    tails: tuple[str, ...] = ()


def _pairs(rows: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(a).lower(), str(b).lower()) for a, b in rows or ())


@lru_cache(maxsize=1)
def lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Lexicon(version=int(data["version"]), antonyms=_pairs(data["antonyms"]), synonyms=_pairs(data["synonyms"]),
                   names=tuple(str(n) for n in data["names"]), rewrites=_pairs(data.get("rewrites")),
                   openers=tuple(str(x) for x in data.get("openers", ())),
                   fillers=tuple(str(x) for x in data.get("fillers", ())),
                   tails=tuple(str(x) for x in data.get("tails", ())))


def _norm_text(text: str) -> str:
    return " " + " ".join(w.lower() for w in words(text)) + " "


def _has(phrase: str, normed: str) -> bool:
    return f" {phrase} " in normed


@lru_cache(maxsize=1)
def _stem_antonyms(path: Path = LEXICON_PATH) -> tuple[tuple[str, str], ...]:
    """The lexicon's single-word opposites as stems ("minimising" / "maximises" are one pair), both ways;
    pairs whose words share a stem, or that are stopwords, are left to the exact forms."""
    out = set()
    for a, b in lexicon(path).antonyms:
        sa, sb = content_words(a), content_words(b)
        if len(sa) == 1 and len(sb) == 1 and sa != sb and " " not in a and " " not in b:
            out.update({(sa[0], sb[0]), (sb[0], sa[0])})
    return tuple(sorted(out))


def _swaps(c_norm: str, t_norm: str, c_stems: set[str], t_stems: set[str], lex: Lexicon) -> int:
    found: set[tuple[str, str]] = set()
    for a, b in lex.antonyms:
        for x, y in ((a, b), (b, a)):
            if _has(x, c_norm) and _has(y, t_norm) and not _has(x, t_norm) and not _has(y, c_norm):
                found.add((x, y))
    n = len(found)
    for x, y in _stem_antonyms():
        if x in c_stems and y in t_stems and x not in t_stems and y not in c_stems and (x, y) not in found:
            n += 1
    return n


def role_swap(claim: str, target: str, window: int = BINDING_WINDOW) -> float:
    """Opposites that trade places: for an opposite pair the claim and ``target`` both use ("a low rate may
    overshoot, a high one is stable" against "a high rate may overshoot, a low one is stable"), the share of
    the words next to one word in the claim that ``target`` puts next to the other word instead (the worst)."""
    c, tt = content_words(claim), content_words(target)
    if len(c) < 3 or len(tt) < 3:
        return 0.0

    def near(toks: list[str], w: str) -> set[str]:
        out: set[str] = set()
        for i, x in enumerate(toks):
            if x == w:
                out.update(toks[max(0, i - window): i] + toks[i + 1: i + 1 + window])
        return out

    c_set, t_set = set(c), set(tt)
    worst = 0.0
    for x, y in _stem_antonyms():
        if x in c_set and x in t_set and y in t_set:
            cn = near(c, x) - {x, y}
            if not cn:
                continue
            same, other = len(cn & near(tt, x)), len(cn & near(tt, y))
            worst = max(worst, max(0.0, other - same) / len(cn))
    return worst


def antonym_swaps(claim: str, target: str, lex: Lexicon | None = None) -> int:
    """Opposite pairs where the claim uses one word and ``target`` the other (and not the claim's), as
    written or as stems ("maximises" against "minimising")."""
    return _swaps(_norm_text(claim), _norm_text(target), set(content_words(claim)), set(content_words(target)),
                  lex or lexicon())


def passage_sentences(passage: str) -> list[str]:
    """The claim-bearing sentences of a passage (the ones the scorer embeds), at most 60."""
    return [s for s in split_sentences(passage) if len(content_words(s)) >= 2][:60] or [passage[:1000]]


def _bound_words(text: str, window: int = BINDING_WINDOW) -> dict[str, set[str]]:
    """For each number in ``text``: the stemmed content words within ``window`` of it."""
    toks = content_words(text)
    out: dict[str, set[str]] = {}
    for i, t in enumerate(toks):
        if t.replace(".", "", 1).isdigit():
            near = toks[max(0, i - window): i] + toks[i + 1: i + 1 + window]
            out.setdefault(t, set()).update(w for w in near if not w.replace(".", "", 1).isdigit())
    return out


def binding_mismatch(claim: str, passage: str) -> float:
    """Number-subject binding: for a number both state, the share of the claim's words next to it that the
    passage uses, but not next to that number (the right number attached to another subject); the worst."""
    return _binding(claim, passage_view(passage))


def _binding(claim: str, view: PassageView) -> float:
    p_stems, pb = view.stems, view.bound
    cb = _bound_words(claim)
    worst = 0.0
    for n, near in cb.items():
        near = near & p_stems
        if n in pb and near:
            worst = max(worst, 1.0 - len(near & pb[n]) / len(near))
    return worst


def _coverage(want: list[str], have: set[str]) -> float:
    return sum(1 for w in want if w in have) / len(want) if want else 1.0


@dataclass(frozen=True)
class PassageView:
    """What the features read from a passage, computed once per passage text."""

    sentences: list[str]
    sentence_stems: list[set[str]]
    stems_list: list[str]
    stems: set[str]
    bigrams: set[tuple[str, str]]
    number_units: set[tuple[str, str]]
    names: set[str]
    index: NameIndex
    flat: str
    normed: str
    bound: dict[str, set[str]]


@lru_cache(maxsize=256)
def passage_view(passage: str, known: frozenset[str] = WELL_KNOWN) -> PassageView:
    sents = passage_sentences(passage)
    stems_list = content_words(passage)
    return PassageView(sentences=sents, sentence_stems=[set(content_words(x)) for x in sents], stems_list=stems_list,
                       stems=set(stems_list), bigrams=bigrams(stems_list), number_units=number_units(passage),
                       names=tool_names(passage, known), index=NameIndex(passage),
                       flat=_WS_RE.sub(" ", passage.lower()), normed=_norm_text(passage),
                       bound=_bound_words(passage, 2 * BINDING_WINDOW))


def pair_features(claim: str, passage: str, *, heading: str = "", cosines: np.ndarray | None = None,
                  known: frozenset[str] = WELL_KNOWN) -> np.ndarray:
    """The feature vector (layout :data:`FEATURE_NAMES`) of ``claim`` against ``passage``.

    ``cosines`` are the claim's cosines with :func:`passage_sentences` of the passage (None: no embedder).
    """
    claim = strip_citations(claim)
    label = _LABEL_RE.match(claim)
    body = _PARTICLE_RE.sub("", claim[label.end():] if label else claim)
    view = passage_view(passage, known)
    sents = view.sentences
    c_stems = list(dict.fromkeys(content_words(claim)))
    c_set = set(c_stems)
    p_stems = view.stems
    lexical = [len(c_set & ss) / max(1, len(c_set | ss)) for ss in view.sentence_stems]
    has_cos = cosines is not None and len(cosines) == len(sents)
    if has_cos:
        cos = np.clip(np.asarray(cosines, np.float32), 0.0, 1.0)
        i = int(np.argmax(cos + 0.5 * np.asarray(lexical, np.float32)))
        cos_best, cos_closest = float(cos.max()), float(cos[i])
    else:
        i = int(np.argmax(lexical))
        cos_best = cos_closest = 0.0
    target = sents[i]
    t_stems = view.sentence_stems[i]
    uni = _coverage(c_stems, p_stems)
    cb = bigrams(content_words(claim))
    bi = len(cb & view.bigrams) / len(cb) if cb else uni
    uni_closest = _coverage(c_stems, t_stems)
    rev_closest = _coverage(list(t_stems), c_set)
    novel = math.log1p(sum(1 for w in c_stems if w not in p_stems))
    verbatim = float(_WS_RE.sub(" ", body.lower()).strip(" .") in view.flat)
    parity = negated(body) != negated(target)
    clause_flip = float(bool(polarity_conflict(body, sents)))
    # the parity of a whole sentence says little when it has several clauses ("does not depend ..., so no
    # ... are needed"); there the clause-level comparison decides
    neg_mismatch = float(parity and (len(clauses(body)) <= 1 or bool(clause_flip)))
    c_norm, b_stems = _norm_text(body), set(content_words(body))
    ant_close = min(2, _swaps(c_norm, _norm_text(target), b_stems, t_stems, lexicon()))
    ant_passage = min(2, _swaps(c_norm, view.normed, b_stems, p_stems, lexicon()))
    pairs = view.number_units
    nums = {n for n, _ in pairs}
    missing = mism = 0
    for n, unit in number_units(body):
        if n not in nums:
            missing += 1
        elif unit and (n, unit) not in pairs and not any(u == "" for m, u in pairs if m == n):
            mism += 1
    about_text = target
    if _ANAPHOR_RE.match(target.strip()) and i > 0:
        about_text = f"{sents[i - 1]} {target}"
    claim_names = tool_names(claim, known)
    not_about = absent = 0
    if claim_names:
        whole = view.names if not heading else tool_names(f"{heading} {passage}", known)
        about = tool_names(about_text, known) or whole
        idx_about = NameIndex(about_text)
        idx_all = view.index if not heading else NameIndex(f"{heading} {passage}")
        not_about = sum(1 for n in claim_names if about and n not in about and n not in idx_about)
        absent = sum(1 for n in claim_names if n not in idx_all and n not in view.names)
    subject = content_words(body)[:SUBJECT_WORDS]
    prev = view.sentence_stems[i - 1] if i > 0 else set()
    head = set(content_words(heading))
    subject_closest = _coverage(subject, t_stems | prev | head)
    subject_passage = _coverage(subject, p_stems | head)
    close = uni_closest
    proper_absent = sum(1 for n in proper_names(body) if n not in view.index)
    subject_novel = sum(1 for w in subject if w not in p_stems)
    vec = [float(has_cos), cos_best, cos_closest, uni, bi, uni_closest, rev_closest, novel, verbatim,
           neg_mismatch, clause_flip, float(ant_close), float(ant_passage), float(min(missing, 3)),
           float(min(mism, 2)), _binding(body, view), float(min(not_about, 2)), float(min(absent, 2)),
           subject_closest, subject_passage, math.log1p(len(c_stems)),
           neg_mismatch * close, float(ant_close) * close, novel * close, float(min(proper_absent, 2)),
           float(subject_novel), max(role_swap(body, target), role_swap(body, passage))]
    return np.asarray(vec, dtype=np.float32)
