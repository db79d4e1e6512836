"""Structural planner rules added after the seen held-out sets v10/v11 and dev v18/v19 (issue 15, dev set v30).

Used by :func:`scopebot.code.plan_rules.assemble`: statistics of a per-object column besides its mean ("the total
area", "the median distance", "the total distance travelled"), a statistic restated in parentheses, "how many
pixels away" as the unit of a distance, "its nearest ch2 dot" as a distance to another channel, and a nuclear
stain next to a word that only says what a channel holds. Nothing here guesses: what does not fit is reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.plan import SUMMARISED_KINDS, SUMMARY_PREFIX, Measurement
from scopebot.code.plan_words import phrase_of_span

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan
    from scopebot.code.planner import Parse, Vocabulary


def column_stats(plan: AnalysisPlan, parse: Parse) -> None:
    """'the total area', 'the median nearest-neighbour distance', 'the total distance travelled': a statistic of a
    per-object column the plan measures becomes a summary next to the mean. A statistic of a quantity the plan does
    not measure (its word was taken by another step) is reported, never dropped."""
    kinds = plan.kinds()
    for kind in ("shape", "skeleton_length"):  # the blocks measure these on 2-D labels: a projection is no answer
        if kind in kinds and plan.is_3d:
            plan.not_understood.append(f"{kind.replace('_', ' ')} of 3-D objects (in the plan only in 2-D: ask for a "
                                       "max projection first)")
    if "coverage" in kinds and plan.is_3d:
        plan.not_understood.append("the covered share of a 3-D stack (in the plan only for 2-D images or projections)")
    if "skeleton_length" in kinds and plan.segmentation is not None and plan.segmentation.split_touching:
        # a seeded watershed cuts thin filaments into many pieces: 'separate the fibres' has no safe meaning here
        plan.not_understood.append("splitting touching objects before measuring skeleton lengths (not in the plan: "
                                   "the split cuts filaments into pieces)")
    for pos, stat, measure in parse.column_stats:
        if measure == "coverage" and stat == "sum":  # "the total area covered by nuclei": the areas' sum too
            size = next((m for m in plan.measurements if m.kind == "size"), None)
            if size is None:
                size = Measurement(kind="size")
                plan.measurements.append(size)
            measure = "size"
        kind = measure
        if "tracking" in kinds and measure in ("object_distance", "skeleton_length", "tracking"):
            kind = "tracking"  # "the total distance the particle travels": its path length
        elif measure == "object_distance" and "object_distance" not in kinds and "nn_distance" in kinds:
            kind = "nn_distance"
        target = next((m for m in plan.measurements if m.kind == kind), None)
        word = parse.tokens[pos].text
        if target is None or kind not in SUMMARISED_KINDS:
            plan.not_understood.append(f"{word} (a statistic of a quantity this plan does not measure)")
            continue
        if stat not in target.summaries:
            target.summaries.append(stat)  # type: ignore[arg-type]
        plan.understood.append(f"'{word}' -> {SUMMARY_PREFIX[stat]} of the {kind.replace('_', ' ')} column "
                               "(besides the mean)")


def restated_statistics(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary) -> None:
    """'sum the ch2 signal in each nucleus (the total, not the average)': a statistic word standing alone in
    parentheses that repeats one the plan already gives (an intensity statistic or a column summary) restates it.
    Any other lone statistic stays reported ('the total intensity over all nuclei combined' is not per nucleus)."""
    given = {st for m in plan.measurements for st in (*(m.stats if m.kind == "intensity" else []), *m.summaries)}
    depth, inside = 0, []
    for tok in parse.tokens:  # only inside parentheses: "over all nuclei combined" is a sum over the objects
        depth += (tok.text == "(") - (tok.text == ")")
        inside.append(depth > 0)
    for k, tok in enumerate(parse.tokens):
        stat = vocab.statistics.get(tok.stem)
        if not tok.used and stat is not None and stat in given and inside[k]:
            tok.used = "restated"
            plan.understood.append(f"'{tok.text}' -> restates the {stat} the plan already gives")


def how_many_units(parse: Parse, vocab: Vocabulary, kinds: dict[str, int], clause: list[int]) -> None:
    """'how many pixels away is each dot from its nearest partner': 'how many' right before a distance, or before a
    length unit in a clause that asks for a distance, asks for that distance in a unit, not for a count of objects
    (a count asked anywhere else stays)."""
    distance = ("nn_distance", "object_distance")
    counts = [p for p, i in parse.concepts if vocab.concepts[i].get("measure") == "count"]
    starts = {p: vocab.concepts[i].get("measure") for p, i in parse.concepts}
    distance_clauses = {clause[p] for p, m in starts.items() if m in distance}

    def unit_question(p: int) -> bool:
        nxt = p + parse.spans.get(p, 1)
        if starts.get(nxt) in distance:
            return True
        unit = vocab.units.get(parse.tokens[nxt].text) if nxt < len(parse.tokens) else None
        return bool(unit) and unit.get("dim") in ("px", "length") and clause[p] in distance_clauses

    if counts and all(unit_question(p) for p in counts):
        kinds.pop("count", None)


def nearest_of_another_channel(parse: Parse, vocab: Vocabulary) -> bool:
    """'from its nearest ch2 dot', 'the closest GFP spot': a nearest-neighbour word right before a channel mention,
    with two channels named, asks for the distance to that channel's objects."""
    if len({c for _, c in parse.channels}) < 2:
        return False
    near = [p for p, i in parse.concepts if vocab.concepts[i].get("measure") == "nn_distance"
            and parse.tokens[p].text in ("nearest", "closest")]
    return any(0 < cp - p <= 2 for p in near for cp, _ in parse.channels)


