"""The small composable evaluators of ``scopebot.evals.metrics``, checked on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from scopebot.evals.metrics import (
    AbstentionOutcome,
    abstention_scores,
    covered_facts,
    first_hit_rank,
    hit_at_k,
    keyword_coverage,
    latency_summary,
    pass_at_k,
    percentile,
    reciprocal_rank,
)


def test_keyword_coverage_counts_a_fact_once_when_any_alternative_occurs() -> None:
    text = "Otsu's method picks the threshold that maximises between-class variance."
    facts = [["otsu", "ridler"], "variance", ["watershed"], ["", "  "]]
    assert covered_facts(text, facts) == [True, True, False, False]
    assert keyword_coverage(text, facts) == 0.5
    assert keyword_coverage(text, []) == 0.0


def test_ranking_metrics_use_the_first_acceptable_name() -> None:
    ranked = ["Fiji", "CellProfiler", "StarDist", "cellpose"]
    acceptable = ["Cellpose", "stardist"]
    assert first_hit_rank(ranked, acceptable) == 3
    assert hit_at_k(ranked, acceptable, 2) == 0.0
    assert hit_at_k(ranked, acceptable, 3) == 1.0
    assert reciprocal_rank(ranked, acceptable) == pytest.approx(1 / 3)
    assert reciprocal_rank(ranked, ["ilastik"]) == 0.0
    assert first_hit_rank(["Fiji "], ["fiji"], normalise=lambda s: s.strip().lower()) == 1
    with pytest.raises(ValueError):
        hit_at_k(ranked, acceptable, 0)


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    # n=5 samples, c=2 correct: pass@1 = 2/5; pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    assert pass_at_k(5, 4, 2) == 1.0  # fewer than k failures: some k-subset always passes
    assert pass_at_k(3, 0, 1) == 0.0
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5))


def test_abstention_scores_separate_precision_and_abstention_correctness() -> None:
    items = [AbstentionOutcome(True, False, True), AbstentionOutcome(True, False, False),
             AbstentionOutcome(True, True), AbstentionOutcome(True, False, True),
             AbstentionOutcome(False, True), AbstentionOutcome(False, False, True)]
    scores = abstention_scores(items)
    assert scores["answered"] == 4.0
    # answered: 3 answerable (2 correct) + 1 unanswerable (never correct) -> 2/4
    assert scores["precision_of_answering"] == 0.5
    assert scores["abstention_on_unanswerable"] == 0.5
    assert scores["false_abstention"] == 0.25 and scores["answer_rate"] == 0.75


def test_abstention_scores_leave_out_ratios_without_a_denominator() -> None:
    scores = abstention_scores([AbstentionOutcome(False, True)])
    assert scores == {"answered": 0.0, "abstention_on_unanswerable": 1.0}


def test_latency_summary_interpolates_percentiles() -> None:
    secs = [0.1, 0.2, 0.3, 0.4, 1.0]
    s = latency_summary(secs)
    assert s["latency_p50_s"] == 0.3 and s["latency_max_s"] == 1.0
    assert s["latency_mean_s"] == 0.4
    assert s["latency_p90_s"] == pytest.approx(0.76)  # 0.4 + 0.6 * 0.6
    assert percentile([2.0], 95) == 2.0
    assert latency_summary([]) == {}
