"""Word normalisation in front of the planner's vocabulary: shorthand, spellings, synonyms, the sample.

Data-driven (``lexicon_v1.yaml``, versioned). Before the vocabulary planner matches a request, its
words are normalised:

- **abbreviations** of bench shorthand ("nuc", "avg int", "bg sub", "NN dist") -> vocabulary words;
- **spelling** variants (British / American endings, unit words after a number, "Alexa 647") -> the
  form the vocabulary knows;
- **synonyms** whose meaning cannot change the answer ("film" -> movie, "erase" -> remove), some only
  in a context ("canal 2", "the quantity of nuclei" but never "the quantity of GFP light");
- **descriptions of the sample** (organism, cell line, tissue, assay, protein, dye, data file): kept
  as typed, so stain and channel-name matching still see them, and read as fillers. A protein or dye
  name where a channel is named ("the p65 intensity", "positive for MAP2") stays unknown.

A word whose rule does not apply stays as typed, so the planner reports it when it knows it not:
a decline is better than a wrong number. Every change is listed in ``plan.understood`` (:func:`notes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from scopebot.answer.text import STOPWORDS, stem
from scopebot.code.normalise_notes import notes
from scopebot.code.thesaurus import NUMBER_RE, THESAURUS_PATH, Condition, load_thesaurus

if TYPE_CHECKING:
    from scopebot.code.planner import Token, Vocabulary

__all__ = ["CLAUSE_BREAKS", "DESCRIPTION_FILLER", "LEXICON_PATH", "load_lexicon", "normalise", "notes"]

LEXICON_PATH = Path(__file__).with_name("lexicon_v1.yaml")
#: The filler a description of the sample is read as (a vocabulary filler in no phrase; checked in the tests).
DESCRIPTION_FILLER = "specimen"
#: Tokens that end a clause (punctuation as the tokeniser writes it); shared by the planner modules.
CLAUSE_BREAKS = frozenset({",", ";", ".", "?", "!", ":", "(", ")"})
#: words whose next word names what a question asks ("how old", "what colour"): never read as a filler
_QUESTION_HEADS = frozenset({"how", "what", "which"})
_VERB_NEXT = {"the", "them", "these", "those", "down", "out", "each", "all", "every", "it", "my", "our"}
_OBJECT_LEADS = {"the", "these", "those", "all", "little", "small", "tiny", "individual", "single", "my", "our",
                 "detected", "visible", "bright", "separate", "distinct"}
_LENS_WORDS = {"x", "oil", "water", "air", "immersion", "lens", "na", "objective", "glycerol", "silicone"}
_MOVIES = {"movie", "movies", "film", "films", "video", "videos", "time-lapse", "timelapse", "recording", "sequence"}
_IDENTIFIER_RE = re.compile(r"([a-z]{1,6})-?(\d{1,4})([a-z]{0,3}\d{0,2})")
@dataclass(frozen=True)
class Rule:
    source: tuple[str, ...]
    target: tuple[str, ...]  # empty: a description, kept as typed and read as a filler
    section: str
    when: str = ""  # "", number, object, rate, verb, of, label, descriptor (channel-naming check), context
    context: Condition | None = None  # thesaurus entries: where the entry holds (``when == "context"``)


@dataclass
class Lexicon:
    version: int
    symbols: dict[str, str]  # symbol -> placeholder word
    shown: dict[str, str]  # placeholder word -> symbol (for the notes)
    rules: dict[tuple[str, ...], list[Rule]]
    longest: int
    endings: list[tuple[str, str]]
    units: dict[str, str]
    dye_prefixes: dict[tuple[str, ...], str]
    label_nouns: set[str]
    sample_units: set[str]
    channel_cues: set[str]
    compound_parts: set[str]
    identifier_exclude: set[str]
    object_words: set[str] = field(default_factory=set)  # object synonyms (for the `object` condition)


def _words(phrase: object) -> tuple[str, ...]:
    return tuple(str(phrase).lower().replace(".", " . ").split())


@lru_cache(maxsize=4)
def load_lexicon(path: Path = LEXICON_PATH, thesaurus: Path | None = THESAURUS_PATH) -> Lexicon:
    """The lexicon file, validated, with the everyday words of the thesaurus (:mod:`scopebot.code.thesaurus`)."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules: dict[tuple[str, ...], list[Rule]] = {}

    def add(source: object, target: object, section: str, when: str = "", context: Condition | None = None) -> None:
        words = _words(source)
        if not words:
            raise ValueError(f"{path.name}: empty source in {section}")
        rules.setdefault(words, []).append(Rule(words, tuple(str(target).split()) if target else (), section, when,
                                                context))

    symbols, shown = {}, {}
    for k, (sym, tgt) in enumerate(sorted((data.get("symbols") or {}).items())):
        symbols[str(sym)] = placeholder = f"zzsymbol{k}"
        shown[placeholder] = str(sym)
        rules[(placeholder,)] = [Rule((placeholder,), tuple(str(tgt).split()), "abbreviation"
                                      if str(tgt) not in (",", "and") else "")]
    for src, tgt in (data.get("abbreviations") or {}).items():
        add(src, tgt, "abbreviation")
    spelling = data.get("spelling") or {}
    for src, tgt in (spelling.get("area_units") or {}).items():
        add(src, tgt, "spelling")
    for item in data.get("synonyms") or []:
        add(item["from"], item["to"], "synonym", str(item.get("when", "")))
    for src, tgt in (data.get("object_synonyms") or {}).items():
        add(src, tgt, "object", "object_name")
    for word in data.get("data_description") or []:
        add(word, "", "data")
    for word in data.get("discourse") or []:
        add(word, "", "discourse")
    specimen = data.get("specimen") or {}
    for word in specimen.get("sample") or []:
        add(word, "", "sample")
    for word in specimen.get("molecules") or []:
        add(word, "", "molecule", "descriptor")
    for word in specimen.get("label_descriptors") or []:
        add(word, "", "molecule", "label")
    if thesaurus is not None:  # after the lexicon: a lexicon rule for the same words is tried first
        words_of = load_thesaurus(thesaurus)
        for entry in words_of.entries:
            add(entry.source, entry.target, "everyday" if entry.target else "plain",
                "context" if entry.condition else "", entry.condition)
        for word in words_of.harmless:
            add(word, "", "plain")
    endings = [(str(a), str(b)) for a, b in spelling.get("endings") or []]
    return Lexicon(version=int(data["version"]), symbols=symbols, shown=shown,
                   rules=rules, longest=max(map(len, rules)), endings=endings + [(b, a) for a, b in endings],
                   units={str(k): str(v) for k, v in (spelling.get("units") or {}).items()},
                   dye_prefixes={_words(k): str(v) for k, v in (spelling.get("dye_prefixes") or {}).items()},
                   label_nouns=set(map(str, specimen.get("label_nouns") or [])),
                   sample_units=set(map(str, specimen.get("sample_units") or [])),
                   channel_cues=set(map(str, specimen.get("channel_cues") or [])),
                   compound_parts=set(map(str, specimen.get("compound_parts") or [])),
                   identifier_exclude=set(map(str, specimen.get("identifier_exclude") or [])),
                   object_words={w for k in (data.get("object_synonyms") or {}) for w in _words(k)})