def stain_roles_in_descriptions(parse: Parse, vocab: Vocabulary, clause: list[int],
                                 roles: list[tuple[int, str]]) -> None:
    """'an mCherry reporter and counterstained with Hoechst': a stain with a role of its own (a nuclear stain holds
    the objects) keeps it when the nearest role word only says what a channel holds ('reporter', 'dye'), not
    what is measured; next to a measurement word ('the Hoechst intensity') the measurement decides, as before."""
    holding = {p for p, i in parse.concepts if "role" in vocab.concepts[i] and "measure" not in vocab.concepts[i]}
    for pos, _ in parse.channels:
        role = vocab.stain_roles.get(parse.tokens[pos].text.lower())
        if role is None or pos in parse.channel_roles:
            continue
        near = [(abs(pos - rp), rp) for rp, _ in roles if clause[rp] == clause[pos] and abs(pos - rp) <= 10]
        if near and min(near)[1] in holding:
            parse.channel_roles[pos] = role


#: Words that put a measurement inside objects ("inside the nuclei", "within each cell").
_INSIDE = {"inside", "within", "in"}


def colocalisation_inside_objects(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, clause: list[int]) -> None:
    """'Pearson between ch1 and ch2 inside the nuclei': the plan's colocalisation is over the whole image, so a
    request for it inside objects is reported, never answered with the whole-image coefficients."""
    if "colocalisation" not in plan.kinds():
        return
    coloc = {clause[p] for p, i in parse.concepts if vocab.concepts[i].get("measure") == "colocalisation"}
    toks = parse.tokens
    for pos, idx in parse.concepts:
        if not vocab.concepts[idx].get("object_nouns") or clause[pos] not in coloc:
            continue
        k = pos - 1
        while k >= 0 and toks[k].text in ("the", "each", "every", "all", "a", "individual", "single", "my"):
            k -= 1
        if k >= 0 and toks[k].text in _INSIDE:
            plan.not_understood.append(f"{toks[k].text} {' '.join(t.text for t in toks[k + 1:pos + 1])} "
                                       "(colocalisation inside objects: the plan measures it over the whole image)")


