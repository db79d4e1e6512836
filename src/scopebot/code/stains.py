"""Stain names as channel references for the vocabulary planner ('DAPI', 'GFP', OME channel names)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scopebot.answer.text import STOPWORDS, stem

if TYPE_CHECKING:
    from scopebot.code.plan import ImageMeta
    from scopebot.code.planner import Parse, Vocabulary

#: Words that may stand between a stain and its channel in a definition ("DAPI is channel 1").
_DEFINE_LINKS = {"is", "=", "in", "on", "(", ")", ":", "as", "the", "-", "channel", "ch", "are", "was", "my", "our",
                 "your", "a", "an", "that", "which"}  # "blue (that's the first channel)"


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _glossed(toks: list, pos: int, i: int, channels: list[tuple[int, int]]) -> bool:
    """'channel one is nucleus (hoechst)', 'channel 1 is the nuclear stain (DAPI)': a stain in parentheses right
    after what a channel is said to hold names that channel (no other channel mention between)."""
    k = pos + 1
    while k < len(toks) and toks[k].used == "channel":
        k += 1
    return (pos < i <= k + 5 and 0 < i and toks[i - 1].text == "(" and i + 1 < len(toks) and toks[i + 1].text == ")"
            and k < i and toks[k].text in ("is", "=", ":", "holds", "shows", "has")
            and not any(pos < p < i for p, _ in channels))


def resolve_stains(parse: Parse, vocab: Vocabulary, meta: ImageMeta | None) -> None:
    """Stain names ('DAPI', 'GFP', or any OME channel name) -> channel references.

    A stain next to a channel number ("DAPI is channel 1", "GFP (ch2)") defines it; other
    mentions are found by that definition, by the image's channel names, or, for one stain on a
    single-channel image, as that channel. Otherwise the stain is reported as unresolved.
    """
    toks = parse.tokens
    names = [_alnum(n) for n in (meta.channel_names if meta else [])]

    known = {w for phrase, _ in vocab.phrases for w in phrase} | vocab.fillers | STOPWORDS
    parts = [{p for p in re.split(r"[^a-z0-9]+", n.lower()) if len(p) >= 3 and not p.isdigit()}
             for n in (meta.channel_names if meta else [])]

    def by_name(word: str) -> int | None:
        """The channel whose name is ``word``, contains the stain ``word``, or has the otherwise
        unknown word as one of its parts ('Alexa 488 phalloidin'); None when not exactly one."""
        colour = vocab.stain_colours.get(word, ())  # "the green channel" on an image whose channels are DAPI, GFP
        hits = [k for k, name in enumerate(names) if name and (
            name == word or (word in vocab.stains and word in name)
            or (stem(word) not in known and word in parts[k]) or any(_alnum(st) in name for st in colour))]
        return hits[0] if len(hits) == 1 else None

    mentions = []
    for i, tok in enumerate(toks):
        word = _alnum(tok.text)
        if tok.used or not word or (word not in vocab.stains and (len(word) < 3 or by_name(word) is None)):
            continue
        mentions.append((i, word))
    defined: dict[str, int] = {}
    definitions: dict[str, list[int]] = {}  # stain -> positions of the channel mentions defining it
    uses = []
    for i, word in mentions:
        for pos, channel in parse.channels:
            lo, hi = sorted((i, pos))
            if (0 < hi - lo <= 4 and all(t.text in _DEFINE_LINKS or t.used == "channel" for t in toks[lo + 1:hi])) \
                    or _glossed(toks, pos, i, parse.channels):
                defined[word] = channel
                definitions.setdefault(word, []).append(pos)
                if word in vocab.stain_roles:  # "DAPI is in the first channel": that channel holds the nuclei
                    parse.channel_roles[pos] = vocab.stain_roles[word]
                toks[i].used = "stain"
                break
        else:
            uses.append((i, word))
    single = meta is None or meta.channels == 1
    distinct = {w for _, w in uses if w not in defined and by_name(w) is None}
    for i, word in uses:
        channel = defined.get(word, by_name(word))
        if channel is None and single and len(distinct) == 1:
            channel = 0
        if channel is None:
            toks[i].used = "stain"
            parse.unresolved_stains.append(toks[i].text)
        else:
            toks[i].used = "channel"
            parse.channels.append((i, channel))
            name_parts = set(re.split(r"[^a-z0-9]+", (meta.channel_names[channel] if meta and channel < len(
                meta.channel_names) else "").lower()))
            for nxt in toks[i + 1:i + 3]:  # "Alexa 488", "Alexa Fluor 488": the rest of the channel's name
                if nxt.used or _alnum(nxt.text) not in name_parts - {""}:
                    break
                nxt.used = "channel"
    # a definition is a reference only when its stain is not named elsewhere ("... (DAPI is channel 1)")
    named = {word for _, word in uses}
    drop = {pos for word, positions in definitions.items() if word in named for pos in positions}
    parse.channels = sorted(c for c in parse.channels if c[0] not in drop)
