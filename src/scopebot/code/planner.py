"""The deterministic plan builder: request words + image metadata -> :class:`AnalysisPlan`.

Data-driven: every phrase it knows lives in the versioned vocabulary ``vocabulary_v1.yaml``
(phrases -> plan fields, units, ordinals). The request is tokenised and stemmed with the
project's one stemmer; numbers with units become calibration or parameters by the vocabulary
context words next to them; channel mentions attach to the nearest concept with a role. Every
word is either mapped (``plan.understood``), a filler/stopword, or reported (``plan.not_understood``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from scopebot.answer.text import STOPWORDS, stem
from scopebot.code.channel_mentions import read_channels
from scopebot.code.normalise import CLAUSE_BREAKS, normalise, notes
from scopebot.code.object_slots import object_slots
from scopebot.code.plan import AnalysisPlan, ImageMeta
from scopebot.code.plan_quantities import Quantity, enumerators, frame_ordinals, read_quantities
from scopebot.code.spelling import correct, vocabulary_words
from scopebot.code.stains import resolve_stains
from scopebot.code.thesaurus import follows, load_thesaurus
from scopebot.code.translocation import translocations

VOCABULARY_PATH = Path(__file__).with_name("vocabulary_v1.yaml")
#: words start with any letter ("Müller" is one word, not "m" + "ller")
_TOKEN_RE = re.compile(r"[23]-?d\b|\d+(?:st|nd|rd|th)\b|\d+(?:\.\d+)?|[^\W\d_](?:[^\W_]|['\-])*|[%/,;:.?!()x=]")
_MICRONS = r"(?:µm|um|microns?|micrometres?|micrometers?)"
_UNIT_NORM = [(re.compile(r"\b(?:square|sq\.?)\s+" + _MICRONS + r"\b|\b" + _MICRONS + r"\s+squared\b"), "um2"),
              (re.compile(r"\bcubic\s+" + _MICRONS + r"\b|\b" + _MICRONS + r"\s+cubed\b"), "um3"),  # after a number too
              (re.compile(r"\b(?:µm|um|microns?)\s*(?:\^|\*\*)?\s*([23²³])(?!\d|\.\d)"), r"um\1"),
              (re.compile(r"(\w)'s\b"), r"\1"),  # possessives: "blob's" -> "blob", "pearson's" -> "pearson"
              (re.compile(r"(\ws)'(?=[\s,.;:?!)]|$)"), r"\1"),  # plural possessives: "each nucleus' area"
              (re.compile(r"\b(?:px|pixels?)\s*(?:\^|\*\*)\s*2"), "px2"),
              (re.compile(r"(\d)(µm|um|nm|px|ms|s|min)\b"), r"\1 \2"),
              (re.compile(r"(\d)x(\d)"), r"\1 x \2"),  # "3x3"
              (re.compile(r"([a-z0-9])(?:\+|\+ve|\(\+\))(?=[\s,.;:?!)]|$)"), r"\1 positive"),  # "Ki67+", "GFP+ve"
              (re.compile(r"([a-z0-9])(?:-ve|\(-\)|-)(?=[\s,.;:?!)]|$)"), r"\1 negative")]  # "GFP-ve", "GFP-"
#: Particles of phrasal verbs and the pronouns that may stand between verb and particle.
_PARTICLES = {"out", "away", "apart", "off"}
_PRONOUNS = {"them", "those", "these", "it", "they", "all", "the", "such", "ones"}


@dataclass
class Token:
    text: str
    stem: str
    used: str | None = None  # what consumed it


@dataclass
class Vocabulary:
    version: int
    fillers: set[str]
    concepts: list[dict[str, Any]]
    phrases: list[tuple[tuple[str, ...], int]]  # stemmed phrase, concept index; longest first
    ordinals: dict[str, int]
    cardinals: dict[str, int]
    channel_words: set[str]
    units: dict[str, dict[str, Any]]
    per_words: set[str]
    axis_words: dict[str, str]
    voxel_axis_words: dict[str, str] = field(default_factory=dict)  # "wide", "deep": axes in a voxel sentence
    statistics: dict[str, str] = field(default_factory=dict)  # stemmed word -> intensity statistic
    negations: set[str] = field(default_factory=set)
    stains: set[str] = field(default_factory=set)
    object_kinds: dict[str, str] = field(default_factory=dict)  # stemmed phrase -> kind
    generic_objects: set[str] = field(default_factory=set)  # stemmed phrases that name no kind
    sample_nouns: set[str] = field(default_factory=set)  # stemmed nouns of a whole specimen (object_names)
    container_objects: set[str] = field(default_factory=set)  # stemmed objects that hold others (object_names)
    qualifiers: set[str] = field(default_factory=set)  # region / subset words (stemmed)
    stain_roles: dict[str, str] = field(default_factory=dict)  # stain -> the role of the channel it defines
    illumination: dict[str, set[str]] = field(default_factory=dict)  # brightness / region words (stemmed)
    stain_colours: dict[str, list[str]] = field(default_factory=dict)  # colour -> stains shown in that colour
    groupings: set[str] = field(default_factory=set)  # stemmed nouns of groups results cannot be given per


@lru_cache(maxsize=4)
def load_vocabulary(path: Path = VOCABULARY_PATH) -> Vocabulary:
    """The vocabulary file, validated and pre-stemmed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    phrases = []
    for i, concept in enumerate(data["concepts"]):
        for phrase in concept["phrases"]:
            toks = tuple(stem(t) for t in _tokenise(str(phrase)))
            if toks:
                phrases.append((toks, i))
    phrases.sort(key=lambda p: -len(p[0]))

    def stemmed(phrase: object) -> str:
        return " ".join(stem(t) for t in _tokenise(str(phrase)))

    return Vocabulary(version=int(data["version"]), fillers={stem(w) for w in data["fillers"]},
                      concepts=data["concepts"], phrases=phrases, ordinals=data["ordinals"],
                      cardinals=data.get("cardinals", {}),
                      channel_words=set(data["channel_words"]), units=data["units"],
                      per_words=set(data["per_words"]), axis_words=data["axis_words"],
                      voxel_axis_words=data.get("voxel_axis_words") or {},
                      statistics={stemmed(k): str(v) for k, v in (data.get("statistics") or {}).items()},
                      negations={str(w).lower() for w in data.get("negations", [])},
                      stains={str(w).lower() for w in data.get("stains", [])},
                      object_kinds={stemmed(k): stemmed(v) for k, v in (data.get("object_kinds") or {}).items()},
                      generic_objects={stemmed(w) for w in data.get("generic_objects", [])},
                      sample_nouns={stemmed(w) for w in data.get("sample_nouns", [])},
                      container_objects={stemmed(w) for w in data.get("container_objects", [])},
                      qualifiers={stemmed(w) for w in data.get("qualifiers", [])},
                      stain_roles={str(k).lower(): str(v) for k, v in (data.get("stain_roles") or {}).items()},
                      illumination={k: {stemmed(w) for w in v} for k, v in (data.get("illumination") or {}).items()},
                      stain_colours={str(k).lower(): [str(w).lower() for w in v]
                                     for k, v in (data.get("stain_colours") or {}).items()},
                      groupings={stemmed(w) for w in data.get("groupings", [])})


