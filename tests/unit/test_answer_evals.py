"""The ``answers`` and ``hallucination`` eval suites, scored with in-memory parts."""

from __future__ import annotations

from pathlib import Path

import typer
from test_answer_fixtures import retriever, settings, small_model
from typer.testing import CliRunner

from scopebot.answer.pipeline import AnswerPipeline
from scopebot.evals.datasets import AnswerItem
from scopebot.evals.suites import answers, hallucination
from scopebot.settings import PROJECT_ROOT

HAL_DATASET = PROJECT_ROOT / "evals" / "datasets" / "hallucination_v2.yaml"


def test_fact_coverage_counts_facts_with_any_alternative() -> None:
    facts = [["star-convex", "star convex"], ["round", "oval"], ["quantum"]]
    assert answers.fact_coverage("StarDist uses Star-Convex polygons for oval nuclei.", facts) == 2 / 3
    assert answers.fact_coverage("anything", []) == 0.0


def test_answers_suite_scores_answerable_and_unanswerable_items(tmp_path: Path) -> None:
    pipeline = AnswerPipeline(retriever(), small_model(), settings(tmp_path))
    good = AnswerItem(id="a1", question="Why does StarDist struggle with elongated cells?",
                      key_facts=[["star-convex"], ["elongated"]], expected_sources=["test-book"])
    fake = AnswerItem(id="u1", question="How do I configure the CellMagic3000 plugin for Fiji?", answerable=False,
                      reason="made up")
    results = [answers.score_item(pipeline, good), answers.score_item(pipeline, fake)]
    assert results[0].metrics["key_fact_coverage"] == 1.0 and results[0].metrics["false_abstention"] == 0.0
    assert results[0].metrics["source_hit"] == 1.0 and results[0].passed
    assert results[1].metrics["abstain_unanswerable"] == 1.0 and results[1].passed
    summary = answers.summarise(results)
    assert summary["invalid_citations_total"] == 0 and summary["citations_valid"] == 1.0
    assert summary["answer_rate"] == 1.0 and summary["abstain_unanswerable"] == 1.0


def test_hallucination_dataset_loads_and_every_check_detects_its_cases() -> None:
    ds = hallucination.load_hallucination_dataset(HAL_DATASET)
    assert len(ds.items) >= 30
    # no embedder: the learned support check uses the cosine only of the MiniLM it was trained with, and the
    # hash test double's bag-of-words cosine would only add noise to the support score
    results = [hallucination.score_item(ds, item, None) for item in ds.items]
    metrics = hallucination.summarise(results)
    for check in hallucination.CHECKS:
        assert metrics[f"recall[{check}]"] >= 0.9, check
        assert metrics[f"precision[{check}]"] >= 0.85, check
    assert metrics["clean_not_flagged"] >= 0.8


def test_hallucination_suite_command_writes_a_report(tmp_path: Path) -> None:
    app = typer.Typer()
    hallucination.register(app)
    app.command("noop")(lambda: None)  # keep typer in multi-command mode
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["hallucination", "--embedder", "none", "--out", str(out), "--quiet",
                                      "--min", "recall[invalid_citation]=1.0"])
    assert result.exit_code == 0, result.output
    assert (out / "report.json").is_file()
