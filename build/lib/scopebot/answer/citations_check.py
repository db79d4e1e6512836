"""Check 1 — citation validity: every citation key must name a passage that was in the context.

Markers that look like citations (``[xx-....]``, well-formed or not) but whose key was not given
to the model are removed from the text and counted. Usable alone on any answer text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, Field

from scopebot.citations import LOOSE_CITATION_RE


class CitationCheck(BaseModel):
    """Result of :func:`check_citations`."""

    text: str = Field(description="The text with invalid citation markers removed.")
    invalid_keys: list[str] = Field(default_factory=list, description="Invalid keys in order (duplicates kept).")
    valid_keys: list[str] = Field(default_factory=list, description="Valid keys in order of first use.")

    @property
    def invalid_count(self) -> int:
        return len(self.invalid_keys)


def check_citations(text: str, context_keys: Iterable[str]) -> CitationCheck:
    """Remove and count citation markers whose key is not one of ``context_keys``."""
    allowed = set(context_keys)
    invalid: list[str] = []
    valid: list[str] = []

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in allowed:
            if key not in valid:
                valid.append(key)
            return match.group(0)
        invalid.append(key)
        return ""

    cleaned = LOOSE_CITATION_RE.sub(replace, text)
    if invalid:
        cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned))
    return CitationCheck(text=cleaned.strip(), invalid_keys=invalid, valid_keys=valid)
