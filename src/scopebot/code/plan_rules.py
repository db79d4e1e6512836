"""From a parsed request to a consistent :class:`AnalysisPlan` (used by :class:`~scopebot.code.planner.Planner`).

The rules here are structural, not tuned to phrasings: a number takes its meaning from the
nearest vocabulary context in its clause; a channel mention belongs to the nearest concept with
a role; measurements that need an input nobody gave are listed in ``plan.missing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.channel_mentions import defined_roles, names_a_label
from scopebot.code.colocalisation import compared_channels, whole_image_scope
from scopebot.code.object_names import copula_aliases, described_objects, path_objects, sample_modifier
from scopebot.code.plan import AnalysisPlan, ImageMeta, Measurement
from scopebot.code.plan_numbers import numbers, unused_contexts
from scopebot.code.plan_positivity import above_in_channel, share_above_threshold
from scopebot.code.plan_structure import (
    colocalisation_inside_objects,
    column_stats,
    durations,
    how_many_units,
    intensity_of_a_subset,
    merge_problem_clauses,
    nearest_of_another_channel,
    objects_inside_objects,
    pixel_counts,
    restated_statistics,
    share_of_an_area,
    stain_roles_in_descriptions,
)
from scopebot.code.plan_words import (
    ambiguous_channel,
    background_as_region,
    clause_numbers,
    groupings,
    nearest,
    negations,
    of_role,
    phrase_of,
    phrase_of_span,
    qualifiers,
    subsets_and_image_level,
)

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

_ROLE_OF_KIND = {"intensity": "intensity", "object_distance": "partner", "colocalisation": "partner",
                 "positivity": "marker"}


def _set(plan: AnalysisPlan, dotted: str, value: object) -> None:
    target: object = plan
    *path, last = dotted.split(".")
    for part in path:
        target = getattr(target, part)
    setattr(target, last, value)


def assemble(parse: Parse, vocab: Vocabulary, meta: ImageMeta) -> AnalysisPlan:
    plan = AnalysisPlan(meta=meta.model_copy(deep=True))
    clause = clause_numbers(parse)
    kinds: dict[str, int] = {}
    contexts: list[tuple[int, str]] = []
    roles: list[tuple[int, str]] = []
    removal_clauses = set()
    stats: list[str] = [stat for _, stat in parse.stats]
    kinds_of_objects: dict[str, str] = {}
    kind_positions: dict[str, list[int]] = {}
    participles: list[int] = []
    for pos, idx in parse.concepts:
        concept = vocab.concepts[idx]
        phrase = phrase_of(parse, pos)
        fields = []
        if concept.get("stat"):
            stats.append(str(concept["stat"]))
            fields.append(f"statistic {concept['stat']}")
        if concept.get("unsupported") and names_a_label(parse, pos):  # "a membrane marker": what the label marks
            plan.understood.append(f"'{phrase}' -> what a label marks (a description)")
        elif concept.get("unsupported"):
            plan.not_understood.append(f"{phrase} (not in the plan)")
        if concept.get("object_nouns"):
            n = parse.spans.get(pos, len(phrase.split()))
            key = " ".join(t.stem for t in parse.tokens[pos:pos + n])
            modifier = pos + n < len(parse.tokens) and parse.tokens[pos + n].used == parse.tokens[pos].used
            if modifier and parse.tokens[pos + n - 1].text.endswith("ed"):
                participles.append(pos)  # "the clustered cells": how the objects look, not a second kind
            elif modifier and sample_modifier(parse, vocab, pos):  # "organoid cells": the head noun's kind
                plan.understood.append(f"'{parse.tokens[pos].text}' -> the sample the objects come from")
            elif modifier:  # "nuclear foci": a second kind, as before (foci inside nuclei are not in the plan)
                key = " ".join(t.stem for t in parse.tokens[pos:pos + len(phrase.split())])
                kinds_of_objects.setdefault(vocab.object_kinds.get(key, key), phrase)
                kind_positions.setdefault(vocab.object_kinds.get(key, key), []).append(pos)
            elif key not in vocab.generic_objects:
                kinds_of_objects.setdefault(vocab.object_kinds.get(key, key), phrase_of_span(parse, pos, n))
                kind_positions.setdefault(vocab.object_kinds.get(key, key), []).append(pos)
        for dotted, value in (concept.get("set") or {}).items():
            _set(plan, dotted, value)
            fields.append(f"{dotted}={value}")
        if "measure" in concept:
            kinds.setdefault(concept["measure"], pos)
            fields.append(f"measure {concept['measure']}")
        if "context" in concept:
            contexts.append((pos, concept["context"]))
            span_end = pos + len(phrase.split()) - 1
            if span_end > pos:  # a multi-word context ("pixel size") also counts from its last word
                contexts.append((span_end, concept["context"]))
            if concept["context"] == "remove":
                removal_clauses.add(clause[pos])
        if "role" in concept:
            roles.append((pos, concept["role"]))
        plan.understood.append(f"'{phrase}' -> " + (", ".join(fields) or f"context {concept.get('context')}"
                                                     if fields or "context" in concept
                                                     else f"'{phrase}' -> {concept.get('role', 'noted')}"))
    how_many_units(parse, vocab, kinds, clause)
    pixel_counts(plan, parse, vocab, kinds, clause)
    for pos, idx in parse.concepts:  # "pixels away", "microns apart": the unit of the distance
        dims = {(vocab.units.get(t.text) or {}).get("dim") for t in parse.tokens[pos:pos + parse.spans.get(pos, 1)]}
        if vocab.concepts[idx].get("measure") in ("nn_distance", "object_distance") and dims & {"px", "length"}:
            plan.units = "px" if "px" in dims else "physical"
            plan.understood.append(f"'{phrase_of(parse, pos)}' -> results in {'px' if 'px' in dims else 'um'}")
    # "nearest neighbour" wins over a bare "distance" unless a partner channel is named
    if "nn_distance" in kinds and "object_distance" in kinds and len(parse.channels) < 2:
        kinds.pop("object_distance")
        roles = [r for r in roles if not (r[1] == "partner" and "colocalisation" not in kinds)]
    if "nn_distance" in kinds and "object_distance" not in kinds and nearest_of_another_channel(parse, vocab):
        kinds["object_distance"] = kinds.pop("nn_distance")  # "each ch1 dot from its nearest ch2 dot"
        plan.understood.append("'nearest' + another channel -> distance to that channel's objects")
    if "object_distance" in kinds and len(parse.channels) >= 2:
        kinds.pop("nn_distance", None)
    if "tracking" in kinds:  # a tracking request's "distance"/"length" is its path length
        kinds.pop("object_distance", None)
        kinds.pop("skeleton_length", None)
        kinds.pop("nn_distance", None)
    share_above_threshold(parse, vocab, kinds)
    measures = [(pos, vocab.concepts[idx]["measure"]) for pos, idx in parse.concepts
                if "measure" in vocab.concepts[idx]]
    for cpos in above_in_channel(parse, vocab, kinds, clause):  # "how many nuclei are above 500 in channel 2"
        kinds["positivity"] = cpos
        measures.append((cpos, "positivity"))
        roles.append((cpos, "marker"))
    negations(plan, parse, vocab, clause, contexts, removal_clauses)
    preprocessing = qualifiers(plan, parse, vocab, clause)
    split_clauses = {clause[p] for p, i in parse.concepts
                     if (vocab.concepts[i].get("set") or {}).get("segmentation.split_touching")}
    for pos in participles:  # "declump the clustered cells" describes the touching; "the clustered cells" alone
        word = parse.tokens[pos].text  # may be a subset
        if clause[pos] in split_clauses:
            plan.understood.append(f"'{word}' -> describes the touching objects")
        else:
            plan.not_understood.append(f"{word} (a subset of the objects: not in the plan)")
    problem = merge_problem_clauses(plan, parse, vocab, clause)  # "a normal threshold just gives me big blobs"
    preprocessing |= problem
    for key in [k for k, positions in kind_positions.items() if all(clause[p] in problem for p in positions)]:
        if len(kinds_of_objects) > 1:
            plan.understood.append(f"'{kinds_of_objects.pop(key)}' -> what the threshold merges (the problem the "
                                   "split solves)")
    nouns = [(p, parse.spans.get(p, 1)) for p, i in parse.concepts if vocab.concepts[i].get("object_nouns")]
    for first, second in copula_aliases(parse, vocab, nouns).items():  # "the blobs are nuclei": one kind
        if first in kinds_of_objects and second in kinds_of_objects:
            plan.understood.append(f"'{kinds_of_objects.pop(first)}' are '{kinds_of_objects[second]}' -> one kind "
                                   "of objects")
    described = described_objects(parse, vocab, nouns, clause)  # "a stack of a spheroid": the sample shown
    sample_kinds = [k for k in kinds_of_objects if all(p in described for p in kind_positions.get(k, [-1]))]
    if len(sample_kinds) < len(kinds_of_objects):
        for key in sample_kinds:
            plan.understood.append(f"'{kinds_of_objects.pop(key)}' -> what the image shows (the sample)")
    if len(kinds_of_objects) > 1 and measures and all(kind == "tracking" for _, kind in measures):
        path = path_objects(parse, vocab, nouns)  # "a vesicle travels along the axon": where it moves
        for key in [k for k in kinds_of_objects if all(p in path for p in kind_positions.get(k, [-1]))]:
            plan.understood.append(f"'{kinds_of_objects.pop(key)}' -> where the tracked object moves (its path)")
    if len(kinds_of_objects) > 1 and len(parse.channels) < 2:
        plan.not_understood.append(" and ".join(kinds_of_objects.values()) + " (two kinds of objects: "
                                   "measuring one inside the other is not in the plan)")
    for word in parse.unresolved_stains:
        plan.missing.append(f"which channel is {word} (say e.g. '{word} is channel 2', or use an OME-TIFF "
                            "with channel names)")
    used_contexts = numbers(plan, parse, clause, contexts, removal_clauses, kinds, measures, roles)
    explicit_z = any("inputs.z" in (vocab.concepts[idx].get("set") or {}) for _, idx in parse.concepts)
    unused_contexts(plan, parse, clause, contexts, used_contexts, removal_clauses, kinds, explicit_z, preprocessing,
                    measures)
    role_clause = clause_numbers(parse, parentheses=False)
    stain_roles_in_descriptions(parse, vocab, role_clause, roles)
    defined_roles(parse, vocab)  # "channel two is the protein"
    _assign_channels(plan, parse, role_clause, roles, kinds)
    ambiguous_channel(plan, parse, role_clause, roles, kinds)
    objects_inside_objects(plan, parse, vocab, role_clause, kinds)
    for kind in sorted(kinds, key=kinds.get):
        if not any(m.kind == kind for m in plan.measurements):
            plan.measurements.append(Measurement(kind=kind))  # type: ignore[arg-type]
    column_stats(plan, parse)
    colocalisation_inside_objects(plan, parse, vocab, clause)
    whole_image_scope(plan, parse, vocab)
    intensity_of_a_subset(plan, parse, vocab, clause)
    durations(plan, parse)
    share_of_an_area(plan, parse, vocab)
    background_as_region(plan, parse, vocab)
    groupings(plan, parse, vocab)
    subsets_and_image_level(plan, parse, vocab)
    for p, stat in parse.stats:
        plan.understood.append(f"'{parse.tokens[p].text}' -> intensity statistic {stat}")
    for p in parse.other_stats:
        plan.not_understood.append(f"{parse.tokens[p].text} (only the mean of this quantity is in the plan)")
    if stats:
        targets = [m for m in plan.measurements if m.kind == "intensity"]
        if not targets:
            plan.not_understood.append(f"{', '.join(dict.fromkeys(stats))} (a statistic with no intensity "
                                       "measurement in the plan)")
        for target in targets:
            target.stats = list(dict.fromkeys(stats))  # type: ignore[assignment]
    _defaults(plan, bool(roles) or bool(parse.concepts))
    if plan.meta.t > 1 and plan.inputs.time != "all" and not parse.frame_named and plan.segmentation is not None:
        # a time-lapse measured on one frame nobody chose would answer about one picture, not the movie
        plan.missing.append(f"which time point (the image has {plan.meta.t}): say e.g. 'in frame 1', or 'in "
                            "each frame' for a count per frame")
    if plan.inputs.time == "all" and parse.frame_named:  # "track the spots between frame 2 and frame 6"
        plan.not_understood.append("the frame numbers (a range of frames is not in the plan: every frame is used)")
    for pos, idx in parse.concepts:
        need = vocab.concepts[idx].get("needs")
        two_used = len({plan.inputs.channel} | {m.channel for m in plan.measurements if m.channel is not None}) > 1
        if need == "colocalisation" and two_used and not any(
                "measure" in vocab.concepts[i] for p, i in parse.concepts if clause[p] == clause[pos]):
            # "both channels are in the file": a description of the data; the plan does use both channels
            plan.understood.append(f"'{phrase_of(parse, pos)}' -> describes the data (the plan uses two channels)")
        elif need == "positivity" and "coverage" in plan.kinds() and "positivity" not in plan.kinds() and (any(
                vocab.concepts[i].get("measure") == "coverage" and clause[p] == clause[pos] for p, i in parse.concepts)
                or not any(p != pos and clause[p] == clause[pos] for p, _ in parse.concepts)):  # ", in percent?"
            plan.understood.append(f"'{phrase_of(parse, pos)}' -> the covered share in percent")  # "in percent"
        elif need and need not in plan.kinds():
            plan.not_understood.append(f"{phrase_of(parse, pos)} (only with {need} in this plan)")
    plan.understood += [f"'{typed}' -> read as '{word}' (spelling)" for typed, word in parse.corrections]
    plan.understood += [f"'{t.text}' -> where a molecule moves in the cell (a description, not tracking)"
                        for t in parse.tokens if t.used == "translocation"]
    restated_statistics(plan, parse, vocab)
    plan.not_understood = [t.text for t in parse.tokens if not t.used] + plan.not_understood
    used = {plan.inputs.channel} | {m.channel for m in plan.measurements if m.channel is not None}
    for _, channel in parse.channels:
        if channel not in used:  # named but not used by any step: say so instead of measuring something else
            plan.not_understood.append(f"channel {channel + 1} (which step it belongs to)")
    return plan


def _distance_direction(parse: Parse, clause: list[int]) -> dict[int, str]:
    """For distances between two channels' objects: which channel is the partner ("nearest X",
    "closest X", else "to X") and which the objects measured from; every mention of a channel gets its
    channel's role ("... ch1 and ch2 ... each ch1 dot from its nearest ch2 dot"). Empty when it cannot tell."""
    channels = {c for _, c in parse.channels}
    if len(channels) != 2 or len({p for p, _ in parse.channels}) < 2:
        return {}  # "channels 1 and 2": one phrase, no direction in it
    marks: dict[int, int] = {}
    for pos, channel in parse.channels:
        before = [t.text for k, t in enumerate(parse.tokens[max(0, pos - 6):pos], start=max(0, pos - 6))
                  if clause[k] == clause[pos]]
        mark = 2 if {"nearest", "closest"} & set(before[-3:] if len(parse.channels) > 2 else before) else (
            1 if "to" in before else 0)
        marks[channel] = max(marks.get(channel, 0), mark)
    (a, ma), (b, mb) = sorted(marks.items())
    if ma == mb:
        return {}
    partner = a if ma > mb else b
    return {pos: "partner" if channel == partner else "objects" for pos, channel in parse.channels}


