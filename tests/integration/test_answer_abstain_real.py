"""The learned abstention decision v2 on the real index with MiniLM: it is the model in use, it takes
its measures, and it separates a question next to a covered topic from an everyday covered one.

The questions are written here (not copied from any eval set). Nothing turns an error into a skip."""

from __future__ import annotations

import pytest

from scopebot.answer.abstain_model import VERSIONS
from scopebot.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    from scopebot.answer.factory import build_answer_pipeline

    settings = Settings()
    if not settings.index_dir.exists():
        pytest.fail(f"no index in {settings.home}: build it with `scopebot ingest` before the integration tests")
    return build_answer_pipeline(settings, extractive_only=True)


def test_version_2_is_used_and_takes_its_measures(pipeline) -> None:  # type: ignore[no-untyped-def]
    assert pipeline.abstain_model is not None, "the shipped abstention model does not fit the embedder"
    assert pipeline.abstain_model.features == VERSIONS["2"]
    decision = pipeline.retrieve("Why do people split their annotated images into training and validation sets?").decision
    assert decision.sentence_similarity is not None and 0.0 < decision.sentence_similarity <= 1.0
    assert decision.passage_coverage is not None and 0.0 < decision.passage_coverage <= 1.0
    assert not decision.abstain, decision.reason


def test_a_question_next_to_a_covered_topic_scores_below_a_covered_one(pipeline) -> None:  # type: ignore[no-untyped-def]
    near = pipeline.retrieve("Which CUDA release will StarDist require in its releases next year?").decision
    covered = pipeline.retrieve("How does StarDist describe the shape of each nucleus?").decision
    assert near.time_anchored and not covered.time_anchored
    assert near.answerable is not None and covered.answerable is not None
    assert near.answerable < covered.answerable
    assert near.abstain and not covered.abstain, (near.reason, covered.reason)
