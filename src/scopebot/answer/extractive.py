"""Grounded extractive synthesis: an answer built from the best sentences of the top passages.

The embedded model is too small to write reliable answers, so by default scopebot quotes. Every
sentence of the top passages is a candidate, except those that are not statements
(:mod:`scopebot.answer.statements`: captions, metadata, maths, instructions, exercise steps). A sentence
that ends a thought too early keeps the next one. Candidates that may be quoted (a specific question
word, or enough similarity) are scored by the learned sentence scorer (:mod:`scopebot.answer.scorer`),
or, without it, by term overlap and similarity with fixed bonuses. Maximal marginal relevance picks up
to ``max_sentences`` without repeating the same point. The chosen sentences are laid out for the
question type (:func:`scopebot.answer.synthesis.layout`), each followed by its citation key. Short code
lines that mention the question's terms are kept verbatim as inline code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from scopebot.answer.abstain import GENERIC
from scopebot.answer.candidates import Candidate, candidates
from scopebot.answer.context import ContextPassage
from scopebot.answer.evidence import names_any, names_side, side_names, task_query
from scopebot.answer.qtype import QuestionType
from scopebot.answer.scorer import FEATURES, SentenceScorer
from scopebot.answer.statements import EXERCISE_FILE_RE
from scopebot.answer.synthesis import (
    cited,
    defines,
    drifts,
    find_aliases,
    is_subject,
    layout,
    subject_names,
)
from scopebot.answer.text import content_set, content_words, stem
from scopebot.index.embeddings import Embedder
from scopebot.tools.query import GUI

HEADING_BONUS = 0.2
#: Advice in a how-to answer: imperatives and "you can / should" sentences.
_ADVICE_RE = re.compile(r"^(?:use|try|keep|avoid|make sure|check|start|stop|add|apply|increase|decrease|reduce|"
                        r"lower|choose|split|train|annotate|augment|monitor|set|consider|collect|include)\b|"
                        r"\b(?:you (?:can|should|could|may|need to)|it is (?:important|helpful|useful|recommended)|"
                        r"is recommended|helps? (?:to )?(?:avoid|prevent|reduce))\b", re.IGNORECASE)
ADVICE_BONUS = 0.1
#: Added to a sentence that defines the subject of a "What is X?" question.
DEFINITION_BONUS = 0.3
_ACRONYM_RE = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")


def _with_definition(picked: list[Candidate], cands: list[Candidate], subject: str | Sequence[str],
                     max_sentences: int) -> list[Candidate]:
    """A definition question gets the best sentence that defines its subject ("StarDist is a ..."),
    even when relevance alone did not pick one; instructions ("Load ... and apply X") are not definitions."""
    if any(defines(c, subject) for c in picked):
        return picked
    defining = [c for c in cands if defines(c, subject) and not c.code and not c.instruction
                and not _ADVICE_RE.search(c.text)]
    if not defining:
        return picked
    best = max(defining, key=lambda c: c.relevance)
    kept = sorted(picked, key=lambda c: c.relevance, reverse=True)[: max_sentences - 1]
    return sorted([best, *kept], key=lambda c: (c.rank, c.position))


class ExtractiveSynthesizer:
    """Selects and orders supporting sentences (see the module docstring)."""

    def __init__(self, embedder: Embedder | None = None, *, max_sentences: int = 5, min_sentences: int = 3,
                 max_passages: int = 5, diversity: float = 0.4, relative_cutoff: float = 0.45,
                 min_similarity: float = 0.55, per_side: int = 3, signpost_weight: float = 0.5,
                 scorer: SentenceScorer | None = None, min_probability: float = 0.2,
                 fill_comparison: bool = True, context_weight: float = 0.15,
                 asked_passages: int = 2) -> None:
        self.scorer = scorer
        self.asked_passages = asked_passages
        self.context_weight = context_weight
        self.fill_comparison = fill_comparison
        self.min_probability = min_probability
        self.per_side = per_side
        self.signpost_weight = signpost_weight
        self.min_similarity = min_similarity
        self.embedder = embedder
        self.max_sentences = max_sentences
        self.min_sentences = min_sentences
        self.max_passages = max_passages
        self.diversity = diversity
        self.relative_cutoff = relative_cutoff

    def features(self, question: str, cands: list[Candidate],
                 qtype: QuestionType | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The scorer's features of each candidate (columns in :data:`scopebot.answer.scorer.FEATURES`
        order), whether it may be quoted at all (a specific question word or enough similarity; no
        code without a question term; no instruction unless a how-to asks for steps), and the sentence
        embeddings (None without an embedder)."""
        q = list(dict.fromkeys(content_words(question)))
        weights = {s: (0.4 if s in GENERIC else 1.0) for s in q}
        total = sum(weights.values()) or 1.0
        # an acronym written in capitals ("CARE") counts only where it is written so, never as "care"
        acronyms = {stem(a.lower()): a for a in _ACRONYM_RE.findall(question) if not a.isdigit()}
        names = subject_names(qtype) if qtype is not None else []
        subject_stems = content_set(names[0]) if names else set()

        def terms(text: str) -> set[str]:
            found = content_set(text.replace("_", " ")) | content_set(text)
            for st, acronym in acronyms.items():
                if st in found and not re.search(rf"(?<![\w-]){re.escape(acronym)}(?![\w-])", text):
                    found.discard(st)
            if any(names_side(text, n) for n in names[1:]):  # an alias names the subject too
                found |= subject_stems
            return found

        n = len(cands)
        sets = [terms(c.text) for c in cands]
        heads = {c.heading: terms(c.heading) for c in cands}
        lex = np.array([sum(w for s, w in weights.items() if s in cs) / total for cs in sets])
        specific_q = [s for s in weights if s not in GENERIC]
        about = np.array([qtype is not None and is_subject(c.subject, qtype) for c in cands], dtype=bool)
        specific = np.array([any(s in cs for s in specific_q) for cs in sets], dtype=bool) | about
        # a sentence under a heading that names the question's specific terms is on topic too
        on_topic = np.array([bool(specific_q) and any(s in heads[c.heading] for s in specific_q) for c in cands],
                            dtype=bool)
        sem = np.zeros(n)
        head_sem = np.zeros(n)
        vecs = None
        if self.embedder is not None and cands:
            qv = self.embedder.embed_one(question)
            vecs = self.embedder.embed([c.text for c in cands])
            sem = np.clip(vecs @ qv, 0.0, 1.0)
            headings = list(dict.fromkeys(c.heading for c in cands))
            hs = dict(zip(headings, np.clip(self.embedder.embed(headings) @ qv, 0.0, 1.0), strict=True))
            head_sem = np.array([hs[c.heading] for c in cands])
            eligible = specific | (on_topic & (sem >= 0.2)) | (sem >= self.min_similarity)
            if not specific_q:  # only generic words: fall back on similarity
                eligible |= (lex > 0) & (sem >= 0.3)
        else:
            eligible = specific | on_topic | ((lex > 0) & (not specific_q))
        kind = qtype.kind if qtype is not None else "conceptual"
        last = {}
        for c in cands:
            last[c.key] = max(last.get(c.key, 1), c.position)
        cols = {
            "lex": lex, "sem": sem, "heading_sem": head_sem, "on_topic": on_topic,
            "prior": [1.0 / c.rank for c in cands], "first": [c.first for c in cands],
            "position": [(c.position - 1) / max(1, last[c.key] - 1) for c in cands], "about": about,
            "defining": [kind == "definition" and bool(names) and defines(c, names) for c in cands],
            "signpost": [c.signpost for c in cands], "instruction": [c.instruction for c in cands],
            "advice": [kind == "howto" and bool(_ADVICE_RE.search(c.text)) for c in cands],
            "explain": [c.kind in ("book", "training") for c in cands],
            "length": [math.log(max(30, len(c.text)) / 30) for c in cands], "specific": specific,
            "heading_lex": [sum(w for t, w in weights.items() if t in heads[c.heading]) / total for c in cands],
        }
        x = np.column_stack([np.asarray(cols[f], dtype=float) for f in FEATURES]) if cands else np.zeros((0, 0))
        # a code line only with a question term, and never for someone who asks to work without code
        no_code = GUI.search(question) is not None
        eligible &= np.array([not c.code or (bool(sp) and not no_code) for c, sp in zip(cands, specific, strict=True)],
                             dtype=bool)
        # instructions and exercise steps are not statements; a how-to keeps its steps, not an exercise's
        eligible &= np.array([not c.instruction or (kind == "howto" and not EXERCISE_FILE_RE.search(c.text))
                              for c in cands], dtype=bool)
        return x, eligible, vecs

    def _relevance(self, question: str, cands: list[Candidate], qtype: QuestionType | None = None,
                   whole: str = "") -> tuple[np.ndarray, np.ndarray | None]:
        """Relevance of each candidate (-1: may not be quoted). ``question`` is what is asked; ``whole``,
        when given, the whole message with the scene it sets: its relevance counts with the weight
        ``context_weight``, and a sentence eligible for either may be quoted."""
        rel, eligible, vecs = self._scores(question, cands, qtype)
        if whole and whole.strip() != question.strip() and len(cands):
            rel_w, eligible_w, _ = self._scores(whole, cands, qtype)
            rel = (1 - self.context_weight) * rel + self.context_weight * rel_w
            eligible = eligible | eligible_w
        return np.where(eligible, rel, -1.0), vecs

    def _scores(self, question: str, cands: list[Candidate],
                qtype: QuestionType | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Relevance of each candidate to ``question``, whether it may be quoted, and the sentence
        embeddings: the learned scorer's probability when one is given, else term overlap and
        similarity with fixed bonuses."""
        x, eligible, vecs = self.features(question, cands, qtype)
        col = {f: x[:, i] for i, f in enumerate(FEATURES)} if len(cands) else {}
        if not len(cands):
            return np.zeros(0), np.zeros(0, dtype=bool), None
        if self.scorer is not None:
            rel = self.scorer.score(x)
            task = task_query(question, qtype) if qtype is not None else ""
            if task:  # a how-to about a named model: advice for the task itself counts as much
                tx, task_ok, _ = self.features(task, cands, qtype)
                rel = np.where(task_ok, np.maximum(rel, self.scorer.score(tx)), rel)
                eligible = eligible | task_ok
        else:
            rel = (0.5 * col["lex"] + 0.5 * col["sem"]) if self.embedder is not None else col["lex"].copy()
            rel = rel + HEADING_BONUS * col["on_topic"] + DEFINITION_BONUS * col["defining"]
            rel = rel * np.where(col["signpost"] > 0, self.signpost_weight, 1.0)
            rel = rel + ADVICE_BONUS * col["advice"] + 0.06 * col["prior"]
        return rel, eligible, vecs

    def with_aliases(self, qtype: QuestionType | None, passages: Sequence[ContextPassage]) -> QuestionType | None:
        """``qtype`` with the other names of its subject that the passages give ("Noise2Void (N2V)")."""
        if qtype is None or not qtype.subject:
            return qtype
        texts = [f"{p.result.chunk.section}\n{p.text}" for p in passages]
        return qtype.model_copy(update={"aliases": find_aliases(qtype.subject, texts)})

    def pool(self, passages: Sequence[ContextPassage], qtype: QuestionType | None, *, scene: bool) -> list[Candidate]:
        """The candidate sentences an answer chooses from: those of the first ``max_passages`` passages, two
        more for a comparison's sides and ``asked_passages`` more for a message that sets a ``scene``."""
        extra = (2 if qtype is not None and qtype.sides else 0) + (self.asked_passages if scene else 0)
        return candidates(passages, self.max_passages + extra)

    def select(self, question: str, passages: Sequence[ContextPassage],
               qtype: QuestionType | None = None, asked: str = "") -> list[Candidate]:
        """The chosen sentences, in passage-rank order (for a comparison: up to three per side). ``asked``
        is what ``question`` asks without the scene it sets (:mod:`scopebot.answer.focus`): sentences are
        chosen for it first, for the whole message with the weight ``context_weight``."""
        whole = question if asked and asked.strip() != question.strip() else ""
        question = asked or question
        cands = self.pool(passages, qtype, scene=bool(whole))
        qtype = self.with_aliases(qtype, passages)
        if qtype is not None:
            cands = [c for c in cands if not drifts(c, qtype)]
        if not cands:
            return []
        if qtype is not None and qtype.kind == "comparison" and len(qtype.sides) == 2:
            picked: list[Candidate] = []
            for side, key in zip(qtype.sides, qtype.side_keys(), strict=True):
                # a sentence about the side (its subject), or naming it without a subject
                names = side_names(key, [f"{c.subject} {c.text}" for c in cands])
                mine = [c for c in cands if c not in picked and (names_any(c.subject, names) or
                                                                  (not c.subject and names_any(c.text, names)))]
                if mine:
                    side_q = f"{side} {qtype.topic} {question}"
                    picked += self._mmr(side_q, mine, self.per_side, min_sentences=1, qtype=qtype, whole=whole)
            if picked:
                if self.fill_comparison and len(picked) < self.max_sentences:
                    # what the passages say about the choice in general ("if you only have a few images,
                    # ...") fills the slots the sides left: the layout shows it under "In general"
                    rest = [c for c in cands if c not in picked]
                    if rest:
                        picked += self._mmr(question, rest, self.max_sentences - len(picked), 0, qtype=qtype,
                                           whole=whole)
                return sorted(picked, key=lambda c: (c.rank, c.position))
        picked = self._mmr(question, cands, self.max_sentences, self.min_sentences, qtype=qtype, whole=whole)
        if qtype is not None and qtype.kind == "definition" and qtype.subject and picked:
            picked = _with_definition(picked, cands, subject_names(qtype), self.max_sentences)
            for c in picked:  # the layout puts it first (it knows no aliases)
                c.defining = defines(c, subject_names(qtype))
        return picked

    def _mmr(self, question: str, cands: list[Candidate], max_sentences: int,
             min_sentences: int, qtype: QuestionType | None = None, whole: str = "") -> list[Candidate]:
        rel, vecs = self._relevance(question, cands, qtype, whole)
        for c, r in zip(cands, rel, strict=True):
            c.relevance = round(float(r), 4)
        sets = [content_set(c.text) for c in cands]
        best = float(rel.max())
        if best <= 0:
            return []
        # too weak to quote: below the floor always, below the relative cut-off once enough are chosen
        floor = self.min_probability if self.scorer is not None else 0.25 * best
        chosen: list[int] = []
        skipped: set[int] = set()
        while len(chosen) < min(max_sentences, len(cands)):
            scores = []
            for i in range(len(cands)):
                if i in chosen or i in skipped:
                    scores.append(-1e9)
                    continue
                if vecs is not None and chosen:
                    sim = float(max(vecs[i] @ vecs[j] for j in chosen))
                elif chosen:
                    sim = max(len(sets[i] & sets[j]) / max(1, len(sets[i] | sets[j])) for j in chosen)
                else:
                    sim = 0.0
                if sim > 0.9:  # a near-duplicate sentence adds nothing
                    scores.append(-1e9)
                    continue
                scores.append((1 - self.diversity) * rel[i] - self.diversity * sim)
            i = int(np.argmax(scores))
            if scores[i] <= -1e8:
                break
            enough = len(chosen) >= min_sentences
            if rel[i] <= 0 or rel[i] < floor or (enough and rel[i] < self.relative_cutoff * best):
                skipped.add(i)  # a weak sentence that MMR preferred for its novelty: try the others
                continue
            chosen.append(i)
        picked = [cands[i] for i in chosen]
        return sorted(picked, key=lambda c: (c.rank, c.position))

    @staticmethod
    def render(selected: Sequence[Candidate], qtype: QuestionType | None = None) -> str:
        """Sentences with their citation keys: organised for ``qtype`` (labelled lines, see
        :func:`scopebot.answer.synthesis.layout`), or one paragraph per passage without one."""
        if qtype is not None:
            return layout(selected, qtype)
        paragraphs: list[str] = []
        current_key = None
        for c in selected:
            piece = cited(c)
            if c.key == current_key:
                paragraphs[-1] += " " + piece
            else:
                paragraphs.append(piece)
                current_key = c.key
        return "\n\n".join(paragraphs)


__all__ = ["Candidate", "ExtractiveSynthesizer", "candidates"]
