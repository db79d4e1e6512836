"""Positivity read from a number in the request (used by :mod:`scopebot.code.plan_rules`).

A share of objects above a stated intensity, or a count of objects above a plain number in another channel, is a
positivity measurement with that number as the marker's threshold; anything less definite is left to the other
rules (and reported there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary


def share_above_threshold(parse: Parse, vocab: Vocabulary, kinds: dict[str, int]) -> None:
    """'the fraction of nuclei with a ch2 signal above 300': a share of objects whose intensity is above a
    stated number is positivity with that threshold (the number is then read as the marker's threshold).
    'below' is left alone (positivity counts the objects above), and so is any share without a number."""
    share = any(vocab.concepts[idx].get("needs") == "positivity" for _, idx in parse.concepts)
    contexts = {vocab.concepts[idx].get("context") for _, idx in parse.concepts}
    compared = bool(contexts & {"greater", "greater_prep"}) and not contexts & {"less", "less_prep"}  # "above"
    if share and compared and "intensity" in kinds and "positivity" not in kinds and any(
            q.dim == "bare" for q in parse.quantities):
        kinds["positivity"] = kinds.pop("intensity")


def above_in_channel(parse: Parse, vocab: Vocabulary, kinds: dict[str, int], clause: list[int]) -> list[int]:
    """'How many of the nuclei (channel 1) are above 500 in channel 2?': a count of objects above a plain
    number in another channel is a positivity count with that threshold. Returns the channel mention."""
    if "count" not in kinds or {"positivity", "intensity"} & set(kinds) or len(parse.channels) < 2:
        return []
    toks = parse.tokens
    for q in parse.quantities:
        before = toks[q.pos - 1].used if q.pos > 0 else None
        if q.dim != "bare" or not (before or "").startswith("concept:") or vocab.concepts[int(
                before.split(":")[1])].get("context") not in ("greater", "greater_prep") or (
                q.pos > 1 and toks[q.pos - 2].text in ("larger", "bigger", "wider", "longer")):  # sizes stay sizes
            continue
        after = [cp for cp, _ in parse.channels if q.pos < cp <= q.end + 4 and clause[cp] == clause[q.pos]]
        if after and any(cp < q.pos for cp, _ in parse.channels):  # the objects' channel is named too
            return after[:1]
    return []
