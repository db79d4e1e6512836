"""Check a run's output against its plan: every promised quantity present, finite, with its unit."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from scopebot.code.blocks.report import RESULT_FILE, RESULT_PREFIX
from scopebot.code.compile import MARKER_CHECKS, MARKER_THRESHOLD, PROJECTION_CHECKS, stack_intensities
from scopebot.code.nuclear_channel import objects_channel_text
from scopebot.code.plan import AnalysisPlan, Promise


class ResultCheck(BaseModel):
    """The verdict on one run: ``ok`` only when every promise is kept."""

    ok: bool
    kept: list[str] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    summary: dict[str, dict[str, Any]] = Field(default_factory=dict)
    columns: dict[str, list[Any]] = Field(default_factory=dict)


#: Summaries that are 0 only when segmentation found nothing: never an answer, a hint to check the channel.
_NOTHING_FOUND_AT_ZERO = {"count", "covered_percent"}


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The last machine-readable result line of a run, or None."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            try:
                data = json.loads(line[len(RESULT_PREFIX):])
            except json.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _result_file(files: list[str]) -> dict[str, Any]:
    """The result file the run wrote (copied out by the sandbox): summary and table columns."""
    for path in files:
        if Path(path).name == RESULT_FILE:
            try:
                loaded = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                return {}
            return loaded if isinstance(loaded, dict) else {}
    return {}


NOTHING_FOUND_HINT = "check the channel and the threshold"


def nothing_found_hint(plan: AnalysisPlan) -> str:
    """What to check when no object is left: with size or border filters, whether none should pass them
    (then 0 is the answer) comes first."""
    seg = plan.segmentation
    if seg is None:
        return NOTHING_FOUND_HINT
    default_min = type(seg).model_fields["min_size_px"].default  # the debris floor is no filter of the user's
    filters = [f"at least {seg.min_size_px} px" if seg.min_size_px > default_min else "",
               f"at most {seg.max_size_px} px" if seg.max_size_px is not None else "",
               "not touching the border" if seg.exclude_border else ""]
    named = [f for f in filters if f]
    if not named:
        return NOTHING_FOUND_HINT
    return (f"objects were kept only if {' and '.join(named)}: if none in the image should pass, 0 is your "
            "answer; otherwise loosen the filter in the plan, or check the channel and the threshold")


def check_promises(promises: list[Promise], stdout: str, figures: list[str],
                   files: list[str] | None = None, hint: str = NOTHING_FOUND_HINT) -> ResultCheck:
    """Compare the promises with the result line (and its columns file) and the figures of a run.
    ``hint`` says what to check when no object was found (see :func:`nothing_found_hint`)."""
    saved = _result_file(files or [])  # complete even when the printed output was cut at a limit
    data = parse_result(stdout) or saved
    summary = saved.get("summary") or data.get("summary") or {}
    columns = saved.get("columns") or data.get("columns") or {}
    kept, problems = [], []
    if not data:
        problems.append("the run printed no result line")
    for p in promises:
        if p.where == "figure":
            (kept if figures else problems).append("figure" if figures else "no figure was produced")
        elif p.where == "column":
            values = [v for v in columns.get(p.name, []) if _finite(v) or isinstance(v, bool)]
            if p.name not in columns:
                problems.append(f"column {p.name} missing from the table")
            elif not values:
                problems.append(f"column {p.name} is empty (no objects were found: {hint})")
            else:
                kept.append(f"column {p.name} ({len(values)} values)")
        else:
            entry = summary.get(p.name)
            if entry is None:
                problems.append(f"{p.name} missing")
            elif not _finite(entry.get("value")):
                problems.append(f"{p.name} is not a number ({entry.get('value')!r})")
            elif (entry.get("unit") or "") != p.unit:
                problems.append(f"{p.name} in {entry.get('unit')!r}, promised {p.unit!r}")
            elif p.name in _NOTHING_FOUND_AT_ZERO and entry["value"] == 0:
                problems.append(f"no objects were found ({hint})")
            else:
                kept.append(f"{p.name} = {entry['value']:.4g} {p.unit}".rstrip())
    return ResultCheck(ok=bool(data) and not problems, kept=kept, problems=problems, summary=summary,
                       columns=columns)


def check_result(plan: AnalysisPlan, stdout: str, figures: list[str], files: list[str] | None = None) -> ResultCheck:
    """:func:`check_promises` with the plan's promises."""
    return check_promises(plan.promised(), stdout, figures, files, nothing_found_hint(plan))


#: Measurements a projection makes wrong when it merged objects lying at different depths (all per-object ones).
STACKED_AFFECTS = frozenset({"count", "size", "intensity", "shape", "skeleton_length", "nn_distance",
                             "object_distance", "positivity", "objects_inside"})
#: Measurements a projection makes wrong when it spread one object over different x/y (its area and shape).
SPREAD_AFFECTS = frozenset({"size", "shape", "coverage", "skeleton_length"})


