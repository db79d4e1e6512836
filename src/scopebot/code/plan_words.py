"""Word-level honesty rules of the vocabulary planner (used by :mod:`scopebot.code.plan_rules`).

Words that could change the quantity are never dropped: negations, region and subset qualifiers,
the background named as what is measured, and one channel that may belong to either the objects
or the measurement are mapped to a plan field only where the structure says so, and otherwise
reported in ``plan.not_understood``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.normalise import CLAUSE_BREAKS
from scopebot.code.thesaurus import follows

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan
    from scopebot.code.planner import Parse, Vocabulary

#: Words that point at objects: a clause with one of them is never only a description of the illumination.
_SUBSET_WORDS = {"ones", "those", "them", "these", "only", "which", "that", "whose"}
#: Contexts that compare sizes ("smaller than", "at least", "under").
SIZE_CONTEXTS = ("less", "greater", "min", "max", "less_prep", "greater_prep")


def clause_numbers(parse: Parse, *, parentheses: bool = True) -> list[int]:
    """The clause number of each token. Without ``parentheses`` (the clauses for channel roles) a
    parenthesis belongs to the words around it ("the marker (channel 2)")."""
    out, n = [], 0
    for tok in parse.tokens:
        if tok.text in CLAUSE_BREAKS and (parentheses or tok.text not in ("(", ")")):
            n += 1
        out.append(n)
    return out


def phrase_of(parse: Parse, pos: int) -> str:
    used = parse.tokens[pos].used
    words = []
    for tok in parse.tokens[pos:]:
        if tok.used != used:
            break
        words.append(tok.text)
    return " ".join(words)


def phrase_of_span(parse: Parse, pos: int, n: int) -> str:
    return " ".join(t.text for t in parse.tokens[pos:pos + n])


def qualifiers(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, clause: list[int]) -> set[int]:
    """Region and subset words ("left", "dim", "weak") are reported unless their clause is about
    preprocessing ("a gradient from left to right"); returns the clauses with a preprocessing step."""
    preprocessing = {clause[pos] for pos, idx in parse.concepts
                     if any(k.startswith("preprocessing.") for k in (vocab.concepts[idx].get("set") or {}))
                     or vocab.concepts[idx].get("context") == "sigma"}
    gradient = _illumination_clauses(parse, vocab, clause)
    if gradient:
        plan.preprocessing.background = True
        preprocessing |= gradient
        for k, tok in enumerate(parse.tokens):  # "one side is way hotter than the other": the brightness word
            if not tok.used and clause[k] in gradient and tok.stem in vocab.illumination.get("brightness", set()):
                tok.used = "illumination"
                plan.understood.append(f"'{tok.text}' -> one side brighter than another: uneven illumination")
    for pos in parse.qualifiers:
        word = parse.tokens[pos].text
        if clause[pos] in gradient:
            plan.understood.append(f"'{word}' -> one side brighter than another: uneven illumination, "
                                   "background correction")
        elif clause[pos] in preprocessing:
            plan.understood.append(f"'{word}' -> describes the preprocessing problem")
        elif _edge_of_cut_objects(parse, vocab, pos):
            plan.understood.append(f"'{word}' -> the edge the cut objects touch (objects cut by any edge are dropped, "
                                   "as the request also asks for the complete ones)")
        else:
            plan.not_understood.append(f"{word} (a region of the image or a subset of the objects: not in the plan)")
    return preprocessing


def _border_positions(parse: Parse, vocab: Vocabulary) -> list[int]:
    return [p for p, i in parse.concepts if (vocab.concepts[i].get("set") or {}).get("segmentation.exclude_border")]


def _edge_of_cut_objects(parse: Parse, vocab: Vocabulary, pos: int) -> bool:
    """'chopped off by the left edge ... only nuclei fully in view': a region word right before the border phrase
    says where the cut objects are, when another border phrase of the request, with no region word before it, asks
    for the complete objects ("only the complete ones"): the plan drops objects cut by any edge, which is that.
    A region word alone ("remove the nuclei at the left edge") stays reported."""
    toks = parse.tokens
    if toks[pos].stem not in vocab.illumination.get("regions", set()):
        return False
    borders = _border_positions(parse, vocab)
    k = pos + 1
    while k < len(toks) and toks[k].text in ("image", "picture", "frame", "field"):
        k += 1
    if not any(p <= k < p + parse.spans.get(p, 1) for p in borders):
        return False
    qualified = {p for p in borders for q in parse.qualifiers if 0 < p - q <= 2}
    return any(p not in qualified and not (p <= k < p + parse.spans.get(p, 1)) for p in borders)


def _illumination_clauses(parse: Parse, vocab: Vocabulary, clause: list[int]) -> set[int]:
    """Clauses that compare the brightness of two image regions ("brighter on the right than on the left")
    and name no objects and no measurement: they describe uneven illumination, not a subset of objects."""
    words = vocab.illumination
    background = any((vocab.concepts[i].get("set") or {}).get("preprocessing.background") for _, i in parse.concepts)
    out = set()
    for c in {clause[p] for p in parse.qualifiers}:
        toks = [t for k, t in enumerate(parse.tokens) if clause[k] == c]
        stems = {t.stem for t in toks}
        concepts = [idx for p, idx in parse.concepts if clause[p] == c]
        texts = {t.text for t in toks}
        regions = len(stems & words.get("regions", set()))
        # "brighter on the right than on the left"; or, when the request corrects the background anyway, "the
        # image is darker on one side" (never with words for objects: "only the brighter ones on the left")
        compared = ("than" in texts and regions >= 2) or (regions >= 1 and background and not texts & _SUBSET_WORDS)
        if compared and stems & words.get("brightness", set()) and not any(
                vocab.concepts[i].get("object_nouns") or vocab.concepts[i].get("measure")
                or vocab.concepts[i].get("set") for i in concepts):
            out.add(c)
    return out


def negations(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, clause: list[int],
               contexts: list[tuple[int, str]], removal: set[int]) -> None:
    """A negation is never dropped: before a border or size filter it is the exclusion it says ("not the
    ones at the border", "not smaller than"); before any other concept of its clause it is reported."""
    for pos in parse.negations:
        word = parse.tokens[pos].text
        after = [(cpos, idx) for cpos, idx in parse.concepts if cpos > pos and clause[cpos] == clause[pos]
                 and not vocab.concepts[idx].get("object_nouns")]  # "ignore objects smaller than": the filter
        channel = next((c for cp, c in parse.channels if cp > pos and clause[cp] == clause[pos] and cp - pos <= 4
                        and (not after or cp < after[0][0])), None)
        if channel is not None:  # "ignoring the first channel", "except those in channel 2": never a reference
            plan.not_understood.append(f"{word} (a negation before channel {channel + 1})")
            continue
        if not after or after[0][0] - pos > 6:
            plan.understood.append(f"'{word}' -> negates nothing in the plan")
            continue
        cpos, idx = after[0]
        concept = vocab.concepts[idx]
        counts = [p for p, c in parse.concepts if vocab.concepts[c].get("measure") == "count"]
        filters_before = [c for p, c in parse.concepts if clause[p] == clause[pos] and (
            p < pos or len(counts) > 1) and (
            (vocab.concepts[c].get("set") or {}).get("segmentation.exclude_border")
            or vocab.concepts[c].get("context") in SIZE_CONTEXTS)]
        if (concept.get("set") or {}).get("segmentation.exclude_border") or \
                concept.get("context") in ("remove", *SIZE_CONTEXTS) or \
                (concept.get("measure") == "count" and filters_before):  # "objects at the edge should not be counted",
            # "don't count nuclei that touch the edge - how many are left?" (a filter after needs a second count)
            contexts.append((pos, "remove"))
            removal.add(clause[pos])
            plan.understood.append(f"'{word}' -> exclusion")
        else:
            plan.not_understood.append(f"{word} (a negation before '{phrase_of(parse, cpos)}')")


def ambiguous_channel(plan: AnalysisPlan, parse: Parse, clause: list[int], roles: list[tuple[int, str]],
                       kinds: dict[str, int]) -> None:
    """'the brightest value inside each nucleus in the second channel' on a multi-channel image: one
    channel named after both the objects and the intensity; it may be either's. Reported, not guessed."""
    if plan.meta.channels < 2 or len(parse.channels) != 1 or not {"intensity", "positivity"} & set(kinds):
        return
    pos, channel = parse.channels[0]
    near: dict[str, int] = {}
    for rpos, role in roles:
        if rpos < pos and clause[rpos] == clause[pos] and pos - rpos <= 12:
            near[role] = min(near.get(role, 99), pos - rpos)
    # intensity: any objects word before it makes it ambiguous; a marker: when the objects word is nearest
    # but the marker word is close behind ("marker-negative nuclei (channel 2)"), not "positive for channel 2"
    if ("intensity" in kinds and "objects" in near and "intensity" in near) or (
            "positivity" in kinds and "objects" in near and "marker" in near
            and near["objects"] < near["marker"] <= near["objects"] + 3):
        plan.not_understood.append(f"channel {channel + 1} (the objects' channel or the measured one? name both, "
                                   "e.g. 'nuclei in channel 1, intensity of channel 2')")


def background_as_region(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary) -> None:
    """'the mean intensity of the background': the background as what is measured, not a step to run."""
    toks = parse.tokens
    intensity = {f"concept:{i}" for i, c in enumerate(vocab.concepts) if c.get("measure") == "intensity"}
    for pos, idx in parse.concepts:
        if not (vocab.concepts[idx].get("set") or {}).get("preprocessing.background") or \
                phrase_of(parse, pos) != "background":  # "background correction" / "-corrected" is the step
            continue
        k = pos - 1
        while k >= 0 and toks[k].text in ("of", "the", "in", "within", "inside"):
            k -= 1
        after = toks[pos + len(phrase_of(parse, pos).split())] if pos + len(phrase_of(parse, pos).split()) < len(
            toks) else None
        if (k >= 0 and k < pos - 1 and toks[k].used in intensity) or (after is not None and after.used in intensity):
            plan.not_understood.append(f"{phrase_of(parse, pos)} (its intensity as a result is not in the plan)")


def nearest(pos: int, candidates: list[tuple[int, str]], clause: list[int], window: int = 6,
             end: int | None = None) -> str | None:
    """The candidate label nearest to the span ``pos..end`` in the same clause (left wins ties)."""
    best: tuple[float, str] | None = None
    end = pos if end is None or end < pos else end
    for cpos, label in candidates:
        if clause[cpos] != clause[pos]:
            continue
        dist = (pos - cpos) if cpos <= pos else (cpos - end) + 0.5
        if dist > window:
            continue
        if best is None or dist < best[0]:
            best = (dist, label)
    return best[1] if best else None


def of_role(parse: Parse, pos: int, roles: list[tuple[int, str]]) -> str | None:
    """The role of the word a channel mention is 'of' ("the intensity of the GFP channel", "the mean of ch2"):
    'of' ties the channel to the word before it, whatever stands nearer after it."""
    toks = parse.tokens
    k = pos - 1
    while k >= 0 and toks[k].text in ("the", "a", "an"):
        k -= 1
    if k < 1 or toks[k].text != "of":
        return None
    if toks[k - 1].text in ("and", "or", ",", "&"):  # "the intensity of channel 1 and of channel 2": the same role
        prev = [cp for cp, _ in parse.channels if cp < k - 1 and k - 1 - cp <= 3]
        return of_role(parse, prev[-1], roles) if prev else None
    return next((role for rpos, role in roles if rpos <= k - 1 < rpos + parse.spans.get(rpos, 1)), None)


def groupings(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary) -> None:
    """'in each well', 'per condition', 'for every field': results per group are not in the plan (it gives one
    result set for the image), so the group is reported instead of being read as the whole image."""
    toks = parse.tokens
    for i, tok in enumerate(toks):
        if tok.text not in ("each", "every", "per"):
            continue
        k = i + 1
        while k < len(toks) and toks[k].text in ("of", "the", "single", "individual", "separate"):
            k += 1
        if k < len(toks) and toks[k].stem in vocab.groupings:
            plan.not_understood.append(f"{tok.text} {toks[k].text} (results per {toks[k].text}: not in the plan)")


def subsets_and_image_level(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary) -> None:
    """Two readings the plan cannot give, reported instead of answered with all objects:
    a shape word right before the objects ("the round nuclei", "elongated cells": a subset by shape), and
    an intensity of the whole image ("the total intensity of the image": no objects at all)."""
    toks = parse.tokens
    texts = [t.text for t in toks]
    concept_at = {p: idx for p, idx in parse.concepts}
    objects = any(vocab.concepts[idx].get("role") == "objects" for idx in concept_at.values())
    for pos, idx in parse.concepts:
        measure = vocab.concepts[idx].get("measure")
        end = pos + parse.spans.get(pos, 1)
        before_objects = end < len(toks) and vocab.concepts[concept_at.get(end, idx)].get("object_nouns") \
            and end in concept_at
        if measure == "shape" and (before_objects or follows(texts, pos, "restrictive")):  # "only the round ones"
            plan.not_understood.append(f"{phrase_of(parse, pos)} (a subset of the objects by shape: not in the plan)")
        if measure == "intensity" and not objects and plan.outputs.figure != "histogram":  # (a pixel histogram is fine)
            k = end
            while k < len(toks) and toks[k].text in ("of", "in", "across", "over", "the", "this", "my", "whole",
                                                     "entire", "full"):
                k += 1
            if k > end and k < len(toks) and toks[k].text in ("image", "picture", "field", "stack", "frame", "photo",
                                                               "fov", "view"):
                plan.not_understood.append(f"{phrase_of(parse, pos)} of the {toks[k].text} (an intensity of the whole "
                                           "image, without objects, is not in the plan)")
            near = [t.text for t in toks[end: end + 4]]
            pixel = next((i for i, w in enumerate(near) if w in ("pixel", "pixels", "voxel", "voxels")), None)
            if pixel is not None and any(w in ("each", "every", "per", "individual", "all") for w in near[:pixel]):
                plan.not_understood.append(f"{phrase_of(parse, pos)} {' '.join(near[:pixel + 1])} (values per "
                                           "pixel, without objects, are not in the plan)")
