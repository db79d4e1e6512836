"""Everyday wording for the planner: the data of ``thesaurus_v1.yaml`` and the contexts its entries need.

The lexicon (:mod:`scopebot.code.normalise`, ``lexicon_v1.yaml``) maps bench shorthand, spellings and the
sample. This module adds the everyday words a user types for a plan field ("in contact with each other" for
touching, "clipped by the frame edge" for cut off by the image border, "hotter" for brighter, "optical
sections" for slices) and words with no analysis meaning at all (interjections, intensifiers, judgements,
verbs of being somewhere). The normaliser applies both with the lexicon's rules, so the same protections hold:
a word the vocabulary gives a meaning of its own is never rewritten, and every rewrite is listed in
``plan.understood`` ("'clipped' -> 'truncated' (everyday word)").

An entry may hold only in a context, checked on the request's words (:meth:`Condition.holds`): a word of a
named group in the same sentence (``near``) or not (``not_near``), or right after (``next``, ``not_next``)
or before (``prev``) the entry's words. Words whose meaning no context makes safe are not in the file, so the
planner still reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

THESAURUS_PATH = Path(__file__).with_name("thesaurus_v1.yaml")
#: Sentence ends (":" too: "Quick background: ..." is a unit of its own): ``near`` looks for its words between
#: two of these, and the context ablation (:mod:`scopebot.code.context_words`) takes its sentences between them.
SENTENCE_BREAKS = frozenset({".", "?", "!", ";", ":"})
#: Words skipped when looking at the word after or before an entry ("partial ones", "untangle the nuclei").
#: Possessives are not skipped: "transfected my cells" is a description, "the transfected cells" a subset.
_SKIP = frozenset({"the", "a", "an", "these", "those", "all", "which", "that", "who"})
_KEYS = ("near", "not_near", "next", "not_next", "prev", "near_request")
#: A group member that stands for any number ("brighter than 500" is a threshold, not a description).
NUMBER = "<number>"
#: A number as the tokeniser writes it ("500", "0.65"); the normaliser reads numbers with it too.
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Condition:
    """Where an entry holds: each field a word group, or empty (no check); ``near`` may name several groups,
    each of which must be in the sentence."""
    near: tuple[frozenset[str], ...] = ()
    not_near: frozenset[str] = frozenset()
    next: frozenset[str] = frozenset()
    not_next: frozenset[str] = frozenset()
    prev: frozenset[str] = frozenset()
    near_request: frozenset[str] = frozenset()
    override: bool = False  # may rewrite a phrase the vocabulary knows (in this context only)

    def holds(self, words: list[str], i: int, j: int) -> bool:
        """Whether the entry matched at ``words[i:j]`` holds in this request."""
        if self.near or self.not_near:
            start, stop = i, j
            while start > 0 and words[start - 1] not in SENTENCE_BREAKS:
                start -= 1
            while stop < len(words) and words[stop] not in SENTENCE_BREAKS:
                stop += 1
            sentence = set(words[start:i]) | set(words[j:stop])
            if any(not sentence & group for group in self.near):
                return False
            if self.not_near and sentence & self.not_near:
                return False
        if self.near_request and not (set(words[:i]) | set(words[j:])) & self.near_request:
            return False
        after = next((w for w in words[j:] if w not in _SKIP), None)
        after = NUMBER if after is not None and NUMBER_RE.fullmatch(after) else after
        if self.next and after not in self.next:
            return False
        if self.not_next and after in self.not_next:
            return False
        before = next((w for w in reversed(words[:i]) if w not in _SKIP), None)
        return not (self.prev and before not in self.prev)


@dataclass(frozen=True)
class Entry:
    source: str
    target: str  # empty: a description, kept as typed and read as a filler
    condition: Condition | None


@dataclass(frozen=True)
class Thesaurus:
    version: int
    entries: tuple[Entry, ...]
    harmless: tuple[str, ...]
    #: the context groups by name ("subset_adjectives": words that pick a subset of the objects)
    groups: dict[str, frozenset[str]] = field(default_factory=dict)


def follows(words: list[str], i: int, group: str) -> bool:
    """``words[i]`` comes right after a word of the thesaurus context ``group``, articles skipped, as an entry's
    ``prev`` condition reads it ("count only the bright ones": "bright" follows a ``restrictive`` word)."""
    members = load_thesaurus().groups.get(group, frozenset())
    return bool(members) and Condition(prev=members).holds(words, i, i + 1)


@lru_cache(maxsize=4)
def load_thesaurus(path: Path = THESAURUS_PATH) -> Thesaurus:
    """The thesaurus file, validated: every condition names a known group, every entry has a source."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups = {str(k): frozenset(str(w).lower() for w in v) for k, v in (data.get("contexts") or {}).items()}
    entries = []
    for item in data.get("entries") or []:
        unknown = set(item) - {"from", "to", "override", *_KEYS}
        if unknown or not str(item.get("from", "")).strip():
            raise ValueError(f"{path.name}: bad entry {item!r}")
        named = {k: [str(g) for g in (item[k] if isinstance(item[k], list) else [item[k]])] for k in _KEYS if k in item}
        missing = [g for names in named.values() for g in names if g not in groups]
        if missing:
            raise ValueError(f"{path.name}: entry {item['from']!r} names no context group {missing}")
        if item.get("override") and not named:
            raise ValueError(f"{path.name}: entry {item['from']!r} overrides the vocabulary without a context")
        cond = Condition(**{k: tuple(groups[g] for g in v) if k == "near" else frozenset().union(*(groups[g] for g in v))
                            for k, v in named.items()}, override=bool(item.get("override"))) if named else None
        entries.append(Entry(str(item["from"]).lower(), str(item.get("to") or ""), cond))
    harmless = tuple(str(w).lower() for words in (data.get("harmless") or {}).values() for w in words)
    return Thesaurus(version=int(data["version"]), entries=tuple(entries), harmless=harmless, groups=groups)
