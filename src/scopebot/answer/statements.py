"""What kind of statement a passage sentence is, before it may be quoted in an answer (issue 16).

Figure captions, catalogue metadata, maths, instructions and exercise steps ("Load blobs.tif and apply
StarDist to it."), and signposts ("In the next section we ...") are not statements about the topic.
Verbs and phrases are data (``data/sentence_cues.yaml``); this module applies them.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

FIGURE_RE = re.compile(r"^(?:fig(?:ure)?\.?\s*\d|table\s+\d|\(?source:|image credit|credit:)", re.IGNORECASE)
#: Figure-panel references mark caption text ("(left) noisy input and (right) restored image").
PANEL_RE = re.compile(r"\((?:left|right|top|bottom|middle|centre|center|inset|[a-h])\)", re.IGNORECASE)
#: Catalogue metadata and link lines ("Tags: ...", "See https://..."): not statements about the topic.
METADATA_RE = re.compile(r"^(?:tags|keywords|authors?|license|licen[cs]e|doi|cite|citation|documentation|source|"
                         r"inputs?|outputs?|format|can be used with)\s*:|https?://|www\.|\bTags:", re.IGNORECASE)
#: A catalogue entry's trailing metadata ("... nuclei. Tags: 2d, fluorescence"): cut, the statement kept.
TRAILING_METADATA_RE = re.compile(r"(?<=[.!?])\s+(?:Tags|Keywords|Authors?|Can be used with|License)\s*:.*$")
#: Display maths (``\[ ... \]``, ``$$ ... $$``) sits between sentences; it is cut out before splitting.
DISPLAY_MATH_RE = re.compile(r"\\\[.*?\\\]|\$\$.*?\$\$", re.DOTALL)
CUES_PATH = Path(__file__).resolve().parent.parent / "data" / "sentence_cues.yaml"
#: An exercise's file ("Load `../../data/blobs.tif` ..."): the sentence is a step of that exercise.
EXERCISE_FILE_RE = re.compile(r"`[^`]*(?:/|\.(?:tif|tiff|png|jpg|csv|czi|nd2|zarr|npy|h5))[^`]*`", re.IGNORECASE)


@lru_cache(maxsize=1)
def sentence_cues() -> dict:
    """Instruction verbs and signpost phrases (``data/sentence_cues.yaml``)."""
    return yaml.safe_load(CUES_PATH.read_text(encoding="utf-8"))


def is_instruction(sentence: str) -> bool:
    """A step the reader is told to do ("Load ... and apply StarDist to it."), or one a tutorial narrates
    ("We now train ..."), not a statement."""
    first = sentence.strip().split(maxsplit=1)[:1]
    if EXERCISE_FILE_RE.search(sentence):
        return True
    low = " ".join(sentence.lower().split())
    if any(low.startswith(f"{o} ") for o in sentence_cues().get("narration_openers", [])):
        return True  # "We now train the random forest classifier ...": a tutorial narrating its steps
    return bool(first) and first[0].lower().strip(",:") in set(sentence_cues()["instruction_verbs"])


def is_signpost(sentence: str) -> bool:
    """A sentence that points to other text ("In the next section we ...") rather than stating something."""
    low = sentence.lower()
    return any(cue in low for cue in sentence_cues()["signposts"])


#: Inline maths (``\\(\\geq 0.5\\)``): simple symbols are written out, anything else leaves the sentence out.
INLINE_MATH_RE = re.compile(r"\\\((.{1,60}?)\\\)")
_MATH_SYMBOLS = {r"\geq": "≥", r"\leq": "≤", r"\times": "×", r"\cap": "∩", r"\cup": "∪", r"\approx": "≈",
                 r"\pm": "±", r"\mu": "µ", r"\sigma": "σ", r"\lambda": "λ", r"\,": " "}


def plain_math(match: re.Match[str]) -> str:
    """An inline maths match written out ("\\(\\geq 0.5\\)" -> "≥ 0.5"), or unchanged when it is not simple."""
    text = re.sub(r"\\text\{([^{}]*)\}", r"\1", match.group(1))
    for tex, char in _MATH_SYMBOLS.items():
        text = text.replace(tex, char)
    return text.strip() if "\\" not in text and "{" not in text else match.group(0)


#: LaTeX left in the text ("$p_c(x)$", "\\frac"): unreadable when quoted.
MATH_RE = re.compile(r"\$[^$]*\$|\\(?:frac|sum|cdot|times|mathrm|left|right)\b|\$\$|\\\(|\\\[")
