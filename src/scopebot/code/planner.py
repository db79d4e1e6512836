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
from scopebot.code.plan import AnalysisPlan, ImageMeta
from scopebot.code.stains import resolve_stains

VOCABULARY_PATH = Path(__file__).with_name("vocabulary_v1.yaml")
_TOKEN_RE = re.compile(r"[23]-?d\b|\d+(?:st|nd|rd|th)\b|\d+(?:\.\d+)?|[a-zµ][a-zµ0-9'\-]*|[%/,;:.?!()x]")
_UNIT_NORM = [(re.compile(r"\b(?:µm|um|microns?)\s*(?:\^|\*\*)?\s*([23²³])(?!\d|\.\d)"), r"um\1"),
              (re.compile(r"(\w)'s\b"), r"\1"),  # possessives: "blob's" -> "blob", "pearson's" -> "pearson"
              (re.compile(r"\b(?:px|pixels?)\s*(?:\^|\*\*)\s*2"), "px2"),
              (re.compile(r"(\d)(µm|um|nm|px|ms|s|min)\b"), r"\1 \2"),
              (re.compile(r"(\d)x(\d)"), r"\1 x \2")]  # "3x3"
_BREAKS = {",", ";", ".", "?", "!", ":", "(", ")"}


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
    statistics: dict[str, str] = field(default_factory=dict)  # stemmed word -> intensity statistic
    negations: set[str] = field(default_factory=set)
    stains: set[str] = field(default_factory=set)
    object_kinds: dict[str, str] = field(default_factory=dict)  # stemmed phrase -> kind
    generic_objects: set[str] = field(default_factory=set)  # stemmed phrases that name no kind
    qualifiers: set[str] = field(default_factory=set)  # region / subset words (stemmed)


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
                      statistics={stemmed(k): str(v) for k, v in (data.get("statistics") or {}).items()},
                      negations={str(w).lower() for w in data.get("negations", [])},
                      stains={str(w).lower() for w in data.get("stains", [])},
                      object_kinds={stemmed(k): stemmed(v) for k, v in (data.get("object_kinds") or {}).items()},
                      generic_objects={stemmed(w) for w in data.get("generic_objects", [])},
                      qualifiers={stemmed(w) for w in data.get("qualifiers", [])})


def _tokenise(text: str) -> list[str]:
    text = text.lower().replace("²", "2").replace("³", "3").replace("\u2019", "'").replace("\u00d7", " x ")
    for pattern, repl in _UNIT_NORM:
        text = pattern.sub(repl, text)
    return _TOKEN_RE.findall(text)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class Quantity:
    value: float
    dim: str  # length, time, px, area_um, volume_um, percent, length_per_px, time_per_frame, bare
    pos: int
    axis: str | None = None
    end: int = -1  # last token of the number and its unit
    values: list[float] = field(default_factory=list)


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
    qualifiers: list[int] = field(default_factory=list)  # token positions of region / subset words


#: Words that may stand between a statistic and its intensity word ("max of the GFP intensity").
_STAT_LINKS = {"of", "the", "a", "an", "and", "or", ",", "pixel", "channel"}