def projection_counts(summary: dict[str, dict[str, Any]]) -> tuple[int, int]:
    """(stacked, spread): the projected objects the script's projection check found merged (0, 0 without it)."""
    out = []
    for name in PROJECTION_CHECKS:
        value = (summary.get(name) or {}).get("value")
        out.append(int(value) if _finite(value) else 0)
    return out[0], out[1]


def projection_problems(plan: AnalysisPlan, summary: dict[str, dict[str, Any]]) -> list[str]:
    """Why a projected plan's numbers are not the answer: the projection merged objects lying at different
    depths (a count or per-object value of the projection is wrong), or spread one object over different
    x/y in different planes (its area or shape in the projection is not the object's). [] when neither."""
    if plan.is_3d:
        return []
    stacked, spread = projection_counts(summary)
    kinds = plan.kinds()
    how = {"max": "max", "mean": "mean", "sum": "sum", "range": "max"}[plan.inputs.z]
    out = []
    if stacked and kinds & STACKED_AFFECTS:
        out.append(f"the {how} projection merged {stacked} object(s) lying at different depths of the stack into one "
                   "each, so the numbers of the projection are not those of the objects: ask for it in 3-D "
                   "(e.g. 'count in 3D', 'volume in um3')")
    if spread and kinds & SPREAD_AFFECTS:
        out.append(f"{spread} object(s) lie at different x/y positions in different planes, so their area and shape "
                   "in the projection are not theirs: if the planes are time points, say 'time-lapse' and which "
                   "frame; for a z-stack, ask for the volume in 3-D")
    return out


#: How the script chose a positivity cutoff (the summary ``marker_rule``; ``blocks/measure.py: MARKER_RULES``).
MARKER_RULE_TEXT = {1: "the middle of the widest gap between two groups of object means",
                    2: "between the background ({background:.4g}) and the objects, which all lie far above it",
                    3: "above the objects, which all lie at the background ({background:.4g})"}


def positivity_problems(plan: AnalysisPlan, summary: dict[str, dict[str, Any]]) -> list[str]:
    """Why a positivity answer with a cutoff the script chose is not an answer: the objects' mean marker
    intensities do not split clearly (objects sit at the cutoff, or no group stands out from the background).
    [] when clear, when the request gave the threshold, or without the check (free code)."""
    m = next((m for m in plan.measurements if m.kind == "positivity"), None)
    value = (summary.get(MARKER_CHECKS[1]) or {}).get("value")
    if m is None or m.threshold is not None or not _finite(value) or value:
        return []
    channel = (m.channel if m.channel is not None else 1) + 1
    return [f"the mean intensities of channel {channel} inside the objects do not split clearly into positive and "
            "negative (objects lie at any cutoff, or between the background and the rest): give the threshold, "
            "e.g. 'positive above 300'"]


def answer_context(plan: AnalysisPlan, summary: dict[str, dict[str, Any]]) -> list[str]:
    """What an answer's numbers depend on, said with them: the channel the objects were found in (by name when the
    file names it), the threshold of a positivity answer (a percentage means nothing without it) and the
    projection a stack was measured on (checked: no object merged)."""
    out = [line for line in (objects_channel_text(plan),) if line]
    value = (summary.get(MARKER_THRESHOLD) or {}).get("value")
    m = next((m for m in plan.measurements if m.kind == "positivity"), None)
    if m is not None and _finite(value):
        channel = (m.channel if m.channel is not None else 1) + 1
        rule = (summary.get(MARKER_CHECKS[0]) or {}).get("value")
        background = (summary.get(MARKER_CHECKS[2]) or {}).get("value")
        source = "the value the request gave" if m.threshold is not None else (
            MARKER_RULE_TEXT[int(rule)].format(background=background if _finite(background) else float("nan"))
            if _finite(rule) and int(rule) in MARKER_RULE_TEXT else "chosen from the objects' means")
        out.append(f"positive = mean of channel {channel} inside the object above {value:.4g} ({source})")
    if not plan.is_3d and PROJECTION_CHECKS[0] in summary:
        i = plan.inputs
        what = f"planes {i.z_start}-{i.z_stop}" if i.z == "range" else f"{plan.meta.z} planes"
        stacked, spread = projection_counts(summary)
        checked = "checked: it merged no objects" if not (stacked or spread) else \
            f"{stacked + spread} object(s) differ between planes, which does not change what was asked"
        how = "max" if i.z == "range" else i.z
        if stack_intensities(plan):
            out.append(f"objects found on the {how} projection of {what} ({checked}); intensities measured in 3-D, "
                       f"in each object's voxels of the {what}")
        elif "intensity" in plan.kinds():
            out.append(f"measured on the {how} projection of {what}, as asked ({checked}; a {how} projection's "
                       "intensities are not those of the stack: ask for 3-D to measure in the stack)")
        else:
            out.append(f"measured on the {how} projection of {what} ({checked}; ask for 3-D to measure in the stack)")
    return out
