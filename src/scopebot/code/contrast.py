"""Contrastive negations: "in µm², not pixels", "in 3D, not on one slice", "not saved in the tif".

The planner reports a negation before a concept it cannot negate ("not (a negation before 'pixels')") and
the assistant declines. Often the negated phrase only says what the plan does not do anyway: it contrasts
with the plan's own choice. This is decided by ablation, without looking at the words: the negation and its
scope (to the end of its clause) are taken out and the request planned again. When that plan equals the
request's plan less this report (same fields, missing inputs and other reported words), the negated phrase
contributes nothing to the plan, so the plan already does "not X"; the report becomes a note in
``plan.understood`` and the scope's unplaced words are shown in ``plan.not_used``. When the scope changes the
plan ("not in the left half", "not the integrated density", "do not correct the background", "not 0.5 µm"),
the negation stays reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scopebot.code.normalise import CLAUSE_BREAKS

if TYPE_CHECKING:
    from scopebot.code.plan import AnalysisPlan, ImageMeta
    from scopebot.code.planner import Parse, Planner

REPORT = "{word} (a negation before '"


def read_contrasts(planner: Planner, parse: Parse, plan: AnalysisPlan, meta: ImageMeta | None,
                   unplaced: list[int]) -> set[int]:
    """Turn reported negations whose scope leaves the plan unchanged into notes; the positions of the unplaced
    words inside those scopes are returned (the caller shows them as not used)."""
    from scopebot.code.context_words import _span, signature

    texts = [t.text for t in parse.tokens]
    skip = {texts[i] for i in unplaced}
    freed: set[int] = set()
    notes: list[str] = []  # reports already turned into notes: the plan without a later scope still holds them
    for pos in parse.negations:
        prefix = REPORT.format(word=texts[pos])
        entry = next((w for w in plan.not_understood if w.startswith(prefix)), None)
        if entry is None:
            continue
        end = _span(texts, pos, CLAUSE_BREAKS)[1]
        without = planner.plan(" ".join(texts[:pos] + texts[end:]), meta, context=False)
        without.not_understood = [w for w in without.not_understood if w not in notes]
        at = plan.not_understood.index(entry)
        scope_text = " " + " ".join(texts[pos:end]) + " "
        inside = [w for w in plan.not_understood if w != entry and w.endswith(" (not in the plan)")
                  and f" {w[:-len(' (not in the plan)')]} " in scope_text]  # "not slice by slice": its own report
        rest = [w for k, w in enumerate(plan.not_understood) if k != at and w not in inside]
        mine = plan.model_copy(update={"not_understood": rest})
        scope = {i for i in unplaced if pos < i < end}
        if signature(without, skip) == signature(mine, skip):
            plan.not_understood = rest
            notes.append(entry)
            plan.understood.append(f"'{' '.join(texts[pos:end])}' -> says what the plan does not do "
                                   "(the plan is the same without it)")
            freed |= scope
    return freed
