"""Motion words that describe the biology, not a movie: "p65 moves into the nucleus", "IRF3 should move into the
nucleus when the cells respond".

The vocabulary reads "move", "moves", "migrate" as tracking (a time-lapse, speeds); "goes", "enters" it does not
know. In a sentence about where a
molecule goes in the cell they say what the sample does, not what to measure. Structural reading, without
looking at the molecule: a motion verb followed within three words by a direction ("into", "to", "out of",
"towards") and then, within three more, a cell compartment or an object noun, is a **translocation** (a
description), when

- the request names no other tracking word (track, speed, velocity, path, trajectory, travelled ...), and
- the request names another measurement (an intensity, a count, ...): the motion is not the request.

Anything else stays tracking (and a still image then reports the missing time-lapse, as before). The word is
shown in ``plan.understood`` as a description, never dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.normalise import CLAUSE_BREAKS

if TYPE_CHECKING:
    from scopebot.code.planner import Parse, Vocabulary

#: ``Token.used`` of a motion word read as a translocation
USED = "translocation"
MOTION_VERBS = frozenset({"move", "moves", "moved", "moving", "migrate", "migrates", "migrated", "migrating",
                          "translocate", "translocates", "translocated", "translocating", "shuttle", "shuttles",
                          "shuttled", "shuttling", "relocate", "relocates", "relocated", "relocalise",
                          "relocalises", "relocalize", "relocalizes"})
#: verbs of going the vocabulary does not know (unplaced words): read the same way
GOING = frozenset({"go", "goes", "went", "gone", "going", "enter", "enters", "entered", "entering", "travels"})
DIRECTIONS = frozenset({"into", "to", "out", "towards", "toward", "inside", "onto", "away"})
COMPARTMENTS = frozenset({"nucleus", "nuclei", "cytoplasm", "cytosol", "membrane", "nucleolus", "nucleoli",
                          "mitochondria", "mitochondrion", "cortex", "periphery", "golgi", "er", "lysosomes",
                          "lysosome", "endosomes", "vesicles", "granules", "cilium", "cilia", "centrosome",
                          "synapse", "synapses", "surface", "compartment", "compartments"})
_SPAN = 3


def translocations(parse: Parse, vocab: Vocabulary) -> None:
    """Motion verbs of translocation sentences (module text) -> ``Token.used = USED``, out of ``parse.concepts``."""
    toks = parse.tokens
    tracking = [(p, i) for p, i in parse.concepts if vocab.concepts[i].get("measure") == "tracking"]
    if not (tracking or any(not t.used and t.text in GOING for t in toks)) or not any(vocab.concepts[i].get("measure") not in (None, "tracking") for _, i in parse.concepts):
        return
    motion = [(p, i) for p, i in tracking if toks[p].text in MOTION_VERBS and parse.spans.get(p, 1) == 1]
    if len(motion) != len(tracking):
        return  # "track ...", "how fast ...": the request asks for motion
    motion += [(p, -1) for p, t in enumerate(toks) if not t.used and t.text in GOING]  # "p65 goes into the nucleus"
    objects = {p for p, i in parse.concepts if vocab.concepts[i].get("object_nouns")}
    found = []
    for p, i in motion:
        ahead = []
        for k in range(p + 1, min(len(toks), p + 1 + 2 * _SPAN)):
            if toks[k].text in CLAUSE_BREAKS:
                break
            ahead.append(k)
        d = next((k for k in ahead[:_SPAN] if toks[k].text in DIRECTIONS), None)
        if d is None or not any(k in objects or toks[k].text in COMPARTMENTS for k in ahead if d < k <= d + _SPAN):
            return  # one motion word that is not a translocation: leave every reading as it is
        found.append((p, i))
    for p, i in found:
        toks[p].used = USED
        if i >= 0:
            parse.concepts.remove((p, i))
