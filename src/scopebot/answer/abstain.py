"""Check 4 — abstention: say "I could not find this in my sources" when the evidence is too weak.

The decision looks at the question and the retrieved passages only, before anything is generated:

1. **Named things that exist nowhere.** Every tool/plugin/model/function name in the question
   (:func:`scopebot.answer.entities.find_entities`) must occur in a retrieved passage, in the tool
   catalog or in the installed APIs; a made-up Fiji plugin or ``skimage.filters.threshold_magic``
   ends here. Names the patterns cannot see (lowercase, hyphenated or snake_case: "the nucleoquant
   plugin", ``napari-nucleus-wizard``, ``threshold_triangle_plus``) count too (:func:`unseen_names`):
   a name-shaped word, or a word naming a "plugin", "package", "function" ..., that no passage of
   the whole corpus uses and no registry or inventory knows. A lowercase compound of words the sources
   use often ("low-laser-power images", "low-light") describes rather than names, unless a part is a
   tool or package name ("napari-blob-finder") or it stands before "plugin", "package" ...
2. **Evidence strength** in [0, 1]: the share of the question's content words found in the best
   passages (with more weight on the rarer, more specific words), averaged with the best cosine
   similarity between question and passage when an embedder is available; capitalised names of the
   question that no passage mentions (a vendor, a lab, a person) lower it by 0.12 each, and every
   specific question word that no retrieved passage contains lowers it by 0.1 — when the corpus
   document frequencies are known, only words that are rare in the sources count (an everyday word
   such as "taken" missing from three passages says nothing; "stocks" or "catalogue", which almost
   no source uses, do). Below
   ``Settings.abstain_threshold`` scopebot abstains.
3. **Does the evidence address what is asked** (inputs of the learned decision v2,
   :mod:`scopebot.answer.abstain_model`): a question next to a covered topic ("which NVIDIA driver does
   Cellpose need on Windows 11?") retrieves passages on the topic that do not state the asked-for detail.
   Two measures see it: the best single sentence's MiniLM similarity with the question
   (:func:`sentence_similarity`: a topical passage is similar as a whole, no sentence of it says the
   thing asked), and the share of the question's words, weighted by their rarity in the corpus, that the
   best single passage holds (:func:`passage_coverage`: the asked-for attribute and the topic must meet
   in one passage, not be scattered over three). A question tied to a moment ("at the moment", "this
   winter", a coming release, a recent year: :func:`scopebot.answer.qtype.is_time_anchored`) is a third
   input: the sources are a fixed book and training material.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, Field

from scopebot.answer.entities import EntityChecker, NameIndex, find_entities, metric_acronym, norm
from scopebot.answer.qtype import descriptor_suffixes, is_time_anchored, is_writing_request, word_prefixes
from scopebot.answer.text import STOPWORDS, clean_markdown, content_words, split_sentences, stem, words
from scopebot.index.embeddings import Embedder

if TYPE_CHECKING:
    from scopebot.answer.abstain_model import AbstainModel

#: Words so common in the corpus that finding them proves little (weight 0.4 instead of 1).
GENERIC = frozenset(stem(w) for w in """
image images microscopy microscope cell cells data analysis analyse analyze sample samples method methods
work works step steps different difference use user tool tools software question example common typical
file files value values result results help need want important problem learn find get set run
""".split())
#: Words questions use to ask rather than to name a topic; their absence from the passages says nothing.
QUESTION_WORDS = frozenset(stem(w) for w in """
exist exists differ differs difference differences different happen happens main try tried show shows idea
fix fixes struggle struggles suggest suggests better worse judge everyday approach approaches problem problems
name names beyond picture pictures one ones speed exceed raise raises detect predate enough criterion take takes
prefer input output mean means matter matters purpose reason reasons cause causes describe compare choose
recommend recommended typical typically usually possible kind kinds type types part parts look looks
""".split())
MISSING_NAME_PENALTY = 0.12
MISSING_WORD_PENALTY = 0.1
#: A question word in fewer than this share of all passages is "rare" (see ``vocabulary``).
RARE_SHARE = 0.0015
DENSE_SHARE = 0.5
#: A number the question quotes ("0.91", "1,024", "95%") is no missing evidence.
_NUMBER_RE = re.compile(r"^[\d.,%]+$")
_CAPITAL_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][A-Za-z]+|[A-Z]{2,}[0-9]*)\b")


#: Nouns after which a lowercase word names a thing ("the nucleoquant plugin", "segmentron, a Python package").
#: Broad nouns ("software", "tool", "method", "model") are left out: "throwaway analysis software" names nothing.
NAME_HEADS = frozenset("""plugin plugins plug-in plug-ins package packages library libraries toolbox toolboxes
module modules macro macros extension extensions add-on add-ons function functions""".split())
_ARTICLES = frozenset("a an the".split())
_NAME_SHAPED_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)+|[A-Za-z]+\d[A-Za-z0-9]*")


def _before_head(toks: list[str], i: int) -> bool:
    """``toks[i]`` names what a head noun of :data:`NAME_HEADS` denotes: just before it ("X plugin"), or
    before an article that starts a phrase ending in one ("X, a small Python package")."""
    after = [t.lower() for t in toks[i + 1: i + 6]]
    if after[:1] and after[0] in NAME_HEADS:
        return True
    k = 1 if after[:1] in (["is"], ["are"]) else 0
    return len(after) > k and after[k] in _ARTICLES and any(t in NAME_HEADS for t in after[k + 1: k + 5])


def unseen_names(question: str, vocabulary: Mapping[str, int], checker: EntityChecker,
                 verified: Iterable[str] = ()) -> list[str]:
    """Words of ``question`` that name something (name-shaped: hyphens, underscores or digits inside; or a
    word naming a plugin, package, function ..., see :func:`_before_head`) and that no passage of the
    corpus, no registry and no inventory knows. ``vocabulary`` is the corpus document frequency of each
    stem (:func:`corpus_vocabulary`)."""
    toks = words(question)
    verified = set(verified)
    suffixes = descriptor_suffixes()
    out: list[str] = []
    for i, tok in enumerate(toks):
        head, _, last = tok.rpartition("-")
        described = bool(head) and stem(last.lower()) in suffixes
        if described:
            tok = head  # "DAPI-stained nuclei": is DAPI known? ("-stained" only describes the sample)
        low = tok.lower()
        if low in STOPWORDS or low in NAME_HEADS or low.isdigit() or len(low) < (3 if described else 4):
            continue  # a described part may be a short stain name ("GFP-positive")
        if not described and _NAME_SHAPED_RE.fullmatch(tok) is None and not _before_head(toks, i):
            continue
        stems = content_words(tok)
        if not stems or any(_known(s, vocabulary) or s in verified for s in stems):
            continue  # the sources use it
        if norm(tok) in checker.names or checker.inventory.knows(tok) or tok in checker.identifiers:
            continue
        plain = tok.lower() if _sentence_initial(question, tok) and tok[1:].islower() else tok  # "Sub-resolution beads"
        if not described and not _before_head(toks, i) and _plain_compound(plain, vocabulary, checker):
            continue  # "low-laser-power images" describes the images; it names nothing
        out.append(tok)
    return list(dict.fromkeys(out))


def _known_measure(name: str, vocabulary: Mapping[str, int] | None) -> bool:
    """``name`` writes a measure the sources name at a threshold ("AP50": the corpus defines AP)."""
    acronym = metric_acronym(name)
    return acronym is not None and vocabulary is not None and vocabulary.get(stem(acronym.lower()), 0) > 0


def _sentence_initial(text: str, tok: str) -> bool:
    """``tok`` opens a sentence of ``text`` (its capital letter then says nothing about it being a name)."""
    return re.search(r"(?:^|[.!?]\s+)" + re.escape(tok) + r"\b", text.strip()) is not None


#: how many passages must use each part of a lowercase hyphenated compound for it to read as plain words
PLAIN_PART_MIN_DF = 5


def _plain_compound(tok: str, vocabulary: Mapping[str, int], checker: EntityChecker) -> bool:
    """A lowercase hyphenated compound of common words ("low-laser-power", "long-term") is a description,
    not a name. A part that is itself a tool or package name keeps it a name ("napari-blob-finder"), and so
    do capitals, digits or underscores ("Cell-Seg", "n2v-3d")."""
    parts = tok.split("-")
    # a phrase joined by hyphens around a small word ("AI-in-microscopy", "state-of-the-art") may hold an
    # acronym: it reads as words, not as a product's name
    phrase = len(parts) > 2 and any(p.lower() in STOPWORDS for p in parts[1:-1])
    if phrase:
        parts = [p.lower() for p in parts]
    if len(parts) < 2 or not all(p.isalpha() and p.islower() for p in parts):
        return False
    if any(norm(p) in checker.names for p in parts):  # tool and package names ("napari", "cellpose")
        return False
    prefixes = word_prefixes()
    return all(p in STOPWORDS or (i == 0 and p in prefixes)
               or all(vocabulary.get(s, 0) >= PLAIN_PART_MIN_DF for s in content_words(p) or [p])
               for i, p in enumerate(parts))


@dataclass
class Evidence:
    """A passage as the abstention check sees it."""

    key: str
    text: str
    dense: float | None = None


class EvidenceDecision(BaseModel):
    """Whether to abstain, why, and the numbers behind the decision."""

    abstain: bool
    reason: str = ""
    score: float = 0.0
    coverage: float = 0.0
    dense: float | None = None
    missing_entities: list[str] = Field(default_factory=list)
    missing_names: list[str] = Field(default_factory=list)
    missing_words: list[str] = Field(default_factory=list, description="Question words in no passage (stems).")
    writing_request: bool = Field(default=False, description="The question asks to write something (a poem, a letter).")
    answerable: float | None = Field(default=None, description="The learned model's probability, when one decided.")
    time_anchored: bool = Field(default=False, description="The question is tied to a moment (now, a coming release).")
    sentence_similarity: float | None = Field(
        default=None, description="Best cosine similarity of one sentence of the best passages with the question.")
    passage_coverage: float | None = Field(
        default=None, description="Rarity-weighted share of the question's words held by the best single passage.")


def _coverage(question: str, context_stems: set[str]) -> tuple[float, list[str]]:
    stems = list(dict.fromkeys(content_words(question)))
    if not stems:
        return 0.0, []
    total = found = 0.0
    missing: list[str] = []
    for s in stems:
        w = 0.4 if s in GENERIC else 1.0
        total += w
        if s in context_stems:
            found += w
        else:
            missing.append(s)
    return found / total, missing


#: Sentences of the best passages compared with the question (the first of each passage, at most).
MAX_SENTENCES = 60


def passage_coverage(question: str, texts: Sequence[str], vocabulary: Mapping[str, int] | None) -> float:
    """The largest share, over ``texts``, of the question's content words that one text holds, each word
    weighted by its inverse document frequency in the corpus (``vocabulary``; 1 without one) and by 0.4
    when generic; words that only ask (:data:`QUESTION_WORDS`) do not count."""
    stems = [s for s in dict.fromkeys(content_words(question)) if s not in QUESTION_WORDS]
    if not stems or not texts:
        return 0.0
    n = vocabulary.get("", 0) if vocabulary else 0

    def weight(s: str) -> float:
        idf = math.log((n + 1) / (vocabulary.get(s, 0) + 1)) if vocabulary else 1.0
        return idf * (0.4 if s in GENERIC else 1.0)

    weights = {s: weight(s) for s in stems}
    total = sum(weights.values()) or 1.0
    return max(sum(w for s, w in weights.items() if s in held) / total
               for held in (set(content_words(t)) for t in texts))


def sentence_similarity(question: str | Sequence[str], texts: Sequence[str], embedder: Embedder) -> float:
    """The best cosine similarity between the question (or the best of several phrasings of it, the
    sentences embedded once) and one sentence (20 to 600 characters) of ``texts``; 0 when they have no
    such sentence."""
    sentences = [s for t in texts for s in split_sentences(clean_markdown(t))[:MAX_SENTENCES] if 20 < len(s) < 600]
    if not sentences:
        return 0.0
    probes = [question] if isinstance(question, str) else list(question)
    matrix = embedder.embed(sentences)
    return max(float(np.max(matrix @ embedder.embed_one(q))) for q in probes)


def proper_names(question: str) -> list[str]:
    """Capitalised words of the question that are not its first word nor common words."""
    first = words(question)[:1]
    out = []
    for m in _CAPITAL_RE.finditer(question):
        w = m.group(1)
        if (first and w == first[0]) or w.lower() in STOPWORDS or len(w) < 3:
            continue
        out.append(w)
    return list(dict.fromkeys(out))


def assess_evidence(question: str, passages: Sequence[Evidence], *, threshold: float,
                    entity_checker: EntityChecker | None = None, embedder: Embedder | None = None,
                    top: int = 3, focus: str | None = None,
                    vocabulary: Mapping[str, int] | None = None,
                    model: AbstainModel | None = None, asked: str | None = None) -> EvidenceDecision:
    """Decide from the retrieved ``passages`` (best first) whether the question can be answered.

    ``question`` is the retrieval query; ``focus`` the user's own words when the query was
    rewritten for a follow-up (names and missing words are checked in ``focus`` only, so the
    words carried over from the previous turn do not count twice). ``vocabulary`` maps each stem of
    the corpus to the number of passages containing it (see :func:`corpus_vocabulary`). With a learned
    ``model`` (:mod:`scopebot.answer.abstain_model`) its probability decides instead of ``threshold``.
    ``asked`` is the part of the user's message that asks (:func:`scopebot.answer.focus.split_focus`): the
    model's measures of whether the evidence addresses what is asked (best sentence, best single passage)
    compare the passages with it, not with the sentences that describe the user's sample.
    """
    focus = focus or question
    asked = asked or question
    if not passages:
        return EvidenceDecision(abstain=True, reason="no passage was retrieved for this question")
    context = " ".join(p.text for p in passages)
    context_index = NameIndex(context)
    checker = entity_checker or EntityChecker()
    statuses = [(e, checker.status(e, context_index)) for e in find_entities(focus)]
    missing_entities = [e.name for e, st in statuses if st == "missing" and not _known_measure(e.name, vocabulary)]
    # words of names verified elsewhere (an inventory, the installed packages) are not missing evidence
    verified = {w for e, st in statuses if st == "exists" for w in content_words(e.name.replace(".", " "))} | \
        {w for e, st in statuses if st == "exists" for w in content_words(e.name)}
    if vocabulary is not None:
        missing_entities += [n for n in unseen_names(focus, vocabulary, checker, verified)
                             if not any(norm(n) in norm(m) for m in missing_entities) and n not in context_index
                             and not _known_measure(n, vocabulary)]
    best = passages[:top]
    context_stems = set(content_words(" ".join(p.text for p in best)))
    # the whole message or the part that asks, whichever the passages match better: a context sentence may
    # hold the topic ("My GPU runs out of memory with 3D-RCAN.") or only describe the sample ("zebrafish")
    probes = list(dict.fromkeys([question, asked]))
    coverage = max(_coverage(q, context_stems)[0] for q in probes)
    known = [p.dense for p in best if p.dense is not None]
    dense: float | None = max(known) if known else None
    if embedder is not None and (len(known) < len(best) or len(probes) > 1):  # score what the retriever did not
        pv = embedder.embed([p.text[:2000] for p in best])
        dense = max([float(np.max(pv @ embedder.embed_one(q))) for q in probes] + known)
    score = coverage if dense is None else (1 - DENSE_SHARE) * coverage + DENSE_SHARE * max(0.0, dense)
    own = focus if asked == question else asked  # a context sentence's names and words describe the sample
    missing_names = [n for n in proper_names(own)
                     if n not in context_index and norm(n) not in checker.names]
    all_stems = set(content_words(context))
    _, missing = _coverage(own, all_stems)
    missing_words = [m for m in missing if m not in GENERIC and m not in QUESTION_WORDS and not _NUMBER_RE.match(m)
                     and m not in verified
                     and (vocabulary is None or vocabulary.get(m, 0) < _rare_df(vocabulary))]
    cap = model.missing_word_cap if model is not None else None
    penalised = len(missing_words) if cap is None else min(cap, len(missing_words))
    score = max(0.0, score - MISSING_NAME_PENALTY * len(missing_names) - MISSING_WORD_PENALTY * penalised)
    decision = EvidenceDecision(abstain=False, score=round(score, 4), coverage=round(coverage, 4),
                                dense=None if dense is None else round(dense, 4),
                                missing_entities=missing_entities, missing_names=missing_names,
                                missing_words=missing_words, writing_request=is_writing_request(focus),
                                time_anchored=is_time_anchored(focus))
    if missing_entities:
        decision.abstain = True
        decision.reason = (f"the question names {', '.join(repr(n) for n in missing_entities)}, which none of "
                           "the sources, the tool registries or the installed packages mention")
    elif model is not None:
        if model.needs("passage_coverage"):
            decision.passage_coverage = round(max(passage_coverage(q, [p.text for p in best], vocabulary)
                                                  for q in probes), 4)
        if model.needs("sentence_similarity") and embedder is not None:
            decision.sentence_similarity = round(sentence_similarity(probes, [p.text for p in best], embedder), 4)
        decision.answerable = round(model.answerable(decision), 4)
        if decision.answerable < model.threshold:
            decision.abstain = True
            decision.reason = (f"none of the passages I found answers this question "
                               f"(evidence {score:.2f}; they answer it with probability "
                               f"{decision.answerable:.2f} < {model.threshold:.2f})")
    elif score < threshold:
        decision.abstain = True
        decision.reason = (f"none of the passages I found answers this question "
                           f"(evidence {score:.2f} < {threshold:.2f})")
    return decision


_HYPHEN_FORMS: list[tuple[Mapping[str, int], set[str]]] = []  # the last vocabulary seen, with its hyphenated forms


def _hyphen_form(word: str) -> str:
    return "-".join(stem(p) for p in word.lower().split("-"))


def _known(word: str, vocabulary: Mapping[str, int]) -> bool:
    """``word`` (a stem) is used by some passage of the corpus; a hyphenated word in any inflection
    ("fine-tunes" when the corpus says "fine-tuning")."""
    if vocabulary.get(word, 0) > 0:
        return True
    if "-" not in word:
        return False
    if not _HYPHEN_FORMS or _HYPHEN_FORMS[0][0] is not vocabulary:
        _HYPHEN_FORMS[:] = [(vocabulary, {_hyphen_form(w) for w in vocabulary if "-" in w})]
    return _hyphen_form(word) in _HYPHEN_FORMS[0][1]


def corpus_vocabulary(texts: Iterable[str]) -> dict[str, int]:
    """Document frequency of every content-word stem of the corpus, plus the passage count under ``""``."""
    df: Counter[str] = Counter()
    n = 0
    for text in texts:
        df.update(set(content_words(text)))
        n += 1
    out = dict(df)
    out[""] = n
    return out


def _rare_df(vocabulary: Mapping[str, int]) -> int:
    """Words in fewer passages than this are rare (0.15 % of the corpus, at least 3)."""
    return max(3, int(RARE_SHARE * vocabulary.get("", 0)))
