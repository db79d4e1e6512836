"""Numbers in a request -> plan values (used by :mod:`scopebot.code.plan_rules`).

A number takes its meaning from the nearest vocabulary context word of a fitting kind in its clause
(pixel size, z step, time step, size limits with their direction, thresholds, sigma, radius, slices,
frames); a calibration word gives its meaning to one number only. Context words that need a number
and got none are reported, never dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.plan import AnalysisPlan, Measurement
from scopebot.code.plan_quantities import Quantity, number
from scopebot.code.plan_words import SIZE_CONTEXTS, nearest, phrase_of

if TYPE_CHECKING:
    from scopebot.code.planner import Parse

#: Which contexts can give a meaning to a number of each kind (a length is never a frame index).
_SIZE_CTX = SIZE_CONTEXTS
_CONTEXT_DIMS = {
    "length": ("pixelsize", "pixel", "zstep", "radius", "radius_word"),
    "time": ("timestep", "frame"),
    "bare": ("threshold", "threshold_cmp", "sigma", "radius", "radius_word", "slice", "frame", "pixelsize", "zstep",
             "kernel", *_SIZE_CTX),
    "px": ("radius", "radius_word", "kernel", *_SIZE_CTX),
    "area_um": _SIZE_CTX,
}
#: Words before a time with no frame or interval word that make it a duration or a moment ("treated for 30 min",
#: "fixed after 2 h"), never the time between frames.
DURATION_WORDS = frozenset({"for", "after", "during", "over", "within", "since", "before", "lasting", "took"})
#: words after a time that make it how long ago something happened ("fixed 48 h after plating", "2 h post infection")
HISTORY_AFTER = frozenset({"after", "post", "later", "ago", "before", "old", "of", "into"})
#: Calibration and parameter words: each gives its meaning to one number (the nearest).
_EXCLUSIVE = {"pixelsize", "pixel", "zstep", "timestep", "radius", "radius_word", "sigma", "kernel"}

def numbers(plan: AnalysisPlan, parse: Parse, clause: list[int], contexts: list[tuple[int, str]],
             removal: set[int], kinds: dict[str, int], measures: list[tuple[int, str]],
             roles: list[tuple[int, str]] | None = None) -> set[str]:
    toks = parse.tokens
    stated = plan.meta.stated
    in_voxel = any(t.stem == "voxel" for t in toks)
    used_labels: set[str] = set()
    z_numbers: list[float] = []
    for tok in toks:
        if tok.used == "magnification" and number(tok.text) is not None:
            plan.understood.append(f"'{tok.text}x' -> the objective's magnification: not a pixel size (not used)")
    chosen = _context_of_numbers(parse, clause, contexts)
    ranged = _size_range(plan, parse, clause, measures)
    sensor = _sensor_pixels(parse, clause, chosen)
    pixels: set[float] = set()
    # size limits in um^2 last: they need the pixel size, which may be stated after them
    for q in sorted(parse.quantities, key=lambda x: x.dim == "area_um"):
        if q.pos in ranged:
            continue
        ctx = chosen.get(q.pos)
        used_labels.add(f"{clause[q.pos]}:{ctx}")
        if ctx == "threshold_cmp":
            ctx = "threshold"  # "brighter than 500"
        if ctx == "radius_word" and not plan.preprocessing.background:
            toks[q.pos].used = None  # an object's radius is not in the plan (only the rolling ball's): report it
            continue
        if ctx == "radius" and q.dim == "bare" and not {"ball", "rolling", "radius"} & {
                t.text for k, t in enumerate(toks) if clause[k] == clause[q.pos]}:
            toks[q.pos].used = None  # "subtract a background of 100": an offset, not a radius; report it
            continue
        if ctx == "radius_word":
            ctx = "radius"
        if ctx == "kernel" and not (float(q.value).is_integer() and 1 <= q.value <= 15):
            toks[q.pos].used = None  # not a filter width: report it
            continue
        if q.dim == "bare" and (q.axis is not None or ctx in ("pixelsize", "zstep")):
            q.dim = "length"  # "voxel 2.0 z, 0.5 y/x", "pixel size 0.5": calibration in um
        if q.dim == "bare" and ctx in _SIZE_CTX and \
                nearest(q.pos, measures, clause, window=8) in ("intensity", "positivity"):
            ctx = "threshold"  # "a mean intensity above 500": an intensity, not a size
        label = f"'{toks[q.pos].text}'"
        if q.dim == "length" and q.axis == "z":  # an axis written next to the number beats any context word
            plan.meta.z_step_um = q.value
            stated.append("z_step_um")
        elif q.pos in sensor:  # "one pixel is 0.108 µm; the camera has 6.5 µm pixels": the sensor's, not the image's
            plan.understood.append(f"{label} -> the camera's sensor pixel, not the image's (not used)")
            continue
        elif q.dim == "length_per_px" or (q.dim == "length" and (q.axis == "xy" or ctx in ("pixelsize", "pixel"))):
            pixels.add(q.value)
            plan.meta.pixel_size_um = q.value
            stated.append("pixel_size_um")
        elif q.dim == "length" and (q.axis == "z" or ctx == "zstep"):
            plan.meta.z_step_um = q.value
            stated.append("z_step_um")
        elif q.dim == "length" and in_voxel and q.axis is None:
            z_numbers.append(q.value)
        elif q.dim == "time" and ctx is None and ((q.pos > 0 and toks[q.pos - 1].text in DURATION_WORDS) or (
                q.end + 1 < len(toks) and toks[q.end + 1].text in HISTORY_AFTER)):  # "48 h after plating"
            toks[q.pos].used = "duration"  # "treated for 30 min", "after 2 h": how long, not the frame interval
            for t in toks[q.pos + 1:q.end + 1]:
                t.used = "duration"
            where = f"after '{toks[q.pos - 1].text}'" if q.pos > 0 and toks[q.pos - 1].text in DURATION_WORDS else \
                f"before '{toks[q.end + 1].text}'"
            plan.understood.append(f"{label} {where} -> a duration, not the frame interval (not used)")
            continue
        elif q.dim == "time_per_frame" or (q.dim == "time" and ctx in ("timestep", "frame", None)):
            plan.meta.time_step_s = q.value
            stated.append("time_step_s")
        elif q.dim == "frames_per_time":
            plan.meta.time_step_s = 1.0 / q.value
            stated.append("time_step_s")
        elif q.dim == "bare" and ctx == "threshold":
            alone = not any(clause[p] == clause[q.pos] for p, _ in measures) and not any(
                clause[p] == clause[q.pos] and r == "objects" for p, r in roles or [])  # "Use a threshold of 500."
            if "positivity" in kinds and (alone or nearest(q.pos, measures, clause, window=12) in ("positivity",
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
            parse.frame_named = True
        elif q.dim == "bare" and ctx in _SIZE_CTX and _intensity_or_size(toks, clause, q.pos, kinds, measures):
            toks[q.pos].used = None  # "positive when its pixels are above 300": a size limit or a threshold? report
            continue
        elif q.dim in ("bare", "px", "area_um") and ctx in _SIZE_CTX and _other_quantity(clause, q.pos, measures):
            toks[q.pos].used = None  # "a diameter above 10 px": a limit on that quantity, not on the area; report it
            continue
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
        elif q.dim in ("percent", "speed") and number(toks[q.pos].text) is None:
            pass  # "in %" / "in um/s": the unit asked for, not a parameter
        else:
            toks[q.pos].used = None  # a number the plan cannot place: report it
            continue
        plan.understood.append(f"{label} ({q.dim}) -> {ctx or q.axis or q.dim}")
    if len(pixels) > 1:  # two image pixel sizes: never pick one silently
        plan.not_understood.append(f"pixel sizes {' and '.join(f'{v:g}' for v in sorted(pixels))} um (which one is "
                                   "the image's?)")
    if z_numbers and in_voxel and plan.meta.z_step_um is None and len(z_numbers) >= 2:
        # "voxel 2 and 0.5 um" with no axis anywhere: stacks are coarser in z, so the larger is the z step
        plan.meta.z_step_um, plan.meta.pixel_size_um = max(z_numbers), min(z_numbers)
        stated += ["z_step_um", "pixel_size_um"]
        plan.understood.append(f"voxel {max(z_numbers):g} and {min(z_numbers):g} um with no axis -> the larger is "
                               "the z step")
    elif z_numbers and not in_voxel:
        plan.inputs.z, plan.inputs.z_start = "range", max(0, int(z_numbers[0]) - 1)
        plan.inputs.z_stop = max(0, int(z_numbers[-1]) - 1)
    return used_labels


def _size_range(plan: AnalysisPlan, parse: Parse, clause: list[int], measures: list[tuple[int, str]]) -> set[int]:
    """'an area between 50 and 300 px': two sizes after 'between' in a clause about sizes are the lower and
    upper size limits (in px; um^2 with a known pixel size). Returns the positions of the numbers it used."""
    toks, qs = parse.tokens, parse.quantities
    for a, b in zip(qs, qs[1:], strict=False):
        between = [t.text for t in toks[max(a.end, a.pos) + 1:b.pos]]
        if a.pos == 0 or toks[a.pos - 1].text not in ("between", "from") or between not in (["and"], ["to"], ["-"]):
            continue
        if not any(clause[p] == clause[a.pos] and m == "size" for p, m in measures) or \
                a.dim not in ("bare", b.dim) or b.dim not in ("px", "area_um", "bare"):
            continue
        scale = 1.0
        if b.dim == "area_um":
            if not plan.meta.pixel_size_um:
                return set()  # the planner reports the numbers (or the missing pixel size) as before
            scale = 1.0 / plan.meta.pixel_size_um ** 2
        lo, hi = sorted((a.value * scale, b.value * scale))
        if plan.segmentation is None or lo == hi:
            return set()
        plan.segmentation.min_size_px, plan.segmentation.max_size_px = int(round(lo)), int(round(hi))
        plan.understood.append(f"'between {toks[a.pos].text} and {toks[b.pos].text}' -> size limits "
                               f"{int(round(lo))}-{int(round(hi))} px")
        return {a.pos, b.pos}
    return set()


def _context_of_numbers(parse: Parse, clause: list[int], contexts: list[tuple[int, str]]) -> dict[int, str | None]:
    """Each number's context word: the nearest one of a fitting kind in its clause (left wins ties), but a
    calibration word ('pixels', 'z steps', 'interval', 'radius') gives its meaning to one number only, the
    nearest: in "0.4 um pixels and 1 um z steps" the 1 belongs to the steps, not to the pixels."""
    pairs = []
    for q in parse.quantities:
        fits = _CONTEXT_DIMS.get(q.dim, ())
        for cpos, label in contexts:
            if label not in fits or clause[cpos] != clause[q.pos]:
                continue
            dist = (q.pos - cpos) if cpos <= q.pos else (cpos - max(q.end, q.pos)) + 0.5
            if dist <= 6:
                pairs.append((dist, q.pos, cpos, label))
    chosen: dict[int, str | None] = {q.pos: None for q in parse.quantities}
    value = {q.pos: q.value for q in parse.quantities}
    taken: dict[tuple[int, str], float] = {}
    for _, qpos, cpos, label in sorted(pairs):
        if qpos not in chosen or chosen[qpos] is not None:
            continue
        if taken.get((clause[cpos], label), value[qpos]) != value[qpos]:  # "median 5x5" repeats one value
            continue
        chosen[qpos] = label
        if label in _EXCLUSIVE:
            taken[(clause[cpos], label)] = value[qpos]
    return chosen


#: words that make a pixel size the camera sensor's ("a camera with 6.5 µm pixels"), not the image's
_SENSOR_WORDS = frozenset({"camera", "sensor", "chip", "detector", "ccd", "cmos", "scmos", "emccd"})


def _sensor_pixels(parse: Parse, clause: list[int], chosen: dict[int, str | None]) -> set[int]:
    """Positions of pixel sizes stated for the camera's sensor ("a camera with 6.5 µm pixels") when the request
    also states another pixel size without a sensor word ("so one pixel is 0.108 µm"): that one is the image's.
    Empty when every pixel size is a sensor's ("the camera pixel is 0.2 µm at this magnification" is the image's)."""
    toks = parse.tokens
    pix = [q for q in parse.quantities if q.dim == "length_per_px" or (q.dim == "length" and (
        q.axis == "xy" or chosen.get(q.pos) in ("pixelsize", "pixel")))]
    numbers = {k for x in parse.quantities for k in range(x.pos, x.end + 1)}

    def near_sensor(q: Quantity) -> bool:
        before = []
        for k in range(q.pos - 1, max(-1, q.pos - 5), -1):
            if k in numbers or clause[k] != clause[q.pos]:
                break
            before.append(toks[k].text)
        after = [t.text for k, t in enumerate(toks[q.end + 1:q.end + 3], start=q.end + 1) if clause[k] == clause[q.pos]]
        return bool(_SENSOR_WORDS & set(before + after))

    # "0.325 µm per pixel" is a calibration of the image, never a sensor's
    sensor = {q.pos for q in pix if q.dim == "length" and near_sensor(q)}
    return sensor if len(sensor) < len(pix) else set()


def unused_contexts(plan: AnalysisPlan, parse: Parse, clause: list[int], contexts: list[tuple[int, str]],
                     used: set[str], removal: set[int], kinds: dict[str, int], explicit_z: bool = True,
                     preprocessing: frozenset[int] | set[int] = frozenset(),
                     measures: list[tuple[int, str]] | None = None) -> None:
    """Words that only mean something with a number ('maximum', 'in each frame') must not vanish.

    A comparison without a number is fine only inside a removal ("remove small objects": the
    default size filter); 'frame'/'slice' without a number is fine only when the plan uses all
    frames (tracking) or decides z itself (projection, 3-D).
    """
    measures = measures or []
    for pos, label in contexts:
        if f"{clause[pos]}:{label}" in used:
            continue
        word = parse.tokens[pos].text
        if label == "pixel" and plan.units != "physical":  # "nearest-neighbour distance in pixels"
            plan.units = "px"
            plan.understood.append(f"'{word}' -> results in px")
        elif label in ("less", "greater", "min", "max", "large") and _restates_size_limit(
                plan, parse, clause, pos, label, used, measures):
            plan.understood.append(f"'{word}' -> the objects the stated size limit removes")
        elif label in ("less", "greater", "min", "max") and clause[pos] not in removal:
            plan.not_understood.append(f"{word} (no number or object filter for it)")
        elif label == "large" and clause[pos] not in preprocessing:  # "a big gradient" describes the problem
            plan.not_understood.append(f"{word} (no number for it: say e.g. 'larger than 500 px')")
        elif label == "radius_word":  # "radius" with no number or with the number of a size filter
            plan.not_understood.append(f"{word} (only the radius of a background correction, with its number)")
        elif label == "threshold_cmp" and clause[pos] in preprocessing:  # "one side is brighter than the other"
            plan.understood.append(f"'{phrase_of(parse, pos)}' -> describes the preprocessing problem")
        elif label == "threshold_cmp":
            plan.not_understood.append(f"{phrase_of(parse, pos)} (a comparison without a number)")
        elif label == "frame" and "tracking" not in kinds:
            plan.not_understood.append(f"{word} (per-frame results are not in the plan)")
        elif label == "slice" and (plan.inputs.z not in ("max", "mean", "sum", "3d", "range") or (
                not explicit_z and plan.inputs.z != "range")):  # the default projection is no answer to "slices"
            plan.not_understood.append(f"{word} (per-slice results are not in the plan)")


#: size words without a number, by the objects they name: the small ones or the large ones
_SMALL_LABELS, _LARGE_LABELS = frozenset({"less", "min"}), frozenset({"greater", "max", "large"})
_ASKING = frozenset({"?", "how", "what", "which", "whether"})
#: words that call objects junk: a size word restates the limit only in a clause with one ("everything smaller is
#: debris"); the typed "fragments" is read as debris by the thesaurus
_JUNK = frozenset({"debri", "debris", "junk", "dust", "dirt", "speck", "specks", "nois", "noise", "artefact",
                   "artifact", "garbag", "garbage", "trash", "rubbish", "crap", "aggregat"})


def _restates_size_limit(plan: AnalysisPlan, parse: Parse, clause: list[int], pos: int, label: str,
                         used: set[str], measures: list[tuple[int, str]]) -> bool:
    """'only those larger than 30 µm²; everything smaller is debris': a size word without a number restates the
    size limit the request states with a number when it names the objects that limit removes (the small ones for a
    minimum size, the large ones for a maximum), in a statement (its sentence asks nothing) whose clause calls them
    junk (debris, dust, specks ...) and holds no number and no measurement ('how many are smaller?' asks for another
    count, 'the small ones matter as well' says the opposite: both stay reported)."""
    seg = plan.segmentation
    if seg is None or not any(u.split(":", 1)[1].split("_")[0] in _SMALL_LABELS | _LARGE_LABELS for u in used):
        return False
    stated_min = seg.min_size_px != type(seg).model_fields["min_size_px"].default
    if not ((label in _SMALL_LABELS and stated_min) or (label in _LARGE_LABELS and seg.max_size_px is not None)):
        return False
    toks = parse.tokens
    lo, hi = pos, pos
    while lo > 0 and toks[lo - 1].text not in (".", "?", "!", ";"):
        lo -= 1
    while hi + 1 < len(toks) and toks[hi].text not in (".", "?", "!", ";"):
        hi += 1
    if any(t.text in _ASKING for t in toks[lo:hi + 1]):
        return False
    if any(clause[q.pos] == clause[pos] for q in parse.quantities):
        return False
    if not any(t.stem in _JUNK for k, t in enumerate(toks) if clause[k] == clause[pos]):
        return False  # "the small ones matter as well" says the opposite: only junk restates the limit
    return not any(clause[p] == clause[pos] for p, _ in measures)


#: Words that make a bare number after a comparison a size ("larger than 300", "an area above 300").
_SIZE_WORDS = {"larger", "smaller", "bigger", "big", "small", "tiny", "size", "sizes", "area", "areas", "wider",
               "narrower", "huge", "volume", "volumes"}


def _intensity_or_size(toks: list, clause: list[int], pos: int, kinds: dict[str, int],
                       measures: list[tuple[int, str]]) -> bool:
    """Whether a bare number after a comparison ('above 300') stands in a clause with a positivity or intensity
    measurement and no word for sizes: it may be a size limit or an intensity threshold, so it is not guessed."""
    if not {"positivity", "intensity"} & set(kinds):
        return False
    here = [m for p, m in measures if clause[p] == clause[pos]]
    words = {t.text for k, t in enumerate(toks) if clause[k] == clause[pos]}
    return bool({"positivity", "intensity"} & set(here)) and not words & _SIZE_WORDS and "size" not in here


def _other_quantity(clause: list[int], pos: int, measures: list[tuple[int, str]]) -> bool:
    """Whether the quantity named right before a size comparison's number (within five words, same clause) is one
    other than the size ("a diameter above 10 px", "a perimeter over 50"): the limit is on that quantity."""
    before = [(pos - p, m) for p, m in measures if p < pos and pos - p <= 5 and clause[p] == clause[pos]]
    return bool(before) and min(before)[1] in ("shape", "skeleton_length", "nn_distance", "object_distance",
                                                "tracking")


def _marker_threshold(plan: AnalysisPlan, value: float) -> None:
    plan.measurements = [m for m in plan.measurements if m.kind != "positivity"]
    plan.measurements.append(Measurement(kind="positivity", threshold=value))
