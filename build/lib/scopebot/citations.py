"""Constants shared by prompts and checkers: defined once, used everywhere.

Citation keys look like ``[bk-3f9a2c1d]``: a short source-kind prefix and 8 hex digits of the
chunk content hash. Prompts tell the model to cite with exactly this format and the citation checker
parses exactly this format.
"""

from __future__ import annotations

import hashlib
import re

#: Prefix of a citation key per source kind.
KIND_PREFIX: dict[str, str] = {
    "book": "bk",
    "registry": "rg",
    "model-zoo": "mz",
    "training": "tr",
    "forum": "fm",
}
KEY_HEX_LEN = 8
#: Regex for one citation key (without brackets).
KEY_PATTERN = r"(?:bk|rg|mz|tr|fm)-[0-9a-f]{8}"
#: Regex for one inline citation as written in answers: ``[bk-3f9a2c1d]``.
CITATION_RE = re.compile(r"\[(" + KEY_PATTERN + r")\]")
#: Loose pattern that also catches malformed or invented keys (for counting invalid citations).
LOOSE_CITATION_RE = re.compile(r"\[([a-z]{2}-[0-9a-zA-Z]{4,16})\]")

#: The exact phrase an answer starts with when scopebot abstains.
NOT_IN_SOURCES = "I could not find this in my sources."


def make_key(kind: str, *parts: str) -> str:
    """Stable citation key from the chunk's identity and content."""
    prefix = KIND_PREFIX.get(kind, "xx")
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:KEY_HEX_LEN]
    return f"{prefix}-{digest}"


def format_citation(key: str) -> str:
    return f"[{key}]"


def find_citations(text: str) -> list[str]:
    """All well-formed citation keys in ``text``, in order of appearance (duplicates kept)."""
    return CITATION_RE.findall(text)