def _assign_channels(plan: AnalysisPlan, parse: Parse, clause: list[int], roles: list[tuple[int, str]],
                     kinds: dict[str, int]) -> None:
    found: dict[str, list[int]] = {}
    directed = _distance_direction(parse, clause) if "object_distance" in kinds else {}
    two_channel = {"positivity", "object_distance", "colocalisation", "intensity"} & set(kinds)
    mentions = [(pos, channel, directed.get(pos) or parse.channel_roles.get(pos) or of_role(parse, pos, roles)
                 or nearest(pos, roles, clause, window=10)) for pos, channel in parse.channels]
    compared = compared_channels(parse, kinds, mentions)  # "Pearson between the two channels"
    mentions = [(pos, channel, role or compared.get(pos)) for pos, channel, role in mentions]
    with_role = {channel for _, channel, role in mentions if role is not None}
    for _, channel, role in mentions:
        if role is None and two_channel and channel in with_role:  # "DAPI and GFP. For each DAPI nucleus ..."
            plan.understood.append(f"channel {channel + 1} -> listed (its role is given elsewhere)")
            continue
        if role is None and two_channel:  # "...express the marker; use channel 2": whose channel is it?
            plan.not_understood.append(f"channel {channel + 1} (no word next to it says which step it is for)")
        role = role or "objects"
        if channel in found.get(role, []):  # "... in the second. ... the mean ch2 intensity": one channel, twice
            continue
        found.setdefault(role, []).append(channel)
        plan.understood.append(f"channel {channel + 1} -> {role}")
    if "marker" in found and "positivity" not in kinds and "intensity" in kinds:
        found.setdefault("intensity", []).extend(found.pop("marker"))  # "the average marker intensity"
    objects = found.get("objects", [])
    measured = [r for r in ("intensity", "partner", "marker") if r in found]
    if objects:
        plan.inputs.channel = objects[0]
        if len(objects) > 1 and not measured:  # "spots in channel 1 ... nuclei in channel 2"
            found["partner"] = objects[1:]
    for role in ("intensity", "partner", "marker"):
        chans = found.get(role, [])
        if role == "intensity" and len(chans) > 1 and objects and "intensity" in kinds:
            # "nuclei in channel 1: the mean intensity of channel 2 and of channel 3": one measurement per channel
            plan.measurements = [m for m in plan.measurements if m.kind != "intensity"]
            plan.measurements += [Measurement(kind="intensity", channel=c) for c in dict.fromkeys(chans)]
            plan.understood.append(f"channels {' and '.join(str(c + 1) for c in dict.fromkeys(chans))} -> intensity "
                                   "inside the objects, each")
            continue
        if len(chans) > 1 and role != "partner":  # "intensity of channels 1 and 2": one channel per measurement
            plan.not_understood.append(f"channels {' and '.join(str(c + 1) for c in chans)} (one {role} channel "
                                       "per plan; say which channel holds the objects)")
        if len(chans) > 1 and not objects:
            plan.inputs.channel = chans[0]
            chans = chans[1:]
        for kind, krole in _ROLE_OF_KIND.items():
            if krole == role and kind in kinds and chans:
                existing = next((m for m in plan.measurements if m.kind == kind), None)
                if existing:
                    existing.channel = chans[-1]
                else:
                    plan.measurements.append(Measurement(kind=kind, channel=chans[-1]))  # type: ignore[arg-type]
    if "intensity" in found and "intensity" not in kinds and "positivity" in kinds:
        m = next((m for m in plan.measurements if m.kind == "positivity"), None)
        if m is not None and m.channel is None:
            m.channel = found["intensity"][-1]