@dataclass
class _Known:
    """What the vocabulary already knows, as stems: a rule never overrides a word with its own meaning."""
    meaning: set[str]  # concept phrase words, stains, negations, qualifiers, units, channel words, numbers
    fillers: set[str]
    objects: set[str]  # single-word object nouns
    statistics: dict[str, str]
    phrases: set[tuple[str, ...]]
    words: set[str] = field(default_factory=set)  # meaning without the words only part of longer phrases


_KNOWN: dict[int, tuple[Vocabulary, _Known]] = {}


def _known(vocab: Vocabulary) -> _Known:
    cached = _KNOWN.get(id(vocab))
    if cached is not None and cached[0] is vocab:
        return cached[1]
    meaning = {w for phrase, _ in vocab.phrases for w in phrase}
    words = {phrase[0] for phrase, _ in vocab.phrases if len(phrase) == 1}
    for group in (vocab.stains, vocab.negations, vocab.qualifiers, set(vocab.units), vocab.channel_words,
                  set(vocab.ordinals), set(vocab.cardinals), set(vocab.axis_words)):
        meaning |= {stem(str(w)) for w in group}
        words |= {stem(str(w)) for w in group}
    objects = {phrase[0] for phrase, i in vocab.phrases if len(phrase) == 1 and vocab.concepts[i].get("object_nouns")}
    known = _Known(meaning=meaning, fillers=set(vocab.fillers) | {stem(w) for w in STOPWORDS} | set(STOPWORDS),
                   objects=objects, statistics=dict(vocab.statistics), phrases={p for p, _ in vocab.phrases},
                   words=words)
    _KNOWN[id(vocab)] = (vocab, known)
    return known