def _tokenise(text: str) -> list[str]:
    text = text.lower().replace("²", "2").replace("³", "3").replace("\u2019", "'").replace("\u00d7", " x ") \
        .replace("\u03bc", "µ")  # the Greek mu typed for the micro sign
    for pattern, repl in _UNIT_NORM:
        text = pattern.sub(repl, text)
    return _TOKEN_RE.findall(text)


@dataclass
class Parse:
    tokens: list[Token]
    concepts: list[tuple[int, int]] = field(default_factory=list)  # (token position, concept index)
    channels: list[tuple[int, int]] = field(default_factory=list)  # (token position, 0-based channel)
    quantities: list[Quantity] = field(default_factory=list)
    stats: list[tuple[int, str]] = field(default_factory=list)  # (token position, intensity statistic)
    negations: list[int] = field(default_factory=list)  # token positions
    unresolved_stains: list[str] = field(default_factory=list)  # stains no channel could be found for
    other_stats: list[int] = field(default_factory=list)  # statistics of a quantity the plan only gives as a mean
    column_stats: list[tuple[int, str, str]] = field(default_factory=list)  # (position, statistic, measure modified)
    qualifiers: list[int] = field(default_factory=list)  # token positions of region / subset words
    channel_roles: dict[int, str] = field(default_factory=dict)  # channel mention -> role its stain defines
    spans: dict[int, int] = field(default_factory=dict)  # concept position -> number of tokens it matched
    frame_named: bool = False  # a time point was given ("frame 3")
    corrections: list[tuple[str, str]] = field(default_factory=list)  # (typed word, vocabulary word read)