class Planner:
    """Builds plans from requests with the vocabulary; no model involved, fully deterministic."""

    def __init__(self, vocabulary: Vocabulary | None = None) -> None:
        self.vocab = vocabulary or load_vocabulary()

    # --- tokens ----------------------------------------------------------------------------------
    def _unit(self, tokens: list[Token], i: int) -> tuple[str | None, float, int]:
        """The unit starting at token i: (dim, factor, tokens used)."""
        if i >= len(tokens) or tokens[i].text not in self.vocab.units:
            return None, 1.0, 0
        first = self.vocab.units[tokens[i].text]
        j = i + 1
        if j < len(tokens) and tokens[j].text in self.vocab.per_words:
            k = j + 1
            if k < len(tokens) and tokens[k].text in self.vocab.units:
                second = self.vocab.units[tokens[k].text]["dim"]
                pair = (first["dim"], second)
                dims = {("length", "px"): "length_per_px", ("time", "frame"): "time_per_frame",
                        ("frame", "time"): "frames_per_time", ("length", "time"): "speed",
                        ("px", "frame"): "px_per_frame"}
                if pair in dims:
                    factor = first["factor"] / (self.vocab.units[tokens[k].text]["factor"]
                                                if pair[1] == "time" else 1.0)
                    return dims[pair], factor, k + 1 - i
        return first["dim"], first["factor"], 1

    def _quantities(self, parse: Parse) -> None:
        toks = parse.tokens
        for i, tok in enumerate(toks):
            value = _number(tok.text)
            if value is None or tok.used:
                continue
            tok.used = "number"
            start = i + 1
            if start + 1 < len(toks) and toks[start].text == ")" and toks[start + 1].text in self.vocab.units:
                start += 1  # "(2, 0.5, 0.5) um"
            dim, factor, n = self._unit(toks, start)
            if n == 0:
                start = i + 1
            n += start - (i + 1)
            for t in toks[i + 1:i + 1 + n]:
                t.used = "unit"
            q = Quantity(value=value * factor, dim=dim or "bare", pos=i, end=i + n)
            if dim == "length" and i > 0 and not toks[i - 1].used and toks[i - 1].text in self.vocab.axis_words:
                q.axis = self.vocab.axis_words[toks[i - 1].text]  # "z 2 um", "xy 0.5 um": the axis before it
                toks[i - 1].used = "axis"
            j = i + 1 + n
            if j + 1 < len(toks) and toks[j].text in ("in", "along", "for") and dim == "length" and \
                    toks[j + 1].text in self.vocab.axis_words:  # "1.5 um in z"
                toks[j].used = "axis"
                j += 1
            times = toks[j].text == "x" and j + 1 < len(toks) and _number(toks[j + 1].text) is not None \
                if j < len(toks) else False  # "2 x 3": a times sign, not the x axis
            if j + 2 < len(toks) and toks[j].text == "(" and toks[j + 1].text in self.vocab.axis_words and \
                    toks[j + 2].text == ")" and dim == "length":  # "2 um (z)"
                toks[j].used = toks[j + 2].used = "axis"
                j += 1
            if j < len(toks) and toks[j].text in self.vocab.axis_words and not times:  # "2.0 z", "0.5 y/x"
                q.axis = self.vocab.axis_words[toks[j].text]
                toks[j].used = "axis"
                while j + 2 < len(toks) and toks[j + 1].text == "/" and toks[j + 2].text in self.vocab.axis_words:
                    toks[j + 1].used = toks[j + 2].used = "axis"
                    j += 2
            parse.quantities.append(q)
        self._voxel_groups(parse)

    def _voxel_groups(self, parse: Parse) -> None:
        """'2 x 0.5 x 0.5 um', '(z, y, x) = (2, 0.5, 0.5) um', '0.5 x 0.5 x 2 um (x, y, z)': per-axis sizes.

        Two or three numbers joined by 'x' or ',' and ending in a length unit. With an axis list next
        to them the axes are taken from it; without one, of three numbers the one that differs from
        two equal ones is z (stacks are anisotropic in z); otherwise nothing is guessed.
        """
        toks, qs = parse.tokens, parse.quantities
        i = 0
        while i < len(qs):
            group = [qs[i]]
            while i + len(group) < len(qs):
                nxt, last = qs[i + len(group)], group[-1]
                between = [t.text for t in toks[last.end + 1:nxt.pos]] if last.end >= last.pos else []
                if last.dim == "bare" and nxt.pos - last.pos == 2 and between in (["x"], [","], ["*"], ["by"]):
                    group.append(nxt)
                else:
                    break
            i += len(group)
            if len(group) < 2 or group[-1].dim != "length":
                continue
            unit_factor = group[-1].value / float(toks[group[-1].pos].text)
            for q in group[:-1]:
                q.value, q.dim = q.value * unit_factor, "length"
            for q in group:
                if q.pos + 1 < len(toks) and toks[q.pos + 1].text in ("x", ",", "*", "by"):
                    toks[q.pos + 1].used = "axis"
            axes = self._axis_list(toks, group[0].pos, group[-1].end)
            if len(axes) == len(group):
                for q, ax in zip(group, axes, strict=True):
                    q.axis = "z" if ax == "z" else "xy"
            elif len(group) == 3:
                values = [q.value for q in group]
                odd = [k for k in range(3) if values.count(values[k]) == 1]
                if len(set(values)) == 1:  # isotropic
                    odd = [0]
                if len(odd) == 1:
                    for k, q in enumerate(group):
                        q.axis = "z" if k == odd[0] else "xy"

    def _axis_list(self, toks: list[Token], start: int, end: int) -> list[str]:
        """Axis labels like '(z, y, x)' within a few tokens before ``start`` or after ``end``."""
        def scan(indices: range) -> list[str]:
            found: list[str] = []
            for k in indices:
                text = toks[k].text
                if text in ("z", "y", "x") and not (toks[k].used and toks[k].used != "axis"):
                    found.append(text)
                elif text not in (",", "(", ")", "/", "=", "and") and found:
                    break
            return found
        after = scan(range(end + 1, min(len(toks), end + 9)))
        before = scan(range(max(0, start - 9), start))
        axes = after if len(after) >= 2 else before
        for k in range(max(0, start - 9), min(len(toks), end + 9)):
            if toks[k].text in ("z", "y", "x") and axes and not toks[k].used:
                toks[k].used = "axis"
        return axes

    def _match(self, toks: list[Token], i: int) -> tuple[int, int] | None:
        """The longest vocabulary phrase at token i: (length, concept index)."""
        for phrase, concept in self.vocab.phrases:
            n = len(phrase)
            window = toks[i:i + n]
            if len(window) == n and all(not t.used for t in window) and tuple(t.stem for t in window) == phrase:
                return n, concept
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
            steps += 1
            if steps >= 3 or tok.text in _BREAKS:
                return False
        return False

    def _names_projection(self, parse: Parse, i: int, stat: str) -> bool:
        """Whether the statistic at token i names the type of a projection next to it ("project (max)")."""
        toks = parse.tokens
        near = [k for k in range(max(0, i - 3), min(len(toks), i + 4)) if k != i
                and all(t.text in ("(", ")", "-", "by", "a", "the", "using") for t in toks[min(i, k) + 1:max(i, k)])]
        for k in near:
            hit = self._match(toks, k) if not toks[k].used else None
            concept = self.vocab.concepts[hit[1]] if hit else next(
                (self.vocab.concepts[c] for p, c in parse.concepts if p <= k and toks[k].used == f"concept:{c}"), None)
            if concept is not None and (concept.get("set") or {}).get("inputs.z") == stat:
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
            elif stat in ("sum", "mean") and (hit is None or hit[0] == 1) and self._modifies(toks, i, "skeleton_length"):
                toks[i].used = f"length:{stat}"  # "total filament length": the total (and mean) are reported
                i += 1
            elif stat is not None and stat != "mean" and (hit is None or hit[0] == 1) and any(
                    self._modifies(toks, i, kind) for kind in ("size", "nn_distance", "object_distance", "tracking",
                                                               "shape")):
                toks[i].used = "other-stat"  # "median area", "maximum speed": only means are in the plan
                parse.other_stats.append(i)
                i += 1
            elif stat is not None and (hit is None or hit[0] == 1) and self._names_projection(parse, i, stat):
                toks[i].used = f"projection:{stat}"  # "z-project (max)"
                i += 1
            elif hit is not None:
                n, concept = hit
                for t in toks[i:i + n]:
                    t.used = f"concept:{concept}"
                parse.concepts.append((i, concept))
                i += n
            else:
                i += 1

    def _channels(self, parse: Parse) -> None:
        toks = parse.tokens
        words = self.vocab.channel_words
        for i, tok in enumerate(toks):
            text = tok.text
            if text in self.vocab.cardinals and i + 1 < len(toks) and toks[i + 1].text in ("channels", "chans"):
                tok.used = toks[i + 1].used = "filler"  # "two channels": a count, not a reference
            elif text in self.vocab.ordinals and i + 1 < len(toks) and toks[i + 1].text.rstrip("s") in words:
                parse.channels.append((i, self.vocab.ordinals[text] - 1))
                tok.used = toks[i + 1].used = "channel"
            elif text.rstrip("s") in words and i + 1 < len(toks):
                nxt = toks[i + 1].text
                num = _number(nxt) if _number(nxt) is not None else (self.vocab.ordinals.get(nxt)
                                                                     or self.vocab.cardinals.get(nxt))
                if num is not None and float(num).is_integer() and num >= 1:
                    parse.channels.append((i, int(num) - 1))
                    tok.used = toks[i + 1].used = "channel"
                    if i + 3 < len(toks) and toks[i + 2].text in ("and", ",", "&", "vs", "versus") and \
                            _number(toks[i + 3].text) is not None:  # "channels 1 and 2"
                        parse.channels.append((i, int(float(toks[i + 3].text)) - 1))  # one phrase, one role
                        toks[i + 2].used = toks[i + 3].used = "channel"
            elif re.fullmatch(r"(?:c|ch)(\d)", text):
                parse.channels.append((i, int(text.lstrip("ch")) - 1))
                tok.used = "channel"
        if parse.channels:  # "nuclei from the first", "partners in the second": the channel word left out
            for i, tok in enumerate(toks):
                if not tok.used and tok.text in self.vocab.ordinals and i > 0 and toks[i - 1].text == "the" and (
                        i + 1 == len(toks) or toks[i + 1].text in _BREAKS):
                    parse.channels.append((i, self.vocab.ordinals[tok.text] - 1))
                    tok.used = "channel"
            parse.channels.sort()

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
        toks = self._split_unknown_compounds([Token(t, stem(t)) for t in _tokenise(request)])
        parse = Parse(tokens=toks)
        self._channels(parse)
        resolve_stains(parse, self.vocab, meta)
        self._quantities(parse)
        self._phrases(parse)
        for i, tok in enumerate(toks):
            if not tok.used and tok.text in self.vocab.negations:
                tok.used = "negation"  # never a filler: assemble decides what it negates
                parse.negations.append(i)
            elif not tok.used and (tok.stem in self.vocab.qualifiers or tok.text in self.vocab.qualifiers):
                tok.used = "qualifier"  # a region or a subset, unless its clause is about preprocessing
                parse.qualifiers.append(i)
        for tok in toks:
            if tok.used:
                continue
            if tok.text in _BREAKS or tok.text in STOPWORDS or tok.stem in self.vocab.fillers \
                    or tok.text in self.vocab.fillers or tok.text in self.vocab.ordinals \
                    or tok.text in self.vocab.cardinals or len(tok.text) < 2:
                tok.used = "filler"
        return parse

    def suggestions(self, word: str) -> list[str]:
        """Vocabulary phrases spelled like ``word`` (for the message when it is not understood)."""
        import difflib

        known = sorted({p for c in self.vocab.concepts for p in map(str, c["phrases"])})
        return difflib.get_close_matches(word.lower(), known, n=2, cutoff=0.8)

    def plan(self, request: str, meta: ImageMeta | None = None) -> AnalysisPlan:
        """The plan for ``request`` on an image described by ``meta``."""
        from scopebot.code.plan_rules import assemble

        return assemble(self.parse(request, meta), self.vocab, meta or ImageMeta())
