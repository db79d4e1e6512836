"""Question-aware answers on the real index (extractive, structure only, never facts).

Fails (never skips) without the index: CI builds it before the tests.
"""

from __future__ import annotations

import pytest

from scopebot.citations import find_citations
from scopebot.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline():  # type: ignore[no-untyped-def]
    from scopebot.answer.factory import build_answer_pipeline

    settings = Settings(llm_backend="embedded")
    if not settings.index_dir.exists():
        pytest.fail(f"no index in {settings.home}: build it with `scopebot ingest` before the integration tests")
    return build_answer_pipeline(settings, extractive_only=True)


def test_comparison_gives_a_block_per_side(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer("Cellpose or StarDist for DAPI nuclei in confocal?")
    assert not answer.abstained, answer.abstain_reason
    assert "**Cellpose**:" in answer.answer and "**StarDist**:" in answer.answer
    assert set(find_citations(answer.answer_keys)) <= set(answer.context_keys)


def test_a_number_is_computed_from_a_cited_formula(pipeline) -> None:  # type: ignore[no-untyped-def]
    answer = pipeline.answer("How many parameters does a 5x5 convolution from 2 to 4 channels have?")
    assert not answer.abstained, answer.abstain_reason
    computed = [s for s in answer.sentences if s.source == "computed"]
    assert computed and computed[0].supported and computed[0].keys
    assert "Arithmetic run by" in answer.answer


def test_invented_names_end_in_an_abstention_about_them(pipeline) -> None:  # type: ignore[no-untyped-def]
    for question, name in [("How do I use viewer.add_cell_borders() in napari?", "viewer.add_cell_borders"),
                           ("What does chapter 19 of the Janelia book say about tracking?", "chapter 19")]:
        answer = pipeline.answer(question)
        assert answer.abstained and name in answer.abstain_reason, question