#: Words that may stand between a statistic and the projection it names ("brightest-pixel projection")
_PROJECTION_LINKS = frozenset({"(", ")", "-", "by", "a", "the", "using", "pixel", "value", "intensity"})
#: Words that may stand between a statistic and its intensity word ("max of the GFP intensity").
_STAT_LINKS = {"of", "the", "a", "an", "and", "or", ",", "pixel", "channel"}


class Planner:
    """Builds plans from requests with the vocabulary; no model involved, fully deterministic."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocab = vocabulary or load_vocabulary()
        self._words = vocabulary_words(self.vocab, _tokenise)
        self._intensity_concept = next(k for k, c in enumerate(self.vocab.concepts) if "intensity" in c["phrases"])

    # --- tokens ----------------------------------------------------------------------------------
    def _match(self, toks: list[Token], i: int) -> tuple[int, int] | None:
        """The longest vocabulary phrase at token i: (length, concept index). A verb and its particle may
        have a pronoun between them ("leave those out", "filter them out", "split them apart")."""
        for phrase, concept in self.vocab.phrases:
            n = len(phrase)
            window = toks[i:i + n]
            if len(window) == n and all(not t.used for t in window) and tuple(t.stem for t in window) == phrase:
                return n, concept
        for phrase, concept in self.vocab.phrases:
            if len(phrase) != 2 or phrase[1] not in _PARTICLES or toks[i].used or toks[i].stem != phrase[0]:
                continue
            k = i + 1
            while k < len(toks) and k - i <= 2 and toks[k].text in _PRONOUNS and not toks[k].used:
                k += 1
            if k > i + 1 and k < len(toks) and not toks[k].used and toks[k].stem == phrase[1]:
                return k + 1 - i, concept
        return None

    def _modifies(self, toks: list[Token], i: int, measure: str = "intensity") -> bool:
        """Whether a phrase measuring ``measure`` follows token i within three words (links, channels,
        statistics and object nouns skipped: "total nuclear fluorescence", "total filament length")."""
        steps = 0
        for j in range(i + 1, len(toks)):
            tok = toks[j]
            hit = self._match(toks, j)
            if hit is not None and self.vocab.concepts[hit[1]].get("measure") == measure:
                # "highest mean intensity" is a statistic over objects, not of pixels: not this one
                return not any(t.stem in self.vocab.statistics for t in toks[j:j + hit[0]])
            if hit is not None and self.vocab.concepts[hit[1]].get("object_nouns"):
                continue
            if tok.used in ("channel", "stain") or tok.text in _STAT_LINKS or tok.stem in self.vocab.statistics:
                continue
            if tok.text in ("(", ")") and self._restated_statistic(toks, j):  # "integrated (total) GFP signal"
                continue
            steps += 1
            if steps >= 3 or tok.text in CLAUSE_BREAKS:
                return False
        return False

    def _restated_statistic(self, toks: list[Token], j: int) -> bool:
        """Whether the parenthesis at token j encloses only statistics and links ("(total)", "(i.e. the sum)")."""
        start = j if toks[j].text == "(" else next((k for k in range(j - 1, max(-1, j - 5), -1)
                                                     if toks[k].text == "("), None)
        if start is None:
            return False
        end = next((k for k in range(start + 1, min(len(toks), start + 5)) if toks[k].text == ")"), None)
        inner = toks[start + 1:end] if end is not None else []
        return bool(inner) and any(t.stem in self.vocab.statistics for t in inner) and all(
            t.stem in self.vocab.statistics or t.text in _STAT_LINKS or t.text in ("i.e", "ie", "e.g", "or")
            for t in inner)

    def _modified(self, toks: list[Token], i: int) -> tuple[str, tuple[str, ...]] | None:
        """The measure and stemmed phrase of the measurement word a statistic at token i modifies within three
        words ("total distance travelled", "median nearest-neighbour distance"), or None."""
        steps = 0
        for j in range(i + 1, len(toks)):
            tok = toks[j]
            hit = self._match(toks, j)
            concept = self.vocab.concepts[hit[1]] if hit is not None else {}
            if concept.get("measure"):
                return str(concept["measure"]), tuple(t.stem for t in toks[j:j + hit[0]])
            if concept.get("object_nouns") or tok.used in ("channel", "stain") or tok.text in _STAT_LINKS:
                continue
            steps += 1
            if steps >= 3 or tok.text in CLAUSE_BREAKS:
                return None
        return None

    def _column_stat(self, parse: Parse, i: int, stat: str) -> bool:
        """'the total area', 'the median nearest-neighbour distance', 'the total distance travelled': a statistic of
        a per-object column besides its mean (recorded in ``parse.column_stats``). Speeds are not columns here:
        'the maximum speed' may mean a track's fastest step, so it stays reported."""
        if stat == "mean":
            return False
        found = self._modified(parse.tokens, i)
        if found is None:
            return False
        measure, phrase = found
        if measure == "tracking" and not {"distanc", "path", "travel", "travell"} & set(phrase):
            return False
        if measure not in ("size", "skeleton_length", "nn_distance", "object_distance", "tracking") and (
                measure, stat) != ("coverage", "sum"):
            return False
        parse.tokens[i].used = f"colstat:{stat}"
        parse.column_stats.append((i, stat, measure))
        return True

    def _before_channel(self, toks: list[Token], i: int) -> bool:
        """Whether a channel or stain follows the statistic at token i with no measurement word after it."""
        j = i + 1
        while j < len(toks) and toks[j].text in ("the", "of", "a"):
            j += 1
        if j >= len(toks) or toks[j].used != "channel":
            return False
        while j < len(toks) and toks[j].used == "channel":
            j += 1
        hit = self._match(toks, j) if j < len(toks) else None
        return hit is None or "measure" not in self.vocab.concepts[hit[1]]

    def _size_limit_without_number(self, parse: Parse, i: int, hit: tuple[int, int]) -> bool:
        """'the maximum area' with no number in its clause is a statistic of the areas, not a size limit
        ('maximum area 500 px' is the limit)."""
        concept = self.vocab.concepts[hit[1]]
        if concept.get("context") not in ("min", "max") or hit[0] < 2:
            return False
        toks = parse.tokens
        start = i
        while start > 0 and toks[start - 1].text not in CLAUSE_BREAKS:
            start -= 1
        end = i
        while end < len(toks) and toks[end].text not in CLAUSE_BREAKS:
            end += 1
        return not any(start <= q.pos < end for q in parse.quantities)

    def _names_projection(self, parse: Parse, i: int, stat: str) -> bool:
        """Whether the statistic at token i names the type of a projection next to it ("project (max)")."""
        toks = parse.tokens
        near = [k for k in range(max(0, i - 3), min(len(toks), i + 4)) if k != i
                and all(t.text in _PROJECTION_LINKS for t in toks[min(i, k) + 1:max(i, k)])]
        for k in near:
            hit = self._match(toks, k) if not toks[k].used else None
            concept = self.vocab.concepts[hit[1]] if hit else next(
                (self.vocab.concepts[c] for p, c in parse.concepts if p <= k and toks[k].used == f"concept:{c}"), None)
            if concept is not None and (concept.get("set") or {}).get("inputs.z") == stat:
                for t in toks[min(i, k) + 1:max(i, k)]:
                    t.used = t.used or f"projection:{stat}"  # "brightest-pixel projection": not a unit
                return True
        return False

    def _phrases(self, parse: Parse) -> None:
        toks = parse.tokens
        i = 0
        while i < len(toks):
            if toks[i].used:
                i += 1
                continue
            hit = self._match(toks, i)
            stat = self.vocab.statistics.get(toks[i].stem)
            if stat is not None and (hit is None or hit[0] == 1) and self._modifies(toks, i):
                toks[i].used = f"stat:{stat}"  # "max GFP intensity": a statistic, not a size limit
                parse.stats.append((i, stat))
                i += 1
            elif stat is not None and (hit is None or hit[0] == 1 or self._size_limit_without_number(parse, i, hit)) \
                    and self._column_stat(parse, i, stat):  # "the total area", "the median distance"
                i += 1
            elif stat in ("sum", "mean") and (hit is None or hit[0] == 1) and self._modifies(toks, i, "skeleton_length"):
                toks[i].used = f"length:{stat}"  # "total filament length": the total (and mean) are reported
                i += 1
            elif stat is not None and stat != "mean" and (hit is None or hit[0] == 1) and any(
                    self._modifies(toks, i, kind) for kind in ("size", "nn_distance", "object_distance", "tracking",
                                                               "shape")):
                toks[i].used = "other-stat"  # "median area", "maximum speed": only means are in the plan
                parse.other_stats.append(i)
                i += 1
            elif stat is not None and (hit is None or hit[0] == 1) and self._before_channel(toks, i):
                intensity = self._intensity_concept  # "the mean GFP per nucleus", "max ch2": an intensity
                toks[i].used = f"concept:{intensity}"
                parse.concepts.append((i, intensity))
                if stat != "mean":
                    parse.stats.append((i, stat))
                i += 1
            elif stat is not None and (hit is None or hit[0] == 1) and self._names_projection(parse, i, stat):
                toks[i].used = f"projection:{stat}"  # "z-project (max)"
                i += 1
            elif hit is not None:
                n, concept = hit
                for t in toks[i:i + n]:
                    t.used = f"concept:{concept}"
                parse.concepts.append((i, concept))
                parse.spans[i] = n
                i += n
            else:
                i += 1

    # --- main ------------------------------------------------------------------------------------
    def _split_unknown_compounds(self, toks: list[Token]) -> list[Token]:
        """'salt-and-pepper' -> 'salt and pepper' unless the vocabulary knows the hyphenated word."""
        known = {w for phrase, _ in self.vocab.phrases for w in phrase} | self.vocab.fillers
        out: list[Token] = []
        for tok in toks:
            if "-" in tok.text and tok.stem not in known:
                out += [Token(part, stem(part)) for part in tok.text.split("-") if part]
            else:
                out.append(tok)
        return out

    def parse(self, request: str, meta: ImageMeta | None = None) -> Parse:
        toks = self._split_unknown_compounds(normalise(request, self.vocab))  # shorthand, synonyms, the sample
        toks = frame_ordinals(toks, self.vocab, meta)
        parse = Parse(tokens=toks)
        enumerators(toks)  # "(1) drop ..., (2) count ... and (3) list ...": list markers, no quantities
        parse.corrections = correct(toks, self.vocab, self._words)  # first: "chanel one" names a channel
        read_channels(parse, self.vocab)
        resolve_stains(parse, self.vocab, meta)
        read_quantities(self.vocab, parse)
        self._phrases(parse)
        object_slots(parse, self.vocab)  # "the length of every cable": an unknown noun named as the objects
        translocations(parse, self.vocab)  # "p65 moves into the nucleus": a description, not tracking
        texts = [t.text for t in toks]
        subset_words = load_thesaurus().groups.get("subset_adjectives", frozenset())  # "only the bright ones"
        for i, tok in enumerate(toks):
            if not tok.used and tok.text in self.vocab.negations:
                tok.used = "negation"  # never a filler: assemble decides what it negates
                parse.negations.append(i)
            elif not tok.used and (tok.stem in self.vocab.qualifiers or tok.text in self.vocab.qualifiers
                                   or (tok.text in subset_words and follows(texts, i, "restrictive"))):
                tok.used = "qualifier"  # a region or a subset, unless its clause is about preprocessing
                parse.qualifiers.append(i)
        for tok in toks:
            if tok.used:
                continue
            if tok.text in CLAUSE_BREAKS or tok.text in STOPWORDS or tok.stem in self.vocab.fillers \
                    or tok.text in self.vocab.fillers or tok.text in self.vocab.ordinals \
                    or tok.text in self.vocab.cardinals or len(tok.text) < 2:
                tok.used = "filler"
        return parse

    def suggestions(self, word: str) -> list[str]:
        """Vocabulary phrases spelled like ``word`` (for the message when it is not understood)."""
        import difflib
        known = sorted({p for c in self.vocab.concepts for p in map(str, c["phrases"])})
        return difflib.get_close_matches(word.lower(), known, n=2, cutoff=0.8)

    def plan(self, request: str, meta: ImageMeta | None = None, context: bool = True) -> AnalysisPlan:
        """The plan for ``request`` on ``meta``; ``context``: unplaced words the plan does not depend on are shown
        in ``plan.not_used`` instead of declining (``context_words``)."""
        from scopebot.code.context_words import read_context
        from scopebot.code.plan_rules import assemble
        parse = self.parse(request, meta)
        plan = assemble(parse, self.vocab, meta or ImageMeta())
        plan.understood += notes(parse.tokens)  # what normalisation read each word as
        return read_context(self, parse, plan, meta) if context else plan
