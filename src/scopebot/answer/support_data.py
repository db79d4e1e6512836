"""Training pairs for the learned support check, written at run time from the knowledge sources.

Real sentences are taken from the indexed passages (read from the sources at run time, never stored in
the repository). Each becomes a *faithful* claim (the sentence itself, with an extract label, with its
clauses reordered, with a synonym swapped, without a parenthesis, its first clause, and free restatements:
several synonyms and negation-moving rewrites, an opening phrase, an adverb, a closing remark, two
sentences merged and restated, see :func:`paraphrase`) and *unsupported*
claims (a negation added or removed, an opposite from the lexicon, a changed number or unit, another
tool's name, the subject of a sentence from another document, two numbers' subjects exchanged, a sentence
from another document; and the
negation, opposite, number and tool changes restated in other words, so a restatement alone never
marks a claim faithful). Every claim is paired with the passage its sentence came from.

Documents (source + title) are split into train / dev / test by a hash of their name, so no passage,
and no sentence of a document, is in two splits.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scopebot.answer.support_claims import (
    PAREN_RE,
    change_number,
    change_unit,
    first_clause,
    framed,
    hedged,
    merge,
    negate,
    paraphrase,
    rebind,
    reorder,
    span_drop,
    swap_bound_nouns,
    swap_entity,
    swap_entity_in_passage,
    swap_subject,
    swap_word,
    trade_places,
)
from scopebot.answer.support_features import Lexicon, lexicon
from scopebot.answer.text import clean_markdown, is_heading_like, split_sentences, words

SPLITS = (("train", 0.70), ("dev", 0.15), ("test", 0.15))
FAITHFUL = ("identity", "label", "reorder", "synonym", "parenthesis", "first_clause", "span_drop", "merge",
            "synonyms", "framed", "hedged", "paraphrase", "paraphrase2", "merge_paraphrase")
UNSUPPORTED = ("negation", "antonym", "number", "unit", "entity", "entity_in_passage", "subject", "binding",
               "rebind", "other_document",
               "antonym_framed", "negation_cut",
               "paraphrase_negation", "paraphrase_antonym", "paraphrase_number", "paraphrase_entity", "role_swap")
@dataclass
class Pair:
    """One (claim, passage) training pair; ``label`` 1 = unsupported."""

    claim: str
    passage: str
    heading: str
    label: int
    kind: str
    document: str
    split: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class SourcePassage:
    document: str
    heading: str
    text: str
    sentences: list[str]


def split_of(document: str) -> str:
    """The split of a document: a stable hash of its name, never random."""
    h = int.from_bytes(hashlib.sha256(document.encode("utf-8")).digest()[:4], "big") / 2 ** 32
    acc = 0.0
    for name, share in SPLITS:
        acc += share
        if h < acc:
            return name
    return SPLITS[-1][0]


def _usable(s: str) -> bool:
    n = len(words(s))
    return 8 <= n <= 45 and not is_heading_like(s) and not s.startswith(("`", "|", ">", "$")) and "_" not in s \
        and "?" not in s and s.rstrip().endswith(".") and s[:1].isupper()


def passages_from_chunks(chunks: Iterable[object], *, kinds: tuple[str, ...] = ("book", "training", "registry"),
                         per_document: int = 4, per_book_document: int = 16) -> list[SourcePassage]:
    """Cleaned passages (at most ``per_document`` per document, ``per_book_document`` per book chapter: the
    book's chapters are few and long) with their usable sentences."""
    out: list[SourcePassage] = []
    seen: dict[str, int] = {}
    for c in chunks:
        if getattr(c, "kind", "") not in kinds:
            continue
        doc = f"{c.source_id}::{c.title}"  # type: ignore[attr-defined]
        if seen.get(doc, 0) >= (per_book_document if c.kind == "book" else per_document):  # type: ignore
            continue
        text = clean_markdown(c.body)  # type: ignore[attr-defined]
        sents = [s for s in split_sentences(text) if _usable(s)]
        if len(sents) < 2:
            continue
        seen[doc] = seen.get(doc, 0) + 1
        out.append(SourcePassage(document=doc, heading=c.section, text=f"{c.section}\n{text}",  # type: ignore
                                 sentences=sents))
    return out


def _maybe(fn: Any, claim: str | None, rng: random.Random, share: float) -> str | None:
    """``fn(claim)`` for a share of the claims (None when ``claim`` is None: no faithful text slips in)."""
    return fn(claim, rng) if claim and rng.random() < share else None


def make_pairs(passages: list[SourcePassage], *, seed: int = 0, sentences_per_passage: int = 3,
               lex: Lexicon | None = None) -> list[Pair]:
    """Faithful and unsupported claims for up to ``sentences_per_passage`` sentences of each passage."""
    lex = lex or lexicon()
    rng = random.Random(seed)
    by_split: dict[str, list[SourcePassage]] = {}
    for p in passages:
        by_split.setdefault(split_of(p.document), []).append(p)
    out: list[Pair] = []
    for p in passages:
        split = split_of(p.document)
        others = [o for o in by_split[split] if o.document != p.document] or passages
        for s in rng.sample(p.sentences, min(sentences_per_passage, len(p.sentences))):
            other = rng.choice(others)
            faithful = {
                "identity": s,
                "label": f"**{p.heading or p.document.split('::')[-1]}**: {s}",
                "reorder": reorder(s),
                "synonym": swap_word(s, lex.synonyms, rng),
                "parenthesis": PAREN_RE.sub("", s) if PAREN_RE.search(s) else None,
                "first_clause": first_clause(s),
                "span_drop": span_drop(s, rng),
                "merge": merge(s, rng.choice(p.sentences)),
                "synonyms": swap_word(swap_word(s, lex.synonyms, rng) or s, lex.synonyms, rng),
                "framed": framed(s, rng) if rng.random() < 0.5 else None,
                "hedged": hedged(s, rng),
                "paraphrase": paraphrase(s, lex, rng),
                "paraphrase2": paraphrase(s, lex, rng),
                "merge_paraphrase": paraphrase(merge(s, rng.choice(p.sentences)), lex, rng),
            }
            unsupported = {
                "negation": negate(s, rng),
                "antonym": swap_word(s, lex.antonyms, rng),
                "number": change_number(s, rng),
                "unit": change_unit(s, rng),
                "entity": swap_entity(s, lex, rng),
                "subject": next((c for c in (swap_subject(s, o, p.text) for o in rng.sample(
                    other.sentences, min(4, len(other.sentences)))) if c), None),
                "binding": swap_bound_nouns(s),
                "entity_in_passage": swap_entity_in_passage(s, p.text, lex, rng),
                "rebind": rebind(s, p.text, rng),
                "antonym_framed": _maybe(framed, swap_word(s, lex.antonyms, rng), rng, 0.3),
                "negation_cut": _maybe(span_drop, negate(s, rng), rng, 0.5),
                "other_document": rng.choice(other.sentences) if rng.random() < 0.3 else None,
                "paraphrase_negation": paraphrase(negate(s, rng), lex, rng, faithful=False),
                "paraphrase_antonym": paraphrase(swap_word(s, lex.antonyms, rng), lex, rng, faithful=False),
                "paraphrase_number": paraphrase(change_number(s, rng), lex, rng, faithful=False),
                "paraphrase_entity": paraphrase(swap_entity(s, lex, rng), lex, rng, faithful=False),
                "role_swap": trade_places(s, lex) or trade_places(merge(s, rng.choice(p.sentences)) or "", lex),
            }
            for label, claims in ((0, faithful), (1, unsupported)):
                for kind, claim in claims.items():
                    if claim and (label == 0 or claim.strip() != s.strip()):
                        out.append(Pair(claim=claim, passage=p.text, heading=p.heading, label=label, kind=kind,
                                        document=p.document, split=split))
    return out
