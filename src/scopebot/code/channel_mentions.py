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
