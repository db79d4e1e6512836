"""Two object nouns that name the same objects: one kind, not "two kinds of objects".

The planner declines a request that names two kinds of objects ("spots per cell": one inside the other is not
in the plan). Two grammatical patterns name ONE kind with two nouns, and are read here without looking at the
nouns themselves (beyond the vocabulary's classes):

- **a copula**: "the blobs are nuclei", "the dots were beads": noun, a form of *be*, at most a determiner, noun.
  The second noun says what the first is; the two are one kind (the second noun's).
- **a sample noun as modifier**: "organoid cells", "spheroid nuclei", "embryo nuclei": the first noun of the
  compound names the sample the objects come from (``sample_nouns`` in the vocabulary: a whole specimen the image
  shows, never a compartment of a cell), so the objects are the head noun's. A compound whose modifier is a cell
  compartment ("nuclear foci": foci inside nuclei) is not a sample noun and stays two kinds, and so does a sample
  noun standing on its own ("nuclei per organoid").

A third pattern names the **sample** the image shows, not a kind that is measured (:func:`described_objects`):

- **what the data show**: an object noun after "<data noun> of / through" ("a stack of a spheroid", "a movie of
  a few migrating macrophages", "a z-stack through an organoid");
- **a presentational sentence**: the complement of a sentence opening "This is / These are / It is / They
  are" or "We culture / grow / image / stained" ("These are cultured hippocampal neurons stained for MAP2.");
- **a cell line before "cells"** ("We grow MDCK cells at high density") in a clause without a measurement;
- **what someone did to the sample**: the object of a verb of handling it after a subject ("I treated the cells
  with nocodazole", "we just started imaging organoids"), or its subject in the passive ("These neurons were
  imaged live").

Only a sample noun or an object that holds others (``container_objects``: cells and cell types, colonies,
bacteria) may be read so. Such a kind is dropped only when another kind is named elsewhere, only when every mention has one of these
forms (a kind named again in any other way, "... the spots per cell", stays a kind), and only when no other object
noun follows it in its clause ("a movie of spots in cells" relates two kinds).

Anything else ("spots in cells", "spots per cell") stays two kinds and is reported as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

#: forms of "be" that join a noun to what it is
COPULA = frozenset({"is", "are", "was", "were", "be"})
#: words allowed between the copula and the second noun
_DETERMINERS = frozenset({"the", "a", "an", "all", "just", "simply", "actually", "really", "basically"})


def kind_at(parse: Parse, vocab: Vocabulary, pos: int, span: int) -> str:
    key = " ".join(t.stem for t in parse.tokens[pos:pos + span])
    return vocab.object_kinds.get(key, key)


def sample_modifier(parse: Parse, vocab: Vocabulary, pos: int) -> bool:
    """True when the object noun at ``pos`` is a sample noun directly before another object noun ("organoid
    cells"): it says where the objects are, not which objects."""
    toks = parse.tokens
    return (pos + 1 < len(toks) and toks[pos].used is not None and toks[pos + 1].used == toks[pos].used
            and toks[pos].stem in vocab.sample_nouns)


def copula_aliases(parse: Parse, vocab: Vocabulary, nouns: list[tuple[int, int]]) -> dict[str, str]:
    """{kind named first: kind it is said to be} for each "X are Y" between two object nouns (pos, span)."""
    starts = {p: n for p, n in nouns}
    texts = [t.text for t in parse.tokens]
    aliases: dict[str, str] = {}
    for p, n in nouns:
        k = p + n
        if k >= len(texts) or texts[k] not in COPULA:
            continue
        k += 1
        while k < len(texts) and texts[k] in _DETERMINERS:
            k += 1
        if k in starts:
            first, second = kind_at(parse, vocab, p, n), kind_at(parse, vocab, k, starts[k])
            if first != second:
                aliases[first] = second
    return aliases


#: nouns of the data: "<data noun> of X" says what the image shows
DATA_NOUNS = frozenset({"image", "images", "stack", "stacks", "z-stack", "z-stacks", "movie", "movies", "video", "videos",
                        "time-lapse", "timelapse", "recording", "recordings", "picture", "pictures", "photo", "photos",
                        "scan", "scans", "series", "z-series", "snapshot", "snapshots", "field", "view", "data",
                        "dataset", "acquisition", "tiff", "tif", "file", "montage", "mosaic"})
#: sentence openings that present what the image shows ("These are ...")
_PRESENTING = frozenset({("this", "is"), ("these", "are"), ("it", "is"), ("they", "are"), ("those", "are"),
                         ("here", "are"), ("this", "shows"), ("these", "show"), ("it", "shows"),
                         *((who, verb) for who in ("we", "i") for verb in (
                             "culture", "cultured", "grow", "grew", "image", "imaged", "study", "studied", "stained",
                             "labelled", "labeled", "fixed"))})
_SENTENCE_ENDS = frozenset({".", "?", "!", ";", ":"})
#: verbs of handling the sample: their object, after a subject pronoun, is the sample ("we treated the cells")
SAMPLE_VERBS = frozenset({"culture", "cultured", "culturing", "grow", "grew", "growing", "image", "imaged", "imaging",
                          "treat", "treated", "treating", "stain", "stained", "staining", "fix", "fixed", "fixing",
                          "transfect", "transfected", "transfecting", "infect", "infected", "infecting", "label",
                          "labelled", "labeled", "plate", "plated", "seed", "seeded", "starve", "starved",
                          "stimulate", "stimulated", "incubate", "incubated", "filmed", "recorded", "dissect",
                          "dissected", "isolate", "isolated", "prepare", "prepared", "study", "studied", "studying"})
_BE = frozenset({"were", "was", "are", "is", "have", "has", "had"})
#: intransitive verbs of the sample's life after "our / my <cells>" ("Our CHO cells grow in clumps")
_GROWING = frozenset({"grow", "grew", "growing", "live", "lived", "proliferate", "proliferated"})
_SUBJECTS = frozenset({"we", "i", "they", "you", "she", "he", "lab", "group", "team", "student", "collaborator"})
_MAX_GAP = 4  # words between "of" / the opening and the noun (articles, adjectives: "a few migrating")


def described_objects(parse: Parse, vocab: Vocabulary, nouns: list[tuple[int, int]], clause: list[int]) -> set[int]:
    """Positions (of ``nouns``: object-noun mentions (pos, span)) that only say what the image shows (module text):
    after "<data noun> of", as the complement of a presentational opening, or "<cell line> cells" in a clause
    without a measurement."""
    toks = parse.tokens
    texts = [t.text for t in toks]
    measured = {clause[p] for p, i in parse.concepts if vocab.concepts[i].get("measure")}
    out: set[int] = set()
    for pos, span in nouns:
        key = " ".join(t.stem for t in toks[pos:pos + span])
        if key not in vocab.sample_nouns | vocab.container_objects:
            continue  # "These are nuclei. Count the spots.": nuclei hold no spots here, both may be in the image
        gap = [k for k in range(max(0, pos - _MAX_GAP - 1), pos)]
        lead = next((k for k in reversed(gap) if texts[k] in _SENTENCE_ENDS or texts[k] == ","), None)
        window = [k for k in gap if lead is None or k > lead]
        between_plain = all(toks[k].used in (None, "filler") for k in window)
        of_data = any(texts[k] in ("of", "through") and k > 0 and texts[k - 1] in DATA_NOUNS
                      and all(toks[j].used in (None, "filler") for j in range(k + 1, pos)) for k in window)
        start = window[0] if window else pos
        opening = (start + 1 < len(texts) and (texts[start], texts[start + 1]) in _PRESENTING
                   and (start == 0 or texts[start - 1] in _SENTENCE_ENDS) and between_plain)
        line = (pos > 0 and getattr(toks[pos - 1], "section", "") == "sample" and toks[pos].stem == "cell"
                and clause[pos] not in measured)
        handled = any(texts[k] in SAMPLE_VERBS and any(t in _SUBJECTS for t in texts[max(0, k - 3):k])
                      and all(toks[j].used in (None, "filler") for j in range(k + 1, pos))
                      for k in window)  # "I treated the cells with ...", "we just started imaging organoids"
        after = [t for t in texts[pos + 1:pos + 4]]
        passive = len(after) >= 2 and after[0] in _BE and (after[1] in SAMPLE_VERBS or (
            len(after) > 2 and after[1] in ("then", "first", "all", "been") and after[2] in SAMPLE_VERBS))
        active = bool(after) and after[0] in _GROWING and any(t in ("our", "my") for t in texts[max(0, pos - 3):pos])
        if (of_data or opening or line or handled or passive or active) and not _relation_follows(parse, texts, pos,
                                                                                                   nouns):
            out.add(pos)
    return out


#: words that end the description a noun heads ("neurons stained for MAP2 and I'd like ...")
_CONJUNCTIONS = frozenset({"and", "but", "so", "while", "whereas", "because", "since", "although", "though"})


def _relation_follows(parse: Parse, texts: list[str], pos: int, nouns: list[tuple[int, int]]) -> bool:
    """Another object noun follows in the noun's clause before a conjunction ("a movie of spots in cells", "a
    lysosome moving along a microtubule"), or right after one ("These are nuclei and spots"): the description
    relates or lists two kinds in the image, so neither is only the sample."""
    from scopebot.code.normalise import CLAUSE_BREAKS

    spans = dict(nouns)
    k = pos + spans.get(pos, 1)
    while k < len(texts) and texts[k] not in CLAUSE_BREAKS:
        if k in spans:
            return True
        if texts[k] in _CONJUNCTIONS and not any(j in spans for j in range(k + 1, k + 4)):
            return False  # "neurons stained for MAP2 and I'd like ...": the description ends here
        k += 1  # "nuclei and spots": two kinds in the image, not a sample and its objects
    return False


#: prepositions of a path after a motion word ("moving along an axon", "travels through the channel")
PATH_PREPOSITIONS = frozenset({"along", "through", "across", "within", "inside", "in", "on", "over"})
#: motion words the vocabulary may leave unplaced ("glides", "travels"); the tracking concept counts as well
MOTION = frozenset({"travel", "travels", "travelled", "traveled", "travelling", "traveling", "run", "runs", "running",
                    "glide", "glides", "gliding", "crawl", "crawls", "crawling", "drift", "drifts", "drifting",
                    "walk", "walks", "walking", "diffuse", "diffuses", "diffusing", "move", "moves", "moving",
                    "moved", "migrate", "migrates", "migrating", "slide", "slides", "sliding"})


def path_objects(parse: Parse, vocab: Vocabulary, nouns: list[tuple[int, int]]) -> set[int]:
    """Positions (of ``nouns``) that name where a tracked object moves, not a measured kind: the noun follows a
    motion word and a path preposition with at most two plain words between ("one vesicle travels along the
    axon", "a lysosome moving along an axon"). Only for a plan that measures nothing but tracks."""
    toks = parse.tokens
    texts = [t.text for t in toks]
    out: set[int] = set()
    for pos, _ in nouns:
        k = pos - 1
        while k >= 0 and pos - k <= 3 and toks[k].used in (None, "filler") and texts[k] not in PATH_PREPOSITIONS:
            k -= 1
        if k < 1 or texts[k] not in PATH_PREPOSITIONS or (k + 1 < len(texts) and texts[k + 1] == "with"):
            continue
        verb = toks[k - 1]
        tracking = verb.used is not None and verb.used.startswith("concept:") and vocab.concepts[
            int(verb.used.split(":")[1])].get("measure") == "tracking"
        if verb.text in MOTION or tracking:
            out.add(pos)
    return out
