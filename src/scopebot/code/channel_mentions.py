"""Channel mentions in a request: "channel 2", "the second channel", "ch1", "channels 1 and 2", "the DAPI channel (1)".

A number before "channels" ("two channels", "a 2-channel image") is a count of channels, not a reference; an
ordinal after "the" stands for a channel once the request has named one ("nuclei from the first").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scopebot.code.normalise import CLAUSE_BREAKS
from scopebot.code.plan_quantities import number

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

#: Nouns for the data itself: after "2-channel" they make the number a count of channels.
DATA_NOUNS = {"image", "images", "stack", "stacks", "file", "files", "tiff", "tif", "movie", "data", "dataset",
              "acquisition", "recording", "picture", "experiment", "confocal", "widefield", "z-stack", "timelapse",
              "time-lapse", "series", "overlay", "composite"}


def read_channels(parse: Parse, vocab: Vocabulary) -> None:
    """Channel mentions -> ``parse.channels`` (token position, 0-based channel); counts of channels are fillers."""
    toks = parse.tokens
    words = vocab.channel_words
    for i, tok in enumerate(toks):
        text = tok.text
        count = text in vocab.cardinals or (number(text) is not None and "." not in text and not (
            i > 0 and toks[i - 1].text.rstrip("s") in words))
        plural = i + 1 < len(toks) and toks[i + 1].text in ("channels", "chans", "colours", "colors")
        singular = i + 2 < len(toks) and toks[i + 1].text in ("channel", "colour", "color") and \
            toks[i + 2].text in DATA_NOUNS  # "a 2-channel image" (not "nuclei in 1 channel")
        if count and (plural or singular):
            tok.used = toks[i + 1].used = "filler"  # "two channels", "a 2-channel image": a count
        elif text in vocab.ordinals and i + 1 < len(toks) and toks[i + 1].text.rstrip("s") in words:
            parse.channels.append((i, vocab.ordinals[text] - 1))
            tok.used = toks[i + 1].used = "channel"
        elif text.rstrip("s") in words and i + 3 < len(toks) and toks[i + 1].text == "(" and \
                toks[i + 3].text == ")" and (number(toks[i + 2].text) or 0) >= 1 and \
                float(toks[i + 2].text).is_integer():  # "the DAPI channel (1)"
            parse.channels.append((i, int(float(toks[i + 2].text)) - 1))
            for t in toks[i:i + 4]:
                t.used = "channel"
        elif text.rstrip("s") in words and i + 1 < len(toks):
            nxt = toks[i + 1].text
            num = number(nxt) if number(nxt) is not None else (vocab.ordinals.get(nxt)
                                                                 or vocab.cardinals.get(nxt))
            if num is not None and float(num).is_integer() and num >= 1:
                parse.channels.append((i, int(num) - 1))
                tok.used = toks[i + 1].used = "channel"
                if i + 3 < len(toks) and toks[i + 2].text in ("and", ",", "&", "vs", "versus") and \
                        number(toks[i + 3].text) is not None:  # "channels 1 and 2"
                    parse.channels.append((i, int(float(toks[i + 3].text)) - 1))  # one phrase, one role
                    toks[i + 2].used = toks[i + 3].used = "channel"
        elif re.fullmatch(r"(?:c|ch)(\d)", text):
            parse.channels.append((i, int(text.lstrip("ch")) - 1))
            tok.used = "channel"
    counted = any((t.text in vocab.cardinals or t.text.isdigit()) and toks[k + 1].text.rstrip("s") in (
        "channel", "colour", "color") for k, t in enumerate(toks[:-1]))  # "an image with two channels"
    if parse.channels:  # "nuclei from the first", "partners in the second": the channel word left out
        for i, tok in enumerate(toks):
            one = counted and i + 1 < len(toks) and toks[i + 1].text == "one"  # "two channels, the first one ..."
            if not tok.used and tok.text in vocab.ordinals and i > 0 and toks[i - 1].text == "the" and (
                    i + 1 == len(toks) or toks[i + 1].text in CLAUSE_BREAKS or one):
                parse.channels.append((i, vocab.ordinals[tok.text] - 1))
                tok.used = "channel"
                if one:
                    toks[i + 1].used = "channel"
        parse.channels.sort()


#: words that define what a channel holds ("channel 2 is the protein", "ch1 = nuclei", "channel 1: DAPI nuclei")
_DEFINES = frozenset({"is", "are", "was", "=", ":", "holds", "has", "contains", "shows"})
_DETERMINERS = frozenset({"the", "my", "our", "a", "an", "your", "their", "its", "just", "only"})
_ROLES = frozenset({"objects", "intensity", "marker", "partner"})
#: words before a channel mention that leave it the subject of its clause
_SUBJECT_LEADS = CLAUSE_BREAKS | {"and", "the", "while", "whereas", "but", "so", "then", "also", "!", "my", "our"}


def defined_roles(parse: Parse, vocab: Vocabulary) -> None:
    """'channel one is my nuclear stain and channel two is the protein': a channel mention followed by a defining
    verb and a word with a role gets that role (``parse.channel_roles``), before the nearest-word rule, which would
    give "channel two" the objects' role of "nuclear" three words before it. A role found otherwise is kept."""
    toks = parse.tokens
    role_at = {p: vocab.concepts[i].get("role") for p, i in parse.concepts}
    for pos, _ in parse.channels:
        if pos in parse.channel_roles or (pos > 0 and toks[pos - 1].text not in _SUBJECT_LEADS):
            continue  # "the nuclei in channel 1 are bright": the nuclei are the subject, not the channel
        k = pos
        while k < len(toks) and toks[k].used == "channel":
            k += 1
        if k >= len(toks) or toks[k].text not in _DEFINES:
            continue
        k += 1
        while k < len(toks) and toks[k].text in _DETERMINERS:
            k += 1
        if role_at.get(k) in _ROLES:
            parse.channel_roles[pos] = str(role_at[k])


#: nouns of a label: a compartment word right before one says what the label marks ("a membrane marker")
LABEL_NOUNS = frozenset({"marker", "markers", "stain", "stains", "staining", "dye", "dyes", "label", "labels",
                         "reporter", "reporters", "antibody", "antibodies", "probe", "probes", "channel"})


def names_a_label(parse: Parse, pos: int) -> bool:
    """Whether the phrase at ``pos`` (one or more tokens used alike) stands right before a label noun: "a membrane
    marker", "the cytoplasmic stain", "the membrane channel" describe a label, not a region to measure in."""
    toks = parse.tokens
    k = pos
    while k < len(toks) and toks[k].used == toks[pos].used:
        k += 1
    return k < len(toks) and toks[k].text in LABEL_NOUNS