@lru_cache(maxsize=1)
def _normalised_class(base: type) -> type:
    @dataclass
    class Normalised(base):  # type: ignore[valid-type, misc]
        """A request token that normalisation changed or classified: what was typed and by which rule."""
        source: str = ""
        section: str = ""
        group: int = 0
    return Normalised


def _apply_symbols(text: str, lexicon: Lexicon) -> str:
    """Symbols -> placeholder words the rules map ("#" before a digit is dropped: "channel #2")."""
    text = re.sub(r"#\s*(?=\d)", " ", text.lower())
    for key in sorted(lexicon.symbols, key=len, reverse=True):
        lead = r"(?<![a-z0-9])" if key[0].isalnum() else ""
        text = re.sub(lead + re.escape(key), f" {lexicon.symbols[key]} ", text)
    return text


class _Normaliser:
    def __init__(self, lexicon: Lexicon, vocab: Vocabulary, tokenise: Any) -> None:
        self.lex, self.vocab, self.known, self.tokenise = lexicon, vocab, _known(vocab), tokenise
        from scopebot.code.planner import Token

        self.token, self.cls = Token, _normalised_class(Token)
        self.out: list[Token] = []
        self.groups = 0

    # --- conditions --------------------------------------------------------------------------------
    def _is_number(self, word: str | None) -> bool:
        return word is not None and (bool(NUMBER_RE.fullmatch(word)) or word in self.vocab.cardinals)

    def _holds(self, rule: Rule, words: list[str], i: int, j: int) -> bool:
        prev = words[i - 1] if i > 0 else None
        nxt = words[j] if j < len(words) else None
        if not rule.target and prev in _QUESTION_HEADS:
            return False  # "how old was the donor": the word after "how" is what is asked, never a filler
        if rule.when == "number":
            return (prev in self.vocab.ordinals) or self._is_number(nxt) or (nxt in self.vocab.ordinals)
        if rule.when == "of":
            return nxt == "of"
        if rule.when == "verb":
            return nxt in _VERB_NEXT
        if rule.when == "rate":
            return self._is_number(prev) and (nxt in self.vocab.per_words or nxt == "/")
        if rule.when == "movie":
            ahead = [w for w in words[j:j + 4] if w not in ("the", "this", "my", "a", "our", "your")]
            return len(ahead) >= 2 and ahead[0] in ("of", "in") and ahead[1] in _MOVIES
        if rule.when == "object":  # "the quantity of (little) dots", not "the amount of nuclear GFP"
            ahead = [k for k in self._ahead(words, j, 4) if words[k] not in _OBJECT_LEADS]
            return bool(ahead) and self._object_at(words, ahead[0]) and not (
                ahead[0] + 1 < len(words) and (words[ahead[0] + 1] in self.vocab.stains
                                               or words[ahead[0] + 1] in self.lex.channel_cues))
        if rule.when == "not_objective":  # "obj" is also the objective ("63x oil obj")
            return prev not in _LENS_WORDS and nxt not in _LENS_WORDS
        if rule.when == "label":
            return any(words[k] in self.lex.label_nouns or words[k] in self.vocab.stains
                       for k in self._ahead(words, j, 2))
        if rule.when == "descriptor":
            return not self._names_channel(words, i, j)
        if rule.when == "context" and rule.context is not None:
            return rule.context.holds(words, i, j)
        return True

    @staticmethod
    def _ahead(words: list[str], j: int, n: int) -> list[int]:
        out = []
        for k in range(j, min(len(words), j + n)):
            if words[k] in CLAUSE_BREAKS:
                break
            out.append(k)
        return out

    def _object_at(self, words: list[str], k: int) -> bool:
        return stem(words[k]) in self.known.objects or words[k] in self.lex.object_words

    def _names_channel(self, words: list[str], i: int, j: int) -> bool:
        """A protein or dye name where a channel is named: "p65 intensity", "positive for MAP2", "(channel 2)"."""
        cues = self.lex.channel_cues
        k = j + 1 if j < len(words) and words[j] == "(" else j
        after = words[k] if k < len(words) else None
        before = words[i - 1] if i > 0 else None
        before2 = words[i - 2] if i > 1 else None
        return after in cues or before in cues or (before in ("of", "for", "in") and before2 in cues)

    def _protected(self, rule: Rule) -> bool:
        """A word the vocabulary gives its own meaning is never rewritten by a rule without a condition."""
        if rule.context is not None and rule.context.override:
            return False  # a thesaurus entry that may rewrite a vocabulary phrase in its context only
        if len(rule.source) > 1:
            return tuple(stem(w) for w in rule.source) in self.known.phrases
        word = rule.source[0]
        s = stem(word)
        if s in self.known.statistics:
            target = self.known.statistics.get(stem(rule.target[0])) if len(rule.target) == 1 else None
            return target != self.known.statistics[s]
        if rule.when == "context":  # a thesaurus entry in its context: only a word that is a phrase of its own,
            # not one that shares its stem with a word of a longer phrase ("partial" ones, "partially outside")
            return s in self.known.words or word in STOPWORDS or (s in self.known.fillers and len(word) > 3)
        if rule.when and rule.when not in ("descriptor", "label", "object_name"):
            return False
        # a filler too ("lens" is not "lengths"), unless a short abbreviation only shares its stem ("len")
        return s in self.known.meaning or word in STOPWORDS or (s in self.known.fillers and len(word) > 3)

    # --- output ----------------------------------------------------------------------------------
    def _emit(self, texts: list[str], source: str = "", section: str = "", typed: bool = False) -> None:
        if not section:
            self.out += [self.token(t, stem(t)) for t in texts]
            return
        self.groups += 1
        for t in texts:
            s = stem(DESCRIPTION_FILLER) if typed and t not in CLAUSE_BREAKS else stem(t)
            self.out.append(self.cls(t, s, source=self.lex.shown.get(source, source), section=section,
                                     group=self.groups))

    # --- rules -----------------------------------------------------------------------------------
    def _rule_at(self, words: list[str], i: int) -> tuple[int, Rule] | None:
        for n in range(min(self.lex.longest, len(words) - i), 0, -1):
            rules = self.lex.rules.get(tuple(words[i:i + n]), [])
            for rule in sorted(rules, key=lambda r: r.when in ("", "object_name")):  # a context first
                if not self._protected(rule) and self._holds(rule, words, i, i + n):
                    return n, rule
        return None

    def _dye(self, words: list[str], i: int) -> tuple[int, str] | None:
        for prefix, name in self.lex.dye_prefixes.items():
            n = len(prefix)
            if tuple(words[i:i + n]) == prefix and i + n < len(words) and words[i + n].isdigit() and \
                    name + words[i + n] in self.vocab.stains:
                return n + 1, name + words[i + n]
        return None

    def _spelling(self, word: str) -> str | None:
        if not word.isalpha() or len(word) < 6 or stem(word) in self.known.meaning | self.known.fillers:
            return None
        hits = {}
        for a, b in self.lex.endings:
            if word.endswith(a):
                cand = word[: -len(a)] + b
                if stem(cand) in self.known.meaning | self.known.fillers:
                    hits[stem(cand)] = cand
        return next(iter(hits.values())) if len(hits) == 1 else None

    def _identifier(self, word: str) -> bool:
        m = _IDENTIFIER_RE.fullmatch(word)
        if not m or word in self.vocab.stains or stem(word) in self.known.meaning:
            return False
        letters = m.group(1)
        return letters not in self.lex.identifier_exclude and (len(letters) > 1 or letters == "p")

    def run(self, words: list[str]) -> list[Token]:
        i = 0
        while i < len(words):
            word = words[i]
            hit = self._rule_at(words, i)
            if hit is not None:
                n, rule = hit
                typed = words[i:i + n]
                if not rule.section:  # "&", "->": punctuation, nothing to report
                    self._emit(list(rule.target))
                elif rule.when == "object_name" and i + n < len(words) and self._object_at(words, i + n):
                    self._emit(typed, " ".join(typed), "sample", typed=True)  # "P-body foci": a description
                elif rule.target:
                    self._emit(self.tokenise(" ".join(rule.target)), " ".join(typed), rule.section)
                else:
                    self._emit(typed, " ".join(typed), rule.section, typed=True)
                i += n
                continue
            dye = self._dye(words, i)
            if (self._is_number(word) and i + 1 < len(words) and words[i + 1] in self.lex.sample_units) or (
                    word in self.lex.sample_units and i + 1 < len(words) and NUMBER_RE.fullmatch(words[i + 1])):
                self._emit(["-".join(words[i:i + 2])], " ".join(words[i:i + 2]), "sample", typed=True)  # "3 dpf", "day 3"
                i += 2
                continue
            if i > 0 and self._is_number(words[i - 1]) and word in self.lex.units:
                self._emit([self.lex.units[word]], word, "spelling")
            elif dye is not None:
                self._emit([dye[1]], " ".join(words[i:i + dye[0]]), "spelling")
                i += dye[0]
                continue
            elif "-" in word.strip("-") and not self._hyphen_known(word) and self._compound(word, words, i):
                pass
            elif (variant := self._spelling(word)) is not None:
                self._emit([variant], word, "spelling")
            elif self._identifier(word) and not self._names_channel(words, i, i + 1):
                self._emit([word], word, "molecule", typed=True)
            else:
                self._emit([word])
            i += 1
        return self.out

    def _hyphen_known(self, word: str) -> bool:
        s = stem(word)
        return s in self.known.meaning or s in self.known.fillers or word in self.vocab.stains

    def _compound(self, word: str, words: list[str], i: int) -> bool:
        """'z-proj', 'bkg-corr', 'histone-rfp', 'gfp-tagged': parts normalised when one of them is in the lexicon."""
        parts = [p for p in word.split("-") if p]
        sub = _Normaliser(self.lex, self.vocab, self.tokenise)
        sub.groups = self.groups
        out = sub.run(parts)
        for k, tok in enumerate(out):
            if k > 0 and tok.text in self.lex.compound_parts and not getattr(tok, "section", ""):
                sub.groups += 1  # "GFP-tagged": the tag describes the stain before it
                out[k] = self.cls(tok.text, stem(DESCRIPTION_FILLER), source=tok.text, section="molecule",
                                  group=sub.groups)
        if not any(getattr(t, "section", "") for t in out):
            return False
        self.out += out
        self.groups = sub.groups
        return True


def normalise(request: str, vocab: Vocabulary, lexicon: Lexicon | None = None) -> list[Token]:
    """The request's tokens with shorthand, spellings and synonyms mapped and descriptions of the sample
    read as fillers (kept as typed). Tokens changed here carry ``source`` and ``section`` (see :func:`notes`)."""
    from scopebot.code.planner import _tokenise

    lex = lexicon or load_lexicon()
    return _Normaliser(lex, vocab, _tokenise).run(_tokenise(_apply_symbols(request, lex)))