def intensity_of_a_subset(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, clause: list[int]) -> None:
    """'the mean ch2 intensity of the positive ones': the plan's intensity summary is over all objects, so an
    intensity of the positive (or negative) objects only is reported, never answered with all of them."""
    if not {"intensity", "positivity"} <= plan.kinds():
        return
    toks = parse.tokens
    intensity = [p for p, i in parse.concepts if vocab.concepts[i].get("measure") == "intensity"]
    for pos, idx in parse.concepts:
        if vocab.concepts[idx].get("measure") != "positivity":
            continue
        k = pos - 1
        while k >= 0 and toks[k].text in ("the", "those", "all", "only"):
            k -= 1
        if k >= 0 and toks[k].text in ("of", "for", "in", "among", "within") and any(
                p < pos and clause[p] == clause[pos] for p in intensity):
            plan.not_understood.append(f"{toks[k].text} the {toks[pos].text} ones (an intensity of a subset of the "
                                       "objects: the plan gives it for all of them)")


#: Words before an object noun that make it the container of a count ("spots per nucleus", "foci in each cell").
_PER = {"per", "each", "every"}


def objects_inside_objects(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, clause: list[int],
                           kinds: dict[str, int]) -> None:
    """'nuclei in channel 1, spots in channel 2: how many spots per nucleus': a count of one kind of object per
    object of another kind, each kind with its own channel, counts the inner objects inside each container.
    Applied only when both object nouns have a channel of their own next to them; otherwise the two kinds stay
    reported as before."""
    if "count" not in kinds or set(kinds) - {"count", "size"} or len({c for _, c in parse.channels}) != 2:
        return
    toks = parse.tokens
    nouns = [(p, parse.spans.get(p, 1)) for p, i in parse.concepts if vocab.concepts[i].get("object_nouns")
             and " ".join(t.stem for t in toks[p:p + parse.spans.get(p, 1)]) not in vocab.generic_objects]

    def channel_of(pos: int, span: int) -> int | None:
        near = [(abs(cp - pos), c) for cp, c in parse.channels if clause[cp] == clause[pos]
                and (0 < cp - (pos + span - 1) <= 4 or 0 < pos - cp <= 2)]
        return min(near)[1] if near else None

    def container(pos: int) -> bool:
        k = pos - 1
        while k >= 0 and toks[k].text in ("the", "a", "single", "individual", "("):
            k -= 1
        return k >= 0 and toks[k].text in _PER

    kind_of = {p: vocab.object_kinds.get(" ".join(t.stem for t in toks[p:p + n]), toks[p].stem) for p, n in nouns}
    channels: dict[str, int] = {}
    for p, n in nouns:  # every mention of a kind that has a channel next to it
        c = channel_of(p, n)
        if c is not None and channels.setdefault(kind_of[p], c) != c:
            return  # one kind named with two channels: not guessed
    parents = {kind_of[p] for p, _ in nouns if container(p)}
    if len(channels) != 2 or len(set(channels.values())) != 2 or len(parents) != 1:
        return
    parent = next(iter(parents))
    if parent not in channels:
        return
    child = next(k for k in channels if k != parent)
    plan.inputs.channel = channels[parent]
    plan.measurements = [m for m in plan.measurements if m.kind in ("count", "size")]
    plan.measurements.append(Measurement(kind="objects_inside", channel=channels[child]))
    kinds["objects_inside"] = max(kinds.values()) + 1
    plan.understood.append(f"'{child}' per '{parent}' -> objects of channel {channels[child] + 1} inside each object "
                           f"of channel {channels[parent] + 1}")