def _defaults(plan: AnalysisPlan, anything: bool) -> None:
    meta, kinds = plan.meta, plan.kinds()
    seg = plan.segmentation
    if plan.outputs.figure == "histogram" and plan.outputs.pixel_values:
        # "a histogram of the pixel intensities": of the image's pixels, not of per-object means
        plan.measurements = [m for m in plan.measurements if m.kind != "intensity"]
        plan.understood.append("histogram of pixel values -> the image's pixels, no objects needed")
    if not plan.measurements and anything and plan.outputs.figure != "histogram":
        plan.measurements = [Measurement(kind="count"), Measurement(kind="size")]
        plan.understood.append("segmentation only -> count and size (default)")
    if plan.outputs.per_frame and "tracking" in kinds:
        plan.outputs.per_frame = False  # "track ... over time": tracking already uses every frame
        if "count" in kinds:
            plan.not_understood.append("per-frame counts together with tracking (not in the plan)")
    elif plan.outputs.per_frame:
        other = sorted(kinds - {"count"})
        if other:
            plan.not_understood.append(f"per-frame {', '.join(other)} (only counts per frame are in the plan)")
        plan.measurements = [Measurement(kind="count")]
        plan.inputs.time = "all"
        if meta.t < 2:
            plan.missing.append("a time-lapse (the image has one time point)")
    if "tracking" in kinds:
        plan.inputs.time = "all"
        if meta.t < 2:
            plan.missing.append("a time-lapse (the image has one time point)")
    if plan.inputs.z == "3d" and meta.z < 2:
        plan.missing.append("a z-stack (the image has one plane)")
    if plan.inputs.z == "3d" and seg is not None:
        seg.min_size_px = max(seg.min_size_px, 20)
    for m in plan.measurements:
        if m.kind in ("positivity", "colocalisation", "object_distance") and m.channel is None:
            m.channel = 1 if plan.inputs.channel == 0 else 0
        if m.kind == "intensity" and m.channel is None:
            m.channel = plan.inputs.channel
        if m.channel is not None and m.channel >= meta.channels:
            plan.missing.append(f"channel {m.channel + 1} (the image has {meta.channels})")
    if plan.inputs.channel >= meta.channels:
        plan.missing.append(f"channel {plan.inputs.channel + 1} (the image has {meta.channels})")
    if plan.units == "physical" and meta.pixel_size_um is None:
        plan.missing.append("the pixel size (say e.g. '0.2 um/px')")
    if plan.units == "physical" and plan.inputs.z == "3d" and meta.z_step_um is None:
        plan.missing.append("the z step (say e.g. 'voxel 2.0 z, 0.5 y/x')")
    if "tracking" in kinds and plan.units == "physical" and meta.time_step_s is None:
        plan.missing.append("the time between frames (say e.g. '0.5 s/frame')")
    if plan.inputs.z != "3d" and meta.z > 1 and plan.inputs.z == "max":
        plan.understood.append(f"the image has {meta.z} planes -> max projection (choose 3-D to keep them)")
    columns = [p.name for p in plan.promised() if p.where == "column"]
    if plan.outputs.figure == "histogram" and columns:  # "a histogram of the areas": of the measured column
        plan.outputs.histogram_of = columns[0]
    if plan.outputs.figure == "histogram" and not plan.measurements:
        plan.segmentation = None
        plan.outputs.table = False
    plan.missing = list(dict.fromkeys(plan.missing))
