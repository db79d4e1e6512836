"""Numbers with units in a request: calibration and parameters (used by :class:`~scopebot.code.planner.Planner`).

A number takes its unit from the words after it ("0.2 um/px", "500 ms", "2 frames per second") and its
axis from a label next to it ("1.5 um in z", "0.5 y/x") or from an axis list ("0.5 x 0.5 x 2 um, xyz").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopebot.code.plan import ImageMeta
    from scopebot.code.planner import Parse, Token, Vocabulary


def number(text: str) -> float | None:
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


def _unit(vocab: Vocabulary, tokens: list[Token], i: int) -> tuple[str | None, float, int]:
    """The unit starting at token i: (dim, factor, tokens used)."""
    if i >= len(tokens) or tokens[i].text not in vocab.units:
        return None, 1.0, 0
    first = vocab.units[tokens[i].text]
    j = i + 1
    if j < len(tokens) and tokens[j].text in vocab.per_words:
        k = j + 1
        if k < len(tokens) and tokens[k].text in vocab.units:
            second = vocab.units[tokens[k].text]["dim"]
            pair = (first["dim"], second)
            dims = {("length", "px"): "length_per_px", ("time", "frame"): "time_per_frame",
                    ("frame", "time"): "frames_per_time", ("length", "time"): "speed",
                    ("px", "frame"): "px_per_frame", ("px", "length"): "px_per_length"}
            if pair in dims:
                factor = first["factor"] / (vocab.units[tokens[k].text]["factor"]
                                            if pair[1] == "time" else 1.0)
                if pair == ("px", "length"):  # "4 px/um", "2.5 pixels per micron": read as length per pixel
                    factor = vocab.units[tokens[k].text]["factor"]
                return dims[pair], factor, k + 1 - i
    return first["dim"], first["factor"], 1

def read_quantities(vocab: Vocabulary, parse: Parse) -> None:
    toks = parse.tokens
    for i, tok in enumerate(toks):
        value = number(tok.text)
        if value is None and tok.text in vocab.cardinals and not tok.used and _spelled_rate(vocab, toks, i + 1):
            value = float(vocab.cardinals[tok.text])  # "one frame per second", "every five minutes", "two days ago"
        if value is None or tok.used:
            continue
        tok.used = "number"
        start = i + 1
        if start + 1 < len(toks) and toks[start].text == ")" and toks[start + 1].text in vocab.units:
            start += 1  # "(2, 0.5, 0.5) um"
        dim, factor, n = _unit(vocab, toks, start)
        if n == 0:
            start = i + 1
        n += start - (i + 1)
        for t in toks[i + 1:i + 1 + n]:
            t.used = "unit"
        q = Quantity(value=value * factor, dim=dim or "bare", pos=i, end=i + n)
        if dim == "px_per_length" and value > 0:  # "4 px/um" is a pixel of 0.25 um
            q.value, q.dim = factor / value, "length_per_px"
        k = i - 2 if i > 1 and toks[i - 1].text in ("=", ":") else i - 1  # "z = 2 um", "xy: 0.5 um"
        if dim == "length" and k >= 0 and not toks[k].used and toks[k].text in vocab.axis_words:
            q.axis = vocab.axis_words[toks[k].text]  # "z 2 um", "xy 0.5 um": the axis before it
            for t in toks[k:i]:
                t.used = "axis"
        j = i + 1 + n
        if j + 1 < len(toks) and toks[j].text in ("in", "along", "for") and dim == "length" and \
                toks[j + 1].text in vocab.axis_words:  # "1.5 um in z"
            toks[j].used = "axis"
            j += 1
        times = toks[j].text == "x" and j + 1 < len(toks) and number(toks[j + 1].text) is not None \
            if j < len(toks) else False  # "2 x 3": a times sign, not the x axis
        if dim is None and not times and _magnification(toks, i, j, value):
            tok.used = toks[j].used = "magnification"  # "imaged at 40x": the objective, never a pixel size
            k = j + 1
            while k < len(toks) and toks[k].text in OBJECTIVE_WORDS and not toks[k].used:
                toks[k].used = "magnification"  # "a 63x oil immersion objective"
                k += 1
            continue
        if dim is None and j + 1 < len(toks) and toks[j].text == "x" and not times and toks[j + 1].text not in (
                *vocab.axis_words, *vocab.units, ",", ";", ".", ")", "/", "and", "?", "!", ":"):
            for t in toks[i:j + 1]:
                t.used = None
            continue  # "2x the mean", "3 x the background": a factor the plan has no place for; both reported
        if j + 2 < len(toks) and toks[j].text == "(" and toks[j + 1].text in vocab.axis_words and \
                toks[j + 2].text == ")" and dim == "length":  # "2 um (z)"
            toks[j].used = toks[j + 2].used = "axis"
            j += 1
        if j < len(toks) and toks[j].text in vocab.axis_words and not times:  # "2.0 z", "0.5 y/x"
            q.axis = vocab.axis_words[toks[j].text]
            toks[j].used = "axis"
            while j + 2 < len(toks) and toks[j + 1].text == "/" and toks[j + 2].text in vocab.axis_words:
                toks[j + 1].used = toks[j + 2].used = "axis"
                j += 2
        elif j < len(toks) and dim == "length" and toks[j].text in vocab.voxel_axis_words and _about_voxels(toks, i):
            q.axis = vocab.voxel_axis_words[toks[j].text]  # "voxels are 0.5 um wide and 2 um deep"
            toks[j].used = "axis"
        parse.quantities.append(q)
    _voxel_groups(parse)


#: Units a number written as a word takes ("one frame per second"); "one pixel", "two frames" stay counts.
_SPELLED_DIMS = frozenset({"time", "frames_per_time", "time_per_frame", "length_per_px", "px_per_length", "speed"})


def _spelled_rate(vocab: Vocabulary, toks: list[Token], i: int) -> bool:
    """Whether a number word before token ``i`` takes the unit there: a time or a rate."""
    dim, _, n = _unit(vocab, toks, i)
    return n > 0 and dim in _SPELLED_DIMS and not any(t.used for t in toks[i:i + n])


#: Words after "40x" that name the objective ("a 63x oil objective").
OBJECTIVE_WORDS = frozenset({"objective", "objectives", "lens", "oil", "water", "air", "glycerol", "silicone",
                             "immersion", "magnification", "zoom", "dry"})


def _magnification(toks: list[Token], i: int, j: int, value: float) -> bool:
    """Number ``i`` followed by an "x" at ``j`` is an objective's magnification ("imaged at 40x", "a 63x oil
    objective"), not a size along the x axis: no unit, no other axis after the x ("0.5 y/x"), no voxel or
    pixel word in its sentence, and either an objective word right after it or a whole number of at least 2
    (a calibration along x alone is written with a unit: "0.5 um in x")."""
    if j >= len(toks) or toks[j].text not in ("x", "×"):
        return False
    after = toks[j + 1].text if j + 1 < len(toks) else "."
    if after in ("/", ",") and j + 2 < len(toks) and toks[j + 2].text in ("y", "z", "yx", "xy"):
        return False
    if after in OBJECTIVE_WORDS:  # "Our pixel is 650 nm (10x objective)": the objective, in a pixel sentence too
        return True
    if _about_voxels(toks, i):
        return False
    return after in OBJECTIVE_WORDS or (float(value).is_integer() and value >= 2)


def _about_voxels(toks: list[Token], i: int) -> bool:
    """Whether the sentence before token i is about voxels or pixels ("nuclei 10 um wide" is not)."""
    k = i - 1
    while k >= 0 and toks[k].text not in (".", "?", "!", ";"):
        if toks[k].stem in ("voxel", "pixel", "px"):
            return True
        k -= 1
    return False

def _voxel_groups(parse: Parse) -> None:
    """'2 x 0.5 x 0.5 um', '(z, y, x) = (2, 0.5, 0.5) um', '0.5 x 0.5 x 2 um (x, y, z)': per-axis sizes.

    Two or three numbers joined by 'x' or ',' and ending in a length unit. With an axis list next
    to them the axes are taken from it; without one, of three numbers the one that differs from
    two equal ones is z (stacks are anisotropic in z); otherwise nothing is guessed.
    """
    toks, qs = parse.tokens, parse.quantities
    i = 0
    while i < len(qs):
        group = [qs[i]]
        while i + len(group) < len(qs):
            nxt, last = qs[i + len(group)], group[-1]
            between = [t.text for t in toks[last.end + 1:nxt.pos]] if last.end >= last.pos else []
            if last.dim == "bare" and nxt.pos - last.pos == 2 and between in (["x"], [","], ["*"], ["by"]):
                group.append(nxt)
            else:
                break
        i += len(group)
        if len(group) < 2 or group[-1].dim != "length":
            continue
        unit_factor = group[-1].value / float(toks[group[-1].pos].text)
        for q in group[:-1]:
            q.value, q.dim = q.value * unit_factor, "length"
        for q in group:
            if q.pos + 1 < len(toks) and toks[q.pos + 1].text in ("x", ",", "*", "by"):
                toks[q.pos + 1].used = "axis"
        axes = _axis_list(toks, group[0].pos, group[-1].end)
        if len(axes) == len(group):
            for q, ax in zip(group, axes, strict=True):
                q.axis = "z" if ax == "z" else "xy"
        elif len(group) == 3:
            values = [q.value for q in group]
            odd = [k for k in range(3) if values.count(values[k]) == 1]
            if len(set(values)) == 1:  # isotropic
                odd = [0]
            if len(odd) == 1:
                for k, q in enumerate(group):
                    q.axis = "z" if k == odd[0] else "xy"

def _axis_list(toks: list[Token], start: int, end: int) -> list[str]:
    """Axis labels like '(z, y, x)' within a few tokens before ``start`` or after ``end``."""
    def scan(indices: range) -> list[str]:
        found: list[str] = []
        for k in indices:
            text = toks[k].text
            if text in ("z", "y", "x") and not (toks[k].used and toks[k].used != "axis"):
                found.append(text)
            elif len(text) == 3 and set(text) == {"x", "y", "z"} and not found:  # "(xyz)", "zyx order"
                found.extend(text)
            elif text not in (",", "(", ")", "/", "=", "and") and found:
                break
        return found
    after = scan(range(end + 1, min(len(toks), end + 9)))
    before = scan(range(max(0, start - 9), start))
    axes = after if len(after) >= 2 else before
    for k in range(max(0, start - 9), min(len(toks), end + 9)):
        if (toks[k].text in ("z", "y", "x") or set(toks[k].text) == {"x", "y", "z"}) and axes and not toks[k].used:
            toks[k].used = "axis"
    return axes


def frame_ordinals(toks: list[Token], vocab: Vocabulary, meta: ImageMeta | None) -> list[Token]:
    """'the first frame', 'the 3rd time point', 'the last frame' (with a known frame count) -> 'frame N': a time
    point named by an ordinal is read like one named by its number."""
    from scopebot.answer.text import stem
    from scopebot.code.planner import Token as _Token

    out: list[Token] = []
    i = 0
    while i < len(toks):
        text = toks[i].text
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        n = vocab.ordinals.get(text) or (meta.t if text in ("last", "final") and meta and meta.t > 1 else None)
        if n and nxt in ("frame", "timepoint", "time-point") and (i == 0 or toks[i - 1].text in ("the", "in", "at")):
            out += [_Token("frame", stem("frame")), _Token(str(int(n)), str(int(n)))]
            i += 2
            continue
        out.append(toks[i])
        i += 1
    return out


def enumerators(toks: list[Token]) -> None:
    """Numbers of an enumerated list, "(1) ... (2) ...", read as list markers: "(N)" or "N)" after a clause break,
    numbered 1, 2, ... in order (at least two of them), never a single "(1)" ("the DAPI channel (1)")."""
    marks = []
    for i, tok in enumerate(toks):
        close = i + 1 < len(toks) and toks[i + 1].text == ")"
        lead = i - 1 - (i > 0 and toks[i - 1].text == "(")  # the word before "(N)" or "N)"
        after_break = lead < 0 or toks[lead].text in (",", ";", ".", "?", "!", ":", "(", ")", "and", "then", "you")
        if tok.text.isdigit() and close and after_break:
            marks.append(i)
    numbers = [int(toks[i].text) for i in marks]
    if len(marks) >= 2 and numbers == list(range(1, len(marks) + 1)):
        for i in marks:
            for t in toks[i - (toks[i - 1].text == "(") if i > 0 else i:i + 2]:
                t.used = "filler"
