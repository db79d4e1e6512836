"""Check 2 — sentence support: is every answer sentence backed by the passages it cites?

Score of a sentence against a passage (in [0, 1]):

* **lexical**: 0.65 × the share of the sentence's stemmed content words found in the passage
  + 0.35 × the share of its content-word bigrams found there (word order matters a little, so a
  fluent recombination of passage words scores lower than a copied or paraphrased sentence);
  a number in the sentence that the passage does not contain multiplies it by 0.6;
* **semantic** (when an embedder is injected): the best cosine between the sentence and any
  sentence of the passage, combined as 0.6 × lexical + 0.4 × semantic.

A sentence that contradicts its best passage is unsupported whatever its score. That verdict is
learned (:mod:`scopebot.answer.support_model`: a small classifier over pairwise features of claim and
passage, :mod:`scopebot.answer.support_features`, trained on claims written from the knowledge sources by
``scopebot support train``, with a threshold calibrated on a dev split for a target false-flag rate); the
rule checks of :mod:`scopebot.answer.meaning` (negation or polarity, a tool the passage is not about, a
number or unit the passage does not give) are among its features and explain a flag in words.

A sentence's support is its best score over the passages it cites, or 0.9 × its best score over the rest
of the context when that is higher (an uncited but true sentence is still supported, a little
less). A sentence copied from a passage scores 1.0. Sentences with fewer than two content words
("In short:") carry no claim and are not scored. Thresholds come from ``Settings.support_threshold``
(0.5), calibrated on the unit tests' paraphrases and fabrications.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from scopebot.answer.meaning import conflicts
from scopebot.answer.models import SentenceCheck, SentenceSource
from scopebot.answer.support_features import pair_features, passage_sentences
from scopebot.answer.support_model import SupportModel, default_support_model
from scopebot.answer.text import bigrams, content_words, numbers, split_sentences, strip_citations
from scopebot.citations import NOT_IN_SOURCES, find_citations
from scopebot.index.embeddings import Embedder

UNCITED_FACTOR = 0.9
#: The label in front of an extract ("**Noise2Void**: ...", see :mod:`scopebot.answer.synthesis`).
LABEL_RE = re.compile(r"^\*\*([^*\n]{1,80})\*\*:\s*")
NUMBER_PENALTY = 0.6
LEXICAL_SHARE = 0.6


class SupportScorer:
    """Scores sentences against passages; caches passage features between calls."""

    def __init__(self, embedder: Embedder | None = None, threshold: float = 0.5,
                 model: SupportModel | None | Literal["default"] = "default") -> None:
        self.embedder = embedder
        self.threshold = threshold
        #: the learned meaning check ("default": the shipped model; None: the rules of :mod:`meaning` alone)
        self.model = default_support_model() if model == "default" else model
        if self.model is not None:  # the score floor calibrated with the model on human paraphrases
            self.threshold = self.model.floor_for(embedder, threshold)
        self._passage_cache: dict[str, tuple[set[str], set[tuple[str, str]], set[str], np.ndarray | None]] = {}
        self._claim_cache: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ features
    def _passage(self, text: str) -> tuple[set[str], set[tuple[str, str]], set[str], np.ndarray | None]:
        cached = self._passage_cache.get(text)
        if cached is not None:
            return cached
        stems = content_words(text)
        vecs = None
        if self.embedder is not None:
            vecs = self.embedder.embed(passage_sentences(text))
        feats = (set(stems), bigrams(stems), numbers(text), vecs)
        if len(self._passage_cache) > 512:
            self._passage_cache.clear()
        self._passage_cache[text] = feats
        return feats

    def lexical(self, sentence: str, passage: str) -> float:
        """Lexical support of ``sentence`` by ``passage`` (see the module docstring)."""
        stems = list(dict.fromkeys(content_words(sentence)))
        if not stems:
            return 1.0
        p_stems, p_bigrams, p_numbers, _ = self._passage(passage)
        uni = sum(1 for s in stems if s in p_stems) / len(stems)
        s_bigrams = bigrams(content_words(sentence))
        bi = (len(s_bigrams & p_bigrams) / len(s_bigrams)) if s_bigrams else uni
        score = 0.65 * uni + 0.35 * bi
        if numbers(sentence) - p_numbers:
            score *= NUMBER_PENALTY
        return score

    def score(self, sentence: str, passage: str, sentence_vec: np.ndarray | None = None) -> float:
        """Support of one sentence by one passage in [0, 1]."""
        lex = self.lexical(sentence, passage)
        if self.embedder is None or lex >= 0.999:
            return round(min(1.0, lex), 4)
        vecs = self._passage(passage)[3]
        if sentence_vec is None:
            sentence_vec = self.claim_vector(strip_citations(sentence))
        sem = float(np.max(vecs @ sentence_vec)) if vecs is not None and len(vecs) else 0.0
        sem = max(0.0, min(1.0, sem))
        return round(min(1.0, LEXICAL_SHARE * lex + (1 - LEXICAL_SHARE) * sem), 4)

    def best(self, sentence: str, cited: Mapping[str, str],
             context: Mapping[str, str]) -> tuple[float, str | None]:
        """``(support, best key)`` of a sentence given its cited passages and the whole context."""
        clean = strip_citations(sentence)
        vec: np.ndarray | None = None
        best_score, best_key = 0.0, None
        ordered = [(k, t, 1.0) for k, t in cited.items()] + \
                  [(k, t, UNCITED_FACTOR) for k, t in context.items() if k not in cited]
        for key, text, factor in ordered:
            if factor * 1.0 <= best_score:
                continue
            if vec is None and self.embedder is not None and self.lexical(clean, text) < 0.999:
                vec = self.claim_vector(clean)
            s = factor * self.score(clean, text, vec)
            if s > best_score:
                best_score, best_key = s, key
        return round(best_score, 4), best_key

    def claim_vector(self, text: str) -> np.ndarray:
        """The embedding of a claim, cached: the support score and the learned check both need it."""
        vec = self._claim_cache.get(text)
        if vec is None:
            if len(self._claim_cache) > 512:
                self._claim_cache.clear()
            vec = self._claim_cache[text] = self.embedder.embed_one(text)  # type: ignore[union-attr]
        return vec

    def passage_vectors(self, passage: str) -> np.ndarray | None:
        """Vectors of :func:`passage_sentences` of ``passage`` (None without an embedder); cached."""
        return self._passage(passage)[3]

    def p_unsupported(self, claim: str, passage: str, claim_vec: np.ndarray | None = None) -> float | None:
        """The learned probability that ``passage`` does not back ``claim`` (None without a model)."""
        if self.model is None:
            return None
        cosines = None
        if self.model.uses_cosine(self.embedder):
            body = LABEL_RE.sub("", strip_citations(claim)) or strip_citations(claim)
            if claim_vec is None:
                claim_vec = self.claim_vector(body)
            vecs = self.passage_vectors(passage)
            cosines = vecs @ claim_vec if vecs is not None else None
        return float(self.model.p_unsupported(pair_features(claim, passage, cosines=cosines))[0])

    def meaning(self, claim: str, passage: str) -> list[str]:
        """Where ``claim`` says something ``passage`` does not ([] when it is backed): the learned verdict,
        explained by the rule checks; the rules alone when no model is loaded."""
        p = self.p_unsupported(claim, passage)
        if p is None:
            return conflicts(claim, passage)
        if p < self.model.threshold_for(self.embedder):  # type: ignore[union-attr]
            return []
        return conflicts(claim, passage) or [f"meaning: the passage does not say this (learned check, p={p:.2f})"]

    def is_trivial(self, sentence: str) -> bool:
        """No claim to check: fewer than two content words, the abstention phrase, or a bare block header
        ("**Unsupervised learning**:" above the extracts about that side of a comparison)."""
        plain = strip_citations(sentence)
        return len(set(content_words(sentence))) < 2 or plain.startswith(NOT_IN_SOURCES) or \
            (LABEL_RE.match(plain) is not None and not LABEL_RE.sub("", plain).strip())


def check_sentence(sentence: str, context: Mapping[str, str], scorer: SupportScorer, *,
                   source: SentenceSource = "model") -> SentenceCheck | None:
    """Score one sentence (with its citation markers) against its cited passages and ``context``."""
    keys = [k for k in dict.fromkeys(find_citations(sentence)) if k in context]
    plain = strip_citations(sentence)
    if not plain:
        return None
    if scorer.is_trivial(plain):
        return SentenceCheck(text=plain, keys=keys, support=1.0, supported=True, source=source,
                             best_key=keys[0] if keys else None)
    body = LABEL_RE.sub("", plain)  # "**Noise2Void**: ..." labels an extract; the label is checked as a claim
    score, best_key = scorer.best(body or plain, {k: context[k] for k in keys}, context)
    found = scorer.meaning(plain, context[best_key]) if best_key is not None and score >= scorer.threshold else []
    if found and keys and best_key not in keys:  # a cited passage without the conflict counts too
        for k in keys:
            if scorer.score(plain, context[k]) >= scorer.threshold and not scorer.meaning(plain, context[k]):
                found, best_key = [], k
                break
    return SentenceCheck(text=plain, keys=keys, support=score, supported=score >= scorer.threshold and not found,
                         source=source, best_key=best_key, conflicts=found)


def check_sentences(text: str, context: Mapping[str, str], scorer: SupportScorer, *,
                    source: SentenceSource = "model") -> list[SentenceCheck]:
    """Score every sentence of ``text`` against the passages it cites and the rest of ``context``.

    ``context`` maps citation keys to passage text. Keys in the text that are not in ``context``
    are ignored here (the citation check removes them).
    """
    checks = [check_sentence(s, context, scorer, source=source) for s in split_sentences(text)]
    return [c for c in checks if c is not None]


def supported_fraction(checks: Sequence[SentenceCheck], scorer: SupportScorer | None = None) -> float:
    """Share of claim-bearing sentences that are supported (1.0 when there are none)."""
    scored = [c for c in checks if not (scorer and scorer.is_trivial(c.text))]
    if not scored:
        return 1.0
    return round(sum(1 for c in scored if c.supported) / len(scored), 4)
