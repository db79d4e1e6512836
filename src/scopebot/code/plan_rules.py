"""From a parsed request to a consistent :class:`AnalysisPlan` (used by :class:`~scopebot.code.planner.Planner`).

The rules here are structural, not tuned to phrasings: a number takes its meaning from the
nearest vocabulary context in its clause; a channel mention belongs to the nearest concept with
a role; measurements that need an input nobody gave are listed in ``plan.missing``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.plan import AnalysisPlan, ImageMeta, Measurement
from scopebot.code.plan_words import (
    SIZE_CONTEXTS,
    ambiguous_channel,
    background_as_region,
    negations,
    phrase_of,
    qualifiers,
    role_clauses,
)

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

_BREAKS = {",", ";", ".", "?", "!", ":", "(", ")"}
#: Which contexts can give a meaning to a number of each kind (a length is never a frame index).
_SIZE_CTX = SIZE_CONTEXTS
_CONTEXT_DIMS = {
    "length": ("pixelsize", "pixel", "zstep", "radius"),
    "time": ("timestep", "frame"),
    "bare": ("threshold", "threshold_cmp", "sigma", "radius", "slice", "frame", "pixelsize", "zstep", "kernel",
             *_SIZE_CTX),
    "px": ("radius", "kernel", *_SIZE_CTX),
    "area_um": _SIZE_CTX,
}
_ROLE_OF_KIND = {"intensity": "intensity", "object_distance": "partner", "colocalisation": "partner",
                 "positivity": "marker"}


def _clauses(parse: Parse) -> list[int]:
    out, n = [], 0
    for tok in parse.tokens:
        if tok.text in _BREAKS:
            n += 1
        out.append(n)
    return out


def _set(plan: AnalysisPlan, dotted: str, value: object) -> None:
    target: object = plan
    *path, last = dotted.split(".")
    for part in path:
        target = getattr(target, part)
    setattr(target, last, value)


def _nearest(pos: int, candidates: list[tuple[int, str]], clause: list[int], window: int = 6,
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


def assemble(parse: Parse, vocab: Vocabulary, meta: ImageMeta) -> AnalysisPlan:
    plan = AnalysisPlan(meta=meta.model_copy(deep=True))
    clause = _clauses(parse)
    kinds: dict[str, int] = {}
    contexts: list[tuple[int, str]] = []
    roles: list[tuple[int, str]] = []
    removal_clauses = set()
    stats: list[str] = [stat for _, stat in parse.stats]
    kinds_of_objects: dict[str, str] = {}
    for pos, idx in parse.concepts:
        concept = vocab.concepts[idx]
        phrase = phrase_of(parse, pos)
        fields = []
        if concept.get("stat"):
            stats.append(str(concept["stat"]))
            fields.append(f"statistic {concept['stat']}")
        if concept.get("unsupported"):
            plan.not_understood.append(f"{phrase} (not in the plan)")
        if concept.get("object_nouns"):
            key = " ".join(t.stem for t in parse.tokens[pos:pos + len(phrase.split())])
            if key not in vocab.generic_objects:
                kinds_of_objects.setdefault(vocab.object_kinds.get(key, key), phrase)
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
    # "nearest neighbour" wins over a bare "distance" unless a partner channel is named
    if "nn_distance" in kinds and "object_distance" in kinds and len(parse.channels) < 2:
        kinds.pop("object_distance")
        roles = [r for r in roles if not (r[1] == "partner" and "colocalisation" not in kinds)]
    if "object_distance" in kinds and len(parse.channels) >= 2:
        kinds.pop("nn_distance", None)
    if "tracking" in kinds:  # a tracking request's "distance"/"length" is its path length
        kinds.pop("object_distance", None)
        kinds.pop("skeleton_length", None)
        kinds.pop("nn_distance", None)
    measures = [(pos, vocab.concepts[idx]["measure"]) for pos, idx in parse.concepts
                if "measure" in vocab.concepts[idx]]
    negations(plan, parse, vocab, clause, contexts, removal_clauses)
    preprocessing = qualifiers(plan, parse, vocab, clause)
    if len(kinds_of_objects) > 1 and len(parse.channels) < 2:
        plan.not_understood.append(" and ".join(kinds_of_objects.values()) + " (two kinds of objects: "
                                   "measuring one inside the other is not in the plan)")
    for word in parse.unresolved_stains:
        plan.missing.append(f"which channel is {word} (say e.g. '{word} is channel 2', or use an OME-TIFF "
                            "with channel names)")
    used_contexts = _numbers(plan, parse, clause, contexts, removal_clauses, kinds, measures, roles)
    explicit_z = any("inputs.z" in (vocab.concepts[idx].get("set") or {}) for _, idx in parse.concepts)
    _unused_contexts(plan, parse, clause, contexts, used_contexts, removal_clauses, kinds, explicit_z, preprocessing)
    _assign_channels(plan, parse, role_clauses(parse), roles, kinds)
    ambiguous_channel(plan, parse, role_clauses(parse), roles, kinds)
    for kind in sorted(kinds, key=kinds.get):
        if not any(m.kind == kind for m in plan.measurements):
            plan.measurements.append(Measurement(kind=kind))  # type: ignore[arg-type]
    background_as_region(plan, parse, vocab)
    for p, stat in parse.stats:
        plan.understood.append(f"'{parse.tokens[p].text}' -> intensity statistic {stat}")
    for p in parse.other_stats:
        plan.not_understood.append(f"{parse.tokens[p].text} (only the mean of this quantity is in the plan)")
    if stats:
        target = next((m for m in plan.measurements if m.kind == "intensity"), None)
        if target is None:
            plan.not_understood.append(f"{', '.join(dict.fromkeys(stats))} (a statistic with no intensity "
                                       "measurement in the plan)")
        else:
            target.stats = list(dict.fromkeys(stats))  # type: ignore[assignment]
    _defaults(plan, bool(roles) or bool(parse.concepts))
    for pos, idx in parse.concepts:
        need = vocab.concepts[idx].get("needs")
        if need and need not in plan.kinds():
            plan.not_understood.append(f"{phrase_of(parse, pos)} (only with {need} in this plan)")
    plan.not_understood = [t.text for t in parse.tokens if not t.used] + plan.not_understood
    used = {plan.inputs.channel} | {m.channel for m in plan.measurements if m.channel is not None}
    for _, channel in parse.channels:
        if channel not in used:  # named but not used by any step: say so instead of measuring something else
            plan.not_understood.append(f"channel {channel + 1} (which step it belongs to)")
    return plan


def _numbers(plan: AnalysisPlan, parse: Parse, clause: list[int], contexts: list[tuple[int, str]],
             removal: set[int], kinds: dict[str, int], measures: list[tuple[int, str]],
             roles: list[tuple[int, str]] | None = None) -> set[str]:
    toks = parse.tokens
    stated = plan.meta.stated
    in_voxel = any(t.stem == "voxel" for t in toks)
    used_labels: set[str] = set()
    z_numbers: list[float] = []
    # size limits in um^2 last: they need the pixel size, which may be stated after them
    for q in sorted(parse.quantities, key=lambda x: x.dim == "area_um"):
        fits = _CONTEXT_DIMS.get(q.dim, ())
        ctx = _nearest(q.pos, [c for c in contexts if c[1] in fits], clause, end=q.end)
        used_labels.add(f"{clause[q.pos]}:{ctx}")
        if ctx == "threshold_cmp":
            ctx = "threshold"  # "brighter than 500"
        if ctx == "kernel" and not (float(q.value).is_integer() and 1 <= q.value <= 15):
            toks[q.pos].used = None  # not a filter width: report it
            continue
        if q.dim == "bare" and (q.axis is not None or ctx in ("pixelsize", "zstep")):
            q.dim = "length"  # "voxel 2.0 z, 0.5 y/x", "pixel size 0.5": calibration in um
        if q.dim == "bare" and ctx in _SIZE_CTX and \
                _nearest(q.pos, measures, clause, window=8) in ("intensity", "positivity"):
            ctx = "threshold"  # "a mean intensity above 500": an intensity, not a size
        label = f"'{toks[q.pos].text}'"
        if q.dim == "length_per_px" or (q.dim == "length" and (q.axis == "xy" or ctx in ("pixelsize", "pixel"))):
            plan.meta.pixel_size_um = q.value
            stated.append("pixel_size_um")
        elif q.dim == "length" and (q.axis == "z" or ctx == "zstep"):
            plan.meta.z_step_um = q.value
            stated.append("z_step_um")
        elif q.dim == "length" and in_voxel and q.axis is None:
            z_numbers.append(q.value)
        elif q.dim == "time_per_frame" or (q.dim == "time" and ctx in ("timestep", "frame", None)):
            plan.meta.time_step_s = q.value
            stated.append("time_step_s")
        elif q.dim == "frames_per_time":
            plan.meta.time_step_s = 1.0 / q.value
            stated.append("time_step_s")
        elif q.dim == "bare" and ctx == "threshold":
            alone = not any(clause[p] == clause[q.pos] for p, _ in measures) and not any(
                clause[p] == clause[q.pos] and r == "objects" for p, r in roles or [])  # "Use a threshold of 500."
            if "positivity" in kinds and (alone or _nearest(q.pos, measures, clause, window=12) in ("positivity",
                                                                                                 "intensity")):
                plan.understood.append(f"{label} -> positivity threshold")
                _marker_threshold(plan, q.value)
                continue
            for_objects = any(clause[p] == clause[q.pos] and r == "objects" for p, r in roles or []) and not any(
                clause[p] == clause[q.pos] and m in ("positivity", "intensity") for p, m in measures)
            if "positivity" in kinds and not for_objects:  # "threshold channel 2 at 500 and count positive nuclei"
                plan.not_understood.append(f"{toks[q.pos].text} (a threshold for the segmentation or for the marker?)")
                continue
            plan.segmentation.method, plan.segmentation.threshold = "manual", q.value  # type: ignore[union-attr]
        elif q.dim in ("bare", "px") and ctx == "kernel":
            plan.preprocessing.denoise_size = int(q.value)
        elif q.dim == "bare" and ctx == "sigma":
            plan.preprocessing.smooth_sigma = q.value
        elif q.dim in ("bare", "px", "length") and ctx == "radius":
            plan.preprocessing.background_radius = q.value
        elif q.dim == "bare" and ctx == "slice":
            z_numbers.append(q.value)
            continue
        elif q.dim == "bare" and ctx == "frame":
            plan.inputs.time = max(0, int(q.value) - 1)
        elif q.dim in ("bare", "px", "area_um") and ctx in _SIZE_CTX:
            ctx = ctx.removesuffix("_prep")  # "under 80 px" compares like "less than"
            low = ctx == "min" or (ctx == "less" and clause[q.pos] in removal) or \
                (ctx == "greater" and clause[q.pos] not in removal)
            size = q.value
            if q.dim == "area_um":
                if plan.meta.pixel_size_um is None and not any(x.dim == "length_per_px" for x in parse.quantities):
                    plan.missing.append("pixel size (to convert a size limit in um^2 to pixels)")
                    continue
                px = plan.meta.pixel_size_um or next(x.value for x in parse.quantities if x.dim == "length_per_px")
                size = q.value / px ** 2
            if low:
                plan.segmentation.min_size_px = int(round(size))  # type: ignore[union-attr]
            else:
                plan.segmentation.max_size_px = int(round(size))  # type: ignore[union-attr]
        elif q.dim == "percent" or q.dim == "speed":
            pass  # "in %" / "in um/s": the unit asked for, not a parameter
        else:
            toks[q.pos].used = None  # a number the plan cannot place: report it
            continue
        plan.understood.append(f"{label} ({q.dim}) -> {ctx or q.axis or q.dim}")
    if z_numbers and in_voxel and plan.meta.z_step_um is None and len(z_numbers) >= 2:
        plan.meta.z_step_um, plan.meta.pixel_size_um = z_numbers[0], z_numbers[-1]  # "voxel 2 x 0.5 x 0.5 um"
        stated += ["z_step_um", "pixel_size_um"]
    elif z_numbers and not in_voxel:
        plan.inputs.z, plan.inputs.z_start = "range", max(0, int(z_numbers[0]) - 1)
        plan.inputs.z_stop = max(0, int(z_numbers[-1]) - 1)
    return used_labels


def _unused_contexts(plan: AnalysisPlan, parse: Parse, clause: list[int], contexts: list[tuple[int, str]],
                     used: set[str], removal: set[int], kinds: dict[str, int], explicit_z: bool = True,
                     preprocessing: frozenset[int] | set[int] = frozenset()) -> None:
    """Words that only mean something with a number ('maximum', 'in each frame') must not vanish.

    A comparison without a number is fine only inside a removal ("remove small objects": the
    default size filter); 'frame'/'slice' without a number is fine only when the plan uses all
    frames (tracking) or decides z itself (projection, 3-D).
    """
    for pos, label in contexts:
        if f"{clause[pos]}:{label}" in used:
            continue
        word = parse.tokens[pos].text
        if label == "pixel" and plan.units != "physical":  # "nearest-neighbour distance in pixels"
            plan.units = "px"
            plan.understood.append(f"'{word}' -> results in px")
        elif label in ("less", "greater", "min", "max") and clause[pos] not in removal:
            plan.not_understood.append(f"{word} (no number or object filter for it)")
        elif label == "large" and clause[pos] not in preprocessing:  # "a big gradient" describes the problem
            plan.not_understood.append(f"{word} (no number for it: say e.g. 'larger than 500 px')")
        elif label == "threshold_cmp":
            plan.not_understood.append(f"{phrase_of(parse, pos)} (a comparison without a number)")
        elif label == "frame" and "tracking" not in kinds:
            plan.not_understood.append(f"{word} (per-frame results are not in the plan)")
        elif label == "slice" and (plan.inputs.z not in ("max", "mean", "sum", "3d", "range") or (
                not explicit_z and plan.inputs.z != "range")):  # the default projection is no answer to "slices"
            plan.not_understood.append(f"{word} (per-slice results are not in the plan)")


def _marker_threshold(plan: AnalysisPlan, value: float) -> None:
    plan.measurements = [m for m in plan.measurements if m.kind != "positivity"]
    plan.measurements.append(Measurement(kind="positivity", threshold=value))


def _distance_direction(parse: Parse, clause: list[int]) -> dict[int, str]:
    """For distances between two channels' objects: which mention is the partner ("nearest X",
    "closest X", else "to X") and which the objects measured from. Empty when it cannot tell."""
    if len(parse.channels) != 2 or parse.channels[0][0] == parse.channels[1][0]:
        return {}  # "channels 1 and 2": one phrase, no direction in it
    marks = {}
    for pos, _ in parse.channels:
        before = [t.text for k, t in enumerate(parse.tokens[max(0, pos - 6):pos], start=max(0, pos - 6))
                  if clause[k] == clause[pos]]
        marks[pos] = 2 if {"nearest", "closest"} & set(before) else (1 if "to" in before else 0)
    (a, ma), (b, mb) = sorted(marks.items())
    if ma == mb:
        return {}
    return {a: "partner", b: "objects"} if ma > mb else {a: "objects", b: "partner"}


def _assign_channels(plan: AnalysisPlan, parse: Parse, clause: list[int], roles: list[tuple[int, str]],
                     kinds: dict[str, int]) -> None:
    found: dict[str, list[int]] = {}
    directed = _distance_direction(parse, clause) if "object_distance" in kinds else {}
    two_channel = {"positivity", "object_distance", "colocalisation", "intensity"} & set(kinds)
    for pos, channel in parse.channels:
        role = directed.get(pos) or _nearest(pos, roles, clause, window=10)
        if role is None and two_channel:  # "...express the marker; use channel 2": whose channel is it?
            plan.not_understood.append(f"channel {channel + 1} (no word next to it says which step it is for)")
        role = role or "objects"
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
