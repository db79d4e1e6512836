"""Small, pure evaluators shared by the eval suites: each takes plain values and returns numbers.

They are deliberately free of I/O and of scopebot objects so a suite (or a user's notebook) can
compose them: a suite turns its pipeline's output into names, texts and booleans, and these
functions turn those into scores.

* :func:`keyword_coverage` — share of facts whose keyword alternatives occur in a text;
* :func:`first_hit_rank`, :func:`hit_at_k`, :func:`reciprocal_rank` — ranking quality;
* :func:`pass_at_k` — the unbiased pass@k estimator (defined once, in :mod:`scopebot.code.humaneval`);
* :func:`abstention_scores` — precision of answering and abstention correctness;
* :func:`latency_summary` — percentiles of per-item seconds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Fact = str | Sequence[str]


def _alternatives(fact: Fact) -> list[str]:
    return [fact] if isinstance(fact, str) else [str(a) for a in fact]


def covered_facts(text: str, facts: Sequence[Fact]) -> list[bool]:
    """For each fact, whether any of its keyword alternatives is in ``text`` (case-insensitive substring).

    A fact is either one keyword or a list of alternatives (``["Otsu", "Otsu's method"]``); empty
    alternatives never match.
    """
    low = text.lower()
    return [any(a.strip() and a.strip().lower() in low for a in _alternatives(f)) for f in facts]


def keyword_coverage(text: str, facts: Sequence[Fact]) -> float:
    """Share of ``facts`` covered by ``text`` (0.0 when there are no facts)."""
    hits = covered_facts(text, facts)
    return sum(hits) / len(hits) if hits else 0.0


def first_hit_rank(ranked: Sequence[str], acceptable: Iterable[str],
                   normalise: Callable[[str], str] = str.lower) -> int | None:
    """1-based rank of the first ranked name that is acceptable (after ``normalise``), or None."""
    wanted = {normalise(a) for a in acceptable}
    for rank, name in enumerate(ranked, start=1):
        if normalise(name) in wanted:
            return rank
    return None


def hit_at_k(ranked: Sequence[str], acceptable: Iterable[str], k: int,
             normalise: Callable[[str], str] = str.lower) -> float:
    """1.0 when an acceptable name is among the first ``k`` ranked names, else 0.0."""
    if k < 1:
        raise ValueError("k must be at least 1")
    rank = first_hit_rank(ranked, acceptable, normalise)
    return float(rank is not None and rank <= k)


def reciprocal_rank(ranked: Sequence[str], acceptable: Iterable[str],
                    normalise: Callable[[str], str] = str.lower) -> float:
    """1/rank of the first acceptable name (0.0 when none is ranked); its mean over items is MRR."""
    rank = first_hit_rank(ranked, acceptable, normalise)
    return 1.0 / rank if rank else 0.0


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for ``c`` passing samples out of ``n`` (re-exported from the code assistant)."""
    from scopebot.code.humaneval import pass_at_k as _pass_at_k

    return _pass_at_k(n, c, k)


@dataclass(frozen=True)
class AbstentionOutcome:
    """One answered-or-not question: was it answerable, did the system abstain, was the answer right.

    ``correct`` is only read for items that were answered (any truthy value counts as correct).
    """

    answerable: bool
    abstained: bool
    correct: bool = False


def abstention_scores(items: Iterable[AbstentionOutcome]) -> dict[str, float]:
    """Precision of answering and abstention correctness.

    * ``answered`` — number of items answered (not abstained);
    * ``precision_of_answering`` — correct / answered, where an answer to an unanswerable question is
      never correct (it can only be made up);
    * ``abstention_on_unanswerable`` — abstained / unanswerable;
    * ``false_abstention`` — abstained / answerable (abstaining when the sources had the answer);
    * ``answer_rate`` — answered / answerable.

    Ratios with an empty denominator are left out rather than reported as 0 or 1.
    """
    items = list(items)
    answered = [it for it in items if not it.abstained]
    answerable = [it for it in items if it.answerable]
    unanswerable = [it for it in items if not it.answerable]
    out: dict[str, float] = {"answered": float(len(answered))}
    if answered:
        correct = sum(1 for it in answered if it.answerable and it.correct)
        out["precision_of_answering"] = round(correct / len(answered), 4)
    if unanswerable:
        out["abstention_on_unanswerable"] = round(sum(it.abstained for it in unanswerable) / len(unanswerable), 4)
    if answerable:
        abstained = sum(it.abstained for it in answerable)
        out["false_abstention"] = round(abstained / len(answerable), 4)
        out["answer_rate"] = round(1 - abstained / len(answerable), 4)
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile ``q`` in [0, 100] of non-empty ``values``."""
    if not values:
        raise ValueError("percentile of no values")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def latency_summary(seconds: Iterable[float]) -> dict[str, float]:
    """Mean, p50, p90, p95 and max of per-item seconds (empty dict when there are none)."""
    values = [float(s) for s in seconds]
    if not values:
        return {}
    return {"latency_mean_s": round(statistics.fmean(values), 4),
            "latency_p50_s": round(percentile(values, 50), 4),
            "latency_p90_s": round(percentile(values, 90), 4),
            "latency_p95_s": round(percentile(values, 95), 4),
            "latency_max_s": round(max(values), 4)}
