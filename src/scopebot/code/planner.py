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

VOCABULARY_PATH = Path(__file__).with_name("vocabulary_v1.yaml")
_TOKEN_RE = re.compile(r"[23]-?d\b|\d+(?:\.\d+)?|[a-zµ][a-zµ0-9'\-]*|[%/,;:.?!()x]")
_UNIT_NORM = [(re.compile(r"\b(?:µm|um|microns?)\s*(?:\^|\*\*)?\s*([23²³])(?!\d|\.\d)"), r"um\1"),
              (re.compile(r"(\w)'s\b"), r"\1"),  # possessives: "blob's" -> "blob", "pearson's" -> "pearson"
              (re.compile(r"\b(?:px|pixels?)\s*(?:\^|\*\*)\s*2"), "px2"),
              (re.compile(r"(\d)(µm|um|nm|px|ms|s|min)\b"), r"\1 \2")]
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
    return Vocabulary(version=int(data["version"]), fillers={stem(w) for w in data["fillers"]},
                      concepts=data["concepts"], phrases=phrases, ordinals=data["ordinals"],
                      cardinals=data.get("cardinals", {}),
                      channel_words=set(data["channel_words"]), units=data["units"],
                      per_words=set(data["per_words"]), axis_words=data["axis_words"])


def _tokenise(text: str) -> list[str]:
    text = text.lower().replace("²", "2").replace("³", "3")
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
            dim, factor, n = self._unit(toks, i + 1)
            for t in toks[i + 1:i + 1 + n]:
                t.used = "unit"
            q = Quantity(value=value * factor, dim=dim or "bare", pos=i, end=i + n)
            j = i + 1 + n
            if j + 1 < len(toks) and toks[j].text in ("in", "along", "for") and dim == "length" and \
                    toks[j + 1].text in self.vocab.axis_words:  # "1.5 um in z"
                toks[j].used = "axis"
                j += 1
            if j < len(toks) and toks[j].text in self.vocab.axis_words:  # "2.0 z", "0.5 y/x"
                q.axis = self.vocab.axis_words[toks[j].text]
                toks[j].used = "axis"
                while j + 2 < len(toks) and toks[j + 1].text == "/" and toks[j + 2].text in self.vocab.axis_words:
                    toks[j + 1].used = toks[j + 2].used = "axis"
                    j += 2
            parse.quantities.append(q)
        # "1 x 0.2 x 0.2 um": z, y, x sizes
        for a, b in zip(parse.quantities, parse.quantities[1:], strict=False):
            if b.pos == a.pos + 2 and toks[a.pos + 1].text == "x":
                toks[a.pos + 1].used = "axis"
                if a.dim == "bare" and b.dim == "length":
                    a.dim = "length"

    def _phrases(self, parse: Parse) -> None:
        toks = parse.tokens
        i = 0
        while i < len(toks):
            if toks[i].used:
                i += 1
                continue
            for phrase, concept in self.vocab.phrases:
                n = len(phrase)
                window = toks[i:i + n]
                if len(window) == n and all(not t.used for t in window) and \
                        tuple(t.stem for t in window) == phrase:
                    for t in window:
                        t.used = f"concept:{concept}"
                    parse.concepts.append((i, concept))
                    i += n
                    break
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
                        parse.channels.append((i + 2, int(float(toks[i + 3].text)) - 1))
                        toks[i + 2].used = toks[i + 3].used = "channel"
            elif re.fullmatch(r"(?:c|ch)(\d)", text):
                parse.channels.append((i, int(text.lstrip("ch")) - 1))
                tok.used = "channel"

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

    def parse(self, request: str) -> Parse:
        toks = self._split_unknown_compounds([Token(t, stem(t)) for t in _tokenise(request)])
        parse = Parse(tokens=toks)
        self._channels(parse)
        self._quantities(parse)
        self._phrases(parse)
        for tok in toks:
            if tok.used:
                continue
            if tok.text in _BREAKS or tok.text in STOPWORDS or tok.stem in self.vocab.fillers \
                    or tok.text in self.vocab.fillers or tok.text in self.vocab.ordinals \
                    or tok.text in self.vocab.cardinals or len(tok.text) < 2:
                tok.used = "filler"
        return parse

    def plan(self, request: str, meta: ImageMeta | None = None) -> AnalysisPlan:
        """The plan for ``request`` on an image described by ``meta``."""
        from scopebot.code.plan_rules import assemble

        return assemble(self.parse(request), self.vocab, meta or ImageMeta())
