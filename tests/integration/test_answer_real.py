"""The answer pipeline on the real index with the embedded SmolLM2 (structure only, never facts)."""

from __future__ import annotations

import pytest

from scopebot.citations import NOT_IN_SOURCES, find_citations
from scopebot.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    from scopebot.answer.pipeline import AnswerPipeline
    from scopebot.knowledge import KnowledgeBase
    from scopebot.llm import make_chat_model

    settings = Settings(llm_backend="embedded")  # the user's real home (~/.scopebot)
    try:
        kb = KnowledgeBase.open(settings)
    except Exception as exc:  # noqa: BLE001 - no index built on this machine
        pytest.skip(f"no usable index: {exc}")
    try:
        model = make_chat_model(settings)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"embedded model unavailable: {exc}")
    return AnswerPipeline(kb, model, settings)


def test_extractive_answer_has_valid_structure(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer("How does Noise2Void denoise without clean images?")
    data = answer.to_json()
    assert {"answer", "abstained", "citations", "checks", "backend", "timings"} <= set(data)
    assert data["backend"].startswith(("embedded", "gguf", "llama"))
    if not answer.abstained:
        assert set(find_citations(answer.answer_keys)) <= set(answer.context_keys)
        assert answer.citations and all(c.url for c in answer.citations)
        assert answer.checks.invalid_citations == 0


def test_generative_answer_with_smollm_passes_through_the_checks(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer("What is photobleaching?", mode="generative", strict=True)
    assert answer.mode == "generative"
    if answer.abstained:
        assert answer.answer.startswith(NOT_IN_SOURCES)
    else:
        assert set(find_citations(answer.answer_keys)) <= set(answer.context_keys)
        assert answer.checks.unsupported_sentences == []  # strict mode removed them
        assert answer.timings.first_token_ms is not None and answer.timings.generate_ms > 0


def test_made_up_plugin_abstains(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer('How do I configure the "CellMagic3000" plugin in Fiji?')
    assert answer.abstained and answer.closest_sources