def durations(plan: AnalysisPlan, parse: Parse) -> None:
    """'how long is each track in frames', 'in seconds': a track's length asked in a time unit is its duration,
    which the plan does not give (it gives path lengths and speeds), so it is reported."""
    if "tracking" not in plan.kinds():
        return
    toks = parse.tokens
    for k in range(len(toks) - 1):
        unit = toks[k + 1].text
        after = toks[k + 2].text if k + 2 < len(toks) else ""
        if toks[k].text == "in" and unit in ("frames", "seconds", "minutes", "secs", "mins", "hours") and \
                after not in ("per", "/", "a", "each"):
            plan.not_understood.append(f"in {unit} (a duration of the tracks is not in the plan)")


def merge_problem_clauses(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, clause: list[int]) -> set[int]:
    """'so a normal threshold just gives me big blobs': when the plan splits touching objects, a clause about the
    threshold with no measurement and no number describes the problem the split solves; its object words ('blobs')
    and size words ('big') are part of that description, not a second kind of object or a size limit."""
    if plan.segmentation is None or not plan.segmentation.split_touching:
        return set()
    out = set()
    for c in {clause[p] for p, i in parse.concepts if vocab.concepts[i].get("context") == "threshold"}:
        here = [i for p, i in parse.concepts if clause[p] == c]
        if not any("measure" in vocab.concepts[i] or vocab.concepts[i].get("set") for i in here) and not any(
                clause[q.pos] == c for q in parse.quantities):
            out.add(c)
    return out


def pixel_counts(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary, kinds: dict[str, int], clause: list[int]) -> None:
    """'the total number of voxels of all nuclei', 'how many pixels does each nucleus have': a count of pixels or
    voxels is the objects' size in px (the total: the sum of the sizes), not a count of objects."""
    toks = parse.tokens
    for pos, idx in parse.concepts:
        if vocab.concepts[idx].get("measure") != "count":
            continue
        k = pos + parse.spans.get(pos, 1)
        while k < len(toks) and toks[k].text in ("of", "the"):
            k += 1
        unit = vocab.units.get(toks[k].text) if k < len(toks) else None
        if not unit or unit.get("dim") != "px" or any(
                vocab.concepts[i].get("measure") in ("nn_distance", "object_distance") and clause[p] == clause[pos]
                for p, i in parse.concepts):
            continue
        compared = [j for j in range(k + 1, min(len(toks), k + 4)) if clause[j] == clause[pos]
                    and (toks[j].used or "").startswith("concept:") and vocab.concepts[int(toks[j].used.split(":")[1])]
                    .get("context") in ("greater", "less", "greater_prep", "less_prep", "threshold_cmp", "min", "max")]
        if compared:  # "the number of pixels above 500", "how many pixels are brighter than 300"
            plan.not_understood.append(f"{phrase_of_span(parse, pos, compared[0] + 1 - pos)} (a count of pixels by "
                                       "their value is not in the plan)")
            continue
        kinds.pop("count", None)
        kinds.setdefault("size", pos)
        plan.units = "px"
        total = [j for j in range(pos, pos + parse.spans.get(pos, 1)) if vocab.statistics.get(toks[j].stem) == "sum"]
        if total:
            parse.column_stats.append((total[0], "sum", "size"))
        plan.understood.append(f"'{phrase_of_span(parse, pos, k + 1 - pos)}' -> the size in px"
                               + (" (the total of all objects)" if total else ""))


def share_of_an_area(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary) -> None:
    """'the percentage of the nuclei area that is positive': a share of an area, not of the objects; the plan's
    positivity counts objects, so it is reported."""
    if "positivity" not in plan.kinds():
        return
    shares = [p for p, i in parse.concepts if vocab.concepts[i].get("needs") == "positivity"]
    sizes = [p for p, i in parse.concepts if vocab.concepts[i].get("measure") == "size"]
    for p in shares:
        hit = next((q for q in sizes if 0 < q - p <= 4), None)
        if hit is not None:
            plan.not_understood.append(f"{phrase_of_span(parse, p, hit + 1 - p)} (a share of an area: the plan's "
                                       "positivity is a share of the objects)")
