"""Colocalisation requests: the two channels it compares and the whole image it (or a count) is measured over.

The plan's colocalisation (Pearson's r, Manders' M1/M2) compares two channels over the whole image. Two readings
follow from that, both structural:

- **its two channels**: when colocalisation is the only measurement and the request names exactly two channels
  without saying which step each is for ("Pearson's r between the two channels", "MitoTracker in channel 1,
  TOM20 in channel 2"), they are the two channels compared, in the order named (the first is M1's). A channel
  with a role of its own keeps it.
- **its scope**: "over the whole image / field" restates where the plan measures it, so it is a note, not a
  report. The same holds for a count ("how many foci are there in the whole image": the plan counts the whole
  image) when the phrase's clause measures nothing else; next to any other measurement ("the mean intensity of
  the whole image") it stays reported: those are measured in objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan
    from scopebot.code.planner import Parse, Vocabulary


def only_colocalisation(kinds: dict[str, int] | set[str]) -> bool:
    return set(kinds) == {"colocalisation"}


def compared_channels(parse: Parse, kinds: dict[str, int], mentions: list[tuple[int, int, str | None]]) -> dict[int, str]:
    """Roles for channel mentions (pos, channel, role found) with no role, when colocalisation is the only
    measurement and exactly two channels are named: the first named is the objects' channel, the other the
    partner's. Empty otherwise."""
    channels = list(dict.fromkeys(channel for _, channel, _ in mentions))
    if not only_colocalisation(kinds) or len(channels) != 2:
        return {}
    taken = {role for _, _, role in mentions if role is not None}
    order = {channels[0]: "objects", channels[1]: "partner"}
    if taken - {"objects", "partner"} or any(role is not None and role != order[c] for _, c, role in mentions):
        return {}  # a role given elsewhere disagrees with the order: leave the report
    return {pos: order[channel] for pos, channel, role in mentions if role is None}


def whole_image_scope(plan: AnalysisPlan, parse: Parse, vocab: Vocabulary) -> None:
    """'Pearson over the whole field': when colocalisation is the plan's only measurement, a whole-image phrase
    (a concept with ``scope: image`` in the vocabulary) is where it is measured: a note instead of a report."""
    from scopebot.code.plan_words import clause_numbers, phrase_of

    clause = clause_numbers(parse)
    for pos, idx in parse.concepts:
        if vocab.concepts[idx].get("scope") != "image":
            continue
        measures = {vocab.concepts[i].get("measure") for p, i in parse.concepts if clause[p] == clause[pos]} - {None}
        entry = f"{phrase_of(parse, pos)} (not in the plan)"
        if entry not in plan.not_understood:
            continue
        if only_colocalisation(plan.kinds()):
            plan.not_understood.remove(entry)
            plan.understood.append(f"'{phrase_of(parse, pos)}' -> colocalisation is measured over the whole image")
        elif measures == {"count"} and "count" in plan.kinds():  # "how many foci are there in the whole image"
            plan.not_understood.remove(entry)
            plan.understood.append(f"'{phrase_of(parse, pos)}' -> the objects are counted in the whole image")
