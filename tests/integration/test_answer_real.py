"""The answer pipeline on the real index with the embedded SmolLM2 (structure only, never facts).

Nothing here turns an error into a skip: a missing index or model fails with how to fix it (CI builds
the index before the tests). Questions that need an answer must get one; an abstention fails them.
"""

from __future__ import annotations

import pytest

from scopebot.citations import NOT_IN_SOURCES, find_citations
from scopebot.settings import Settings

pytestmark = pytest.mark.integration

ANSWERABLE = "How does Noise2Void denoise without clean images?"


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    from scopebot.answer.pipeline import AnswerPipeline
    from scopebot.knowledge import KnowledgeBase
    from scopebot.llm import make_chat_model

    settings = Settings(llm_backend="embedded")  # the user's real home (~/.scopebot)
    if not settings.index_dir.exists():
        pytest.fail(f"no index in {settings.home}: build it with `scopebot ingest` before the integration tests")
    return AnswerPipeline(KnowledgeBase.open(settings), make_chat_model(settings), settings)


def test_extractive_answer_has_valid_structure(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer(ANSWERABLE)
    data = answer.to_json()
    assert {"answer", "abstained", "citations", "checks", "backend", "timings"} <= set(data)
    assert data["backend"] == "embedded:SmolLM2-135M-Instruct" and answer.mode == "extractive"
    assert not answer.abstained, f"an answerable question abstained: {answer.abstain_reason}"
    assert set(find_citations(answer.answer_keys)) <= set(answer.context_keys)
    assert answer.citations and all(c.url for c in answer.citations)
    assert answer.checks.invalid_citations == 0


def test_generative_answer_with_smollm_passes_through_the_checks(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer(ANSWERABLE, mode="generative", strict=False)
    assert answer.mode == "generative", "the local model was unavailable (see `scopebot models --self-test`)"
    assert not answer.abstained, f"the embedded model gave no answer: {answer.abstain_reason}"
    assert answer.answer.strip() and not answer.answer.startswith(NOT_IN_SOURCES)
    assert set(find_citations(answer.answer_keys)) <= set(answer.context_keys)  # invented keys were removed
    assert answer.sentences and all(s.source in ("model", "extractive") for s in answer.sentences)
    assert 0.0 <= answer.checks.supported_fraction <= 1.0
    assert answer.timings.first_token_ms is not None and answer.timings.generate_ms > 0


def test_made_up_plugin_abstains(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer('How do I configure the "CellMagic3000" plugin in Fiji?')
    assert answer.abstained and answer.closest_sources
    assert answer.answer.startswith(NOT_IN_SOURCES)
