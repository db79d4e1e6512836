"""Unknown nouns that stand where a measurement names its objects: "the length of every cable", "the mean
nearest-neighbour distance between the pillars", "the area per droplet".

The vocabulary lists object nouns (nuclei, spots, beads, filaments ...), and a new author brings new ones
(cables, pillars, bundles, granules ...). What the plan does with objects does not depend on their name: they are
segmented and measured alike. What matters is how many kinds there are (measuring one kind inside another is not in
the plan). So an unknown word is read as the name of the measured objects, a kind of its own, when the request
itself uses it in the object slot of a measurement that objects have and events or states do not have:

- ``<size / length / distance / intensity / shape> of [each | every | the | all (the) | one] X``;
- ``<size / length / ...> per X`` ("the area per droplet");
- ``<distance> between [the | all (the)] X``.

Only when the word is the one name of the objects in the request (a known object noun right before it is a
modifier: "microtubule bundles"); with another object noun ("the spots on each cable") it stays unknown and the
request is declined. Parts of objects and events ("the length of each protrusion", "the area of each mitosis")
are never objects: the threshold segments whole objects. Counting alone ("how many mitoses") never
qualifies: a count may be of events or of a subset, which the threshold does not see. A word followed by an object
noun is a modifier ("each GFP cell"), and words the vocabulary or the lexicon already reads are never touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.answer.text import STOPWORDS

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

#: measures that only objects with an extent have
SLOT_MEASURES = frozenset({"size", "skeleton_length", "nn_distance", "object_distance", "intensity", "shape"})
_LEADS = frozenset({"each", "every", "the", "all", "one", "single", "individual", "its", "their", "a", "an"})
_LINKS = {"of": SLOT_MEASURES, "per": SLOT_MEASURES, "for": SLOT_MEASURES,
          "between": frozenset({"nn_distance", "object_distance"})}


#: parts of an object and places in it: the threshold segments the whole object, never these
PARTS = frozenset({"protrusion", "protrusions", "branch", "branches", "tip", "tips", "end", "ends", "edge", "edges",
                   "junction", "junctions", "spine", "spines", "process", "processes", "arm", "arms", "segment",
                   "segments", "side", "sides", "pole", "poles", "half", "halves", "part", "parts", "region",
                   "regions", "membrane", "cytoplasm", "periphery", "rim", "core", "centre", "center", "surface",
                   "mitosis", "mitoses", "division", "divisions", "event", "events"})


def _noun_like(text: str) -> bool:
    return text.isalpha() and len(text) >= 3 and text not in STOPWORDS and not text.endswith(("ly", "ing", "ed"))


def object_slots(parse: Parse, vocab: Vocabulary) -> list[int]:
    """Read unknown nouns in a measurement's object slot as object nouns (module text); their positions."""
    toks = parse.tokens
    objects = next(k for k, c in enumerate(vocab.concepts) if c.get("object_nouns") and "objects" in c["phrases"])
    stems: set[str] = set()
    for pos, idx in parse.concepts:
        measure = vocab.concepts[idx].get("measure")
        k = pos + parse.spans.get(pos, 1)
        if measure not in SLOT_MEASURES or k >= len(toks) or measure not in _LINKS.get(toks[k].text, ()):
            continue
        k += 1
        while k < len(toks) and toks[k].text in _LEADS:
            k += 1
        if k >= len(toks) or toks[k].used or not _noun_like(toks[k].text):
            continue
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if nxt is not None and (nxt.used or "").startswith("concept:") and vocab.concepts[
                int(str(nxt.used).split(":")[1])].get("object_nouns"):
            continue  # "each GFP cell": a modifier of a known object noun
        if nxt is not None and (nxt.text in ("ones", "one") or (not nxt.used and _noun_like(nxt.text)
                                                                and nxt.stem not in vocab.fillers)):
            continue  # "the old ones": an adjective of a subset; "each cable end": a compound
        if toks[k].text in PARTS or toks[k].stem in vocab.fillers or toks[k].text in vocab.negations | vocab.stains | set(vocab.cardinals) \
                | set(vocab.ordinals):
            continue
        stems.add(toks[k].stem)
    found = [i for i, t in enumerate(toks) if not t.used and t.stem in stems]
    known = dict(parse.concepts)
    named = {i for i, idx in known.items() if vocab.concepts[idx].get("object_nouns") and i + 1 not in found}
    if len(stems) != 1 or named:
        return []  # only when the unknown noun is the one name of the objects ("microtubule bundles": a modifier)
    for i in found:
        if i - 1 in known and vocab.concepts[known[i - 1]].get("object_nouns") and parse.spans.get(i - 1, 1) == 1:
            parse.concepts.remove((i - 1, known[i - 1]))  # "microtubule bundles": the known noun is a modifier
            toks[i - 1].used = "filler"
        toks[i].used = f"concept:{objects}"
        parse.concepts.append((i, objects))
        parse.spans[i] = 1
    parse.concepts.sort()
    return found
