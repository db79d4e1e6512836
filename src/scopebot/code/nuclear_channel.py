"""Nuclei are found in the nuclear-stain channel the image names, and every answer names its objects' channel.

A request that asks about nuclei without saying which channel holds them ("count the nuclei") had its objects
segmented in channel 1, even when the file's OME channel names say channel 1 is GFP and channel 2 DAPI (tryout
round 18: 3 of 6 nuclei, claimed ok). After the vocabulary planner, :func:`use_nuclear_channel` moves the objects
to the one channel whose name holds a nuclear stain (the vocabulary's ``stain_roles`` with the role 'objects':
DAPI, Hoechst, DRAQ5, H2B; or a name with "nucle" in it), unless the request gave the objects a channel itself.
Channels that followed the objects' channel by default move with it. :func:`objects_channel_text` is the line
that names the channel in every answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from scopebot.code.plan import AnalysisPlan, ImageMeta

#: A word of the request (or of a channel name) that names nuclei.
_NUCLEUS = re.compile(r"\bnucle(?:us|i|ar)\b|\bnuc\b", re.I)
#: A planner note that a channel mention gave the objects (or any role) their channel: "channel 2 -> objects".
_CHANNEL_ROLE = re.compile(r"^channels? [\d ,and]+ -> (\w+)")
#: Measurement kinds whose channel is a second channel, defaulted as "the other one" when the request named none.
_OTHER_CHANNEL_KINDS = ("positivity", "colocalisation", "object_distance")


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def nuclear_stain_channel(meta: ImageMeta, stains: Iterable[str]) -> int | None:
    """The one channel (0-based) whose OME name holds a nuclear stain or says nuclei; None when none or several."""
    stains = [_alnum(s) for s in stains if _alnum(s)]
    hits = [k for k, name in enumerate(meta.channel_names)
            if any(s in _alnum(name) for s in stains) or _NUCLEUS.search(name) or "nucle" in _alnum(name)]
    return hits[0] if len(hits) == 1 and hits[0] < meta.channels else None


def _roles_stated(plan: AnalysisPlan) -> dict[str, set[int]]:
    """The roles the request's own channel mentions gave (role -> 1-based channels), from the planner's notes."""
    out: dict[str, set[int]] = {}
    for note in plan.understood:
        found = _CHANNEL_ROLE.match(note)
        if found:
            out.setdefault(found.group(1), set()).update(int(n) for n in re.findall(r"\d+", note.split("->")[0]))
    return out


def asks_about_nuclei(plan: AnalysisPlan, request: str) -> bool:
    """Whether the objects are nuclei: a nucleus word in the request or in the planner's notes of the objects."""
    return bool(_NUCLEUS.search(request)) or any(
        note.endswith("-> objects") and not note.startswith("channel") and _NUCLEUS.search(note)
        for note in plan.understood)


def use_nuclear_channel(plan: AnalysisPlan, request: str, stains: Iterable[str]) -> AnalysisPlan:
    """``plan`` with its objects in the nuclear-stain channel of the image when the request asks about nuclei
    without giving them a channel (a changed copy, with a note in ``understood``); else ``plan`` unchanged."""
    meta = plan.meta
    if plan.segmentation is None or meta.channels < 2 or not asks_about_nuclei(plan, request):
        return plan
    target = nuclear_stain_channel(meta, stains)
    old = plan.inputs.channel
    stated = _roles_stated(plan)
    if target is None or target == old or stated.get("objects") or stated.get("listed") or any(
            target + 1 in channels for channels in stated.values()):  # the request gave that channel another role
        return plan
    new = plan.model_copy(deep=True)
    new.inputs.channel = target
    for m in new.measurements:
        if m.channel is None:
            continue
        said = any(m.channel + 1 in channels for role, channels in stated.items() if role != "objects")
        if said:
            continue
        if m.kind == "intensity" and m.channel == old:  # "their mean intensity": the objects' own channel
            m.channel = target
        elif m.kind in _OTHER_CHANNEL_KINDS and m.channel == (1 if old == 0 else 0):  # "the other channel"
            m.channel = 1 if target == 0 else 0
    name = meta.channel_names[target]
    new.understood.append(f"nuclei, no channel given -> channel {target + 1} ('{name}', the image's nuclear stain)")
    return new


def objects_channel_text(plan: AnalysisPlan) -> str | None:
    """The answer's line that names the channel its objects were found in ('objects found in channel 2 (DAPI)');
    None without a segmentation."""
    if plan.segmentation is None:
        return None
    meta, channel = plan.meta, plan.inputs.channel
    if channel < len(meta.channel_names) and meta.channel_names[channel]:
        which = f"channel {channel + 1} ({meta.channel_names[channel]})"
    elif meta.channels > 1:
        which = (f"channel {channel + 1} of {meta.channels} (the file does not name its channels; say e.g. 'nuclei "
                 "in channel 2' for another)")
    else:
        which = f"channel {channel + 1} (the image's only channel)"
    return f"objects found in {which}"
