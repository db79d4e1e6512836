"""What word normalisation did to a request, as lines for ``plan.understood``.

:mod:`scopebot.code.normalise` marks each token it changed or classified with the typed ``source``, its
``section`` and a ``group``; :func:`notes` renders one line per group: "'nuc' -> 'nuclei' (abbreviation)",
"'hela' -> describes the sample (not measured)".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scopebot.code.planner import Token

_DESCRIPTIONS = {"sample": "describes the sample", "molecule": "names a protein, gene or dye of the sample",
                 "data": "describes the data or the instrument", "discourse": "a discourse word",
                 "plain": "an everyday word with no analysis meaning"}
_LABELS = {"abbreviation": "abbreviation", "spelling": "spelling", "synonym": "synonym", "object": "object name",
           "everyday": "everyday word"}


def notes(tokens: list[Token]) -> list[str]:
    """One line per normalisation, for ``plan.understood``: "'nuc' -> 'nuclei' (abbreviation)"."""
    out: list[str] = []
    seen: set[int] = set()
    for i, tok in enumerate(tokens):
        group = getattr(tok, "group", 0)
        if not group or group in seen or (tok.used and tok.used not in ("filler",) and
                                          getattr(tok, "section", "") in _DESCRIPTIONS):
            continue
        seen.add(group)
        section, source = tok.section, tok.source  # type: ignore[attr-defined]
        if section in _DESCRIPTIONS:
            what = _DESCRIPTIONS[section]
            out.append(f"'{source}' -> {what} (not measured)")
        else:
            words = " ".join(t.text for t in tokens[i:] if getattr(t, "group", 0) == group)
            out.append(f"'{source}' -> '{words}' ({_LABELS.get(section, section)})")
    return out
