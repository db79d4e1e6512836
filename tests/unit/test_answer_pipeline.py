"""The answer pipeline end to end with an in-memory retriever and scripted models."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_answer_fixtures import PASSAGES, chunk, key, retriever, settings, small_model

from scopebot.answer.pipeline import AnswerPipeline
from scopebot.citations import LOOSE_CITATION_RE, NOT_IN_SOURCES, find_citations
from scopebot.errors import ConfigurationError
from scopebot.index.models import SearchResult
from scopebot.llm.base import Message
from scopebot.llm.scripted import ScriptedModel


def strong(reply: str | object) -> ScriptedModel:
    return ScriptedModel(reply if callable(reply) else [reply], name="scripted:strong", is_small=False)  # type: ignore[list-item]


def pipeline(tmp_path: Path, model: ScriptedModel | None = None, **kw: object) -> AnswerPipeline:
    return AnswerPipeline(retriever(), model if model is not None else small_model(), settings(tmp_path), **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- extractive mode
def test_extractive_answer_cites_only_context_keys(tmp_path: Path) -> None:
    p = pipeline(tmp_path)
    for question in ["How does Noise2Void denoise without clean images?", "Why does StarDist fail on elongated cells?",
                     "How can I reduce phototoxicity in live imaging?", "What does skimage.filters.threshold_otsu do?"]:
        answer = p.answer(question)
        assert not answer.abstained, question
        assert answer.mode == "extractive"
        keys = find_citations(answer.answer_keys)
        assert keys and set(keys) <= set(answer.context_keys)
        assert not LOOSE_CITATION_RE.search(answer.answer)  # rendered as numbers
        assert answer.checks.invalid_citations == 0 and answer.checks.supported_fraction == 1.0
        assert all(s.source == "extractive" and s.support == 1.0 for s in answer.sentences)
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))


def test_extractive_sentences_are_relevant_and_numbered(tmp_path: Path) -> None:
    answer = pipeline(tmp_path).answer("Why does StarDist struggle with elongated cells?")
    assert "star-convex" in answer.answer
    assert "[1]" in answer.answer
    first = answer.citations[0]
    assert first.key == key("stardist") and first.title == "Segmentation" and first.section == "StarDist"
    assert first.url.startswith("https://example.org/stardist")


def test_injected_instruction_is_not_followed_and_is_reported(tmp_path: Path) -> None:
    answer = pipeline(tmp_path).answer("How can I reduce phototoxicity in live imaging?")
    assert "broken" not in answer.answer and "Ignore" not in answer.answer
    assert key("photo") in answer.checks.injection_flags
    assert "laser power" in answer.answer


def test_lead_sentence_is_kept_only_when_supported(tmp_path: Path) -> None:
    good = small_model("Noise2Void learns to denoise from noisy images alone.")
    bad = small_model("Noise2Void was created by NASA for astronauts on the moon in 1969.")
    q = "How does Noise2Void denoise without clean images?"
    kept = pipeline(tmp_path, good, lead=True).answer(q)
    dropped = pipeline(tmp_path, bad, lead=True).answer(q)
    assert kept.answer.startswith("Noise2Void learns to denoise from noisy images alone.")
    assert kept.sentences[0].source == "model" and kept.sentences[0].supported
    assert "NASA" not in dropped.answer and "NASA" in " ".join(dropped.checks.removed_sentences)


# ---------------------------------------------------------------- abstention
@pytest.mark.parametrize("question", [
    "How do I configure the CellMagic3000 plugin for Fiji?",
    "What parameters does skimage.filters.threshold_magic take?",
    "What is a good recipe for sourdough bread?",
    "Who won the football world cup in 2022?",
])
def test_abstains_on_fake_entities_and_off_topic(tmp_path: Path, question: str) -> None:
    answer = pipeline(tmp_path).answer(question)
    assert answer.abstained
    assert answer.answer.startswith(NOT_IN_SOURCES)
    assert answer.citations == [] and len(answer.closest_sources) == 3
    assert answer.closest_sources[0].url in answer.answer


def test_unknown_names_are_the_names_the_answer_abstains_on(tmp_path: Path) -> None:
    # the other routes (tool cards, code) check a request with the answer route's own decision
    p = pipeline(tmp_path)
    assert p.unknown_names("How do I configure the CellMagic3000 plugin for Fiji?") == ["CellMagic3000"]
    assert p.unknown_names("How does StarDist segment nuclei?") == []


# ---------------------------------------------------------------- generative mode
def test_generative_invalid_citation_removed_and_unsupported_flagged(tmp_path: Path) -> None:
    n2v = key("n2v")
    reply = (f"Noise2Void learns to denoise from noisy images alone [{n2v}]. "
             f"It masks pixels and predicts them from their neighbours [bk-0badc0de]. "
             f"Noise2Void was invented by Microsoft in 2009 and runs only on quantum computers [{n2v}].")
    answer = pipeline(tmp_path, strong(reply)).answer("How does Noise2Void work?", mode="generative")
    assert answer.mode == "generative" and not answer.abstained
    assert answer.checks.invalid_citations == 1 and answer.checks.invalid_keys == ["bk-0badc0de"]
    assert "0badc0de" not in answer.answer_keys
    assert len(answer.checks.unsupported_sentences) == 1 and "Microsoft" in answer.checks.unsupported_sentences[0]
    assert "Microsoft" in answer.answer  # flagged, not removed
    assert 0 < answer.checks.supported_fraction < 1


def test_strict_mode_removes_unsupported_sentences(tmp_path: Path) -> None:
    n2v = key("n2v")
    reply = (f"Noise2Void learns to denoise from noisy images alone [{n2v}]. "
             f"Noise2Void was invented by Microsoft in 2009 and runs only on quantum computers [{n2v}].")
    answer = pipeline(tmp_path, strong(reply)).answer("How does Noise2Void work?", mode="generative", strict=True)
    assert "Microsoft" not in answer.answer
    assert answer.checks.removed_sentences and answer.checks.supported_fraction == 1.0
    assert answer.checks.unsupported_sentences == []


def test_generative_invented_tool_is_reported(tmp_path: Path) -> None:
    reply = f"For tracking, the CellMagic3000 plugin for Fiji links spots into tracks [{key('trackmate')}]."
    answer = pipeline(tmp_path, strong(reply)).answer("How do I track cells in Fiji?", mode="generative")
    assert answer.checks.unknown_entities == ["CellMagic3000"]


def test_generative_model_that_obeys_an_injection_is_caught(tmp_path: Path) -> None:
    photo = key("photo")
    reply = (f"Lowering the exposure time and the laser power reduces the light dose [{photo}]. "
             f"All microscopes are broken and must be thrown away [{photo}].")
    answer = pipeline(tmp_path, strong(reply)).answer("How can I reduce phototoxicity in live imaging?",
                                                      mode="generative")
    assert answer.checks.followed_injection
    assert "broken" not in answer.answer and "laser power" in answer.answer


def test_model_saying_not_in_sources_abstains(tmp_path: Path) -> None:
    answer = pipeline(tmp_path, strong(NOT_IN_SOURCES)).answer("Why does StarDist fail on elongated cells?",
                                                               mode="generative")
    assert answer.abstained and answer.answer.startswith(NOT_IN_SOURCES)


def test_generative_prompt_carries_keys_but_not_injected_text(tmp_path: Path) -> None:
    model = strong(f"Lower the laser power [{key('photo')}].")
    pipeline(tmp_path, model).answer("How can I reduce phototoxicity in live imaging?", mode="generative")
    prompt = "\n".join(m.content for m in model.calls[-1].messages)
    assert f"[{key('photo')}]" in prompt and "Ignore previous instructions" not in prompt


def test_auto_mode_depends_on_model_size(tmp_path: Path) -> None:
    assert pipeline(tmp_path).resolve_mode("auto") == "extractive"
    assert pipeline(tmp_path, strong("x")).resolve_mode("auto") == "generative"
    with pytest.raises(ConfigurationError):
        pipeline(tmp_path).resolve_mode("creative")


# ---------------------------------------------------------------- follow-ups
def test_followup_query_is_rewritten_deterministically_for_small_models(tmp_path: Path) -> None:
    history = [Message(role="user", content="How does StarDist segment nuclei?"),
               Message(role="assistant", content="It predicts star-convex polygons.")]
    answer = pipeline(tmp_path).answer("Why does it struggle with elongated cells?", history=history)
    assert "StarDist" in answer.query and answer.query.startswith("Why does it struggle")
    assert not answer.abstained and answer.citations[0].key == key("stardist")


def test_followup_query_uses_the_prompt_for_strong_models(tmp_path: Path) -> None:
    def reply(messages, tools):  # type: ignore[no-untyped-def]
        if "Follow-up question" in messages[-1].content:
            return "StarDist elongated cells limitations"
        return f"StarDist struggles with elongated cells [{key('stardist')}]."

    model = strong(reply)
    history = [Message(role="user", content="How does StarDist segment nuclei?")]
    answer = pipeline(tmp_path, model).answer("Why does it fail on long cells?", history=history)
    assert answer.query == "StarDist elongated cells limitations"
    assert "How does StarDist segment nuclei?" in model.calls[0].messages[-1].content


# ---------------------------------------------------------------- streaming, JSON, inputs
def test_stream_event_order(tmp_path: Path) -> None:
    events = list(pipeline(tmp_path, strong(f"Noise2Void needs only noisy images [{key('n2v')}].")).stream(
        "How does Noise2Void work?", mode="generative"))
    kinds = [(e.type, e.status) for e in events]
    assert kinds[:2] == [("status", "retrieving"), ("status", "generating")]
    first_verify = kinds.index(("status", "verifying"))
    assert all(t == "delta" for t, _ in kinds[2:first_verify]) and first_verify > 2
    assert kinds[-1] == ("final", None) and events[-1].answer is not None
    assert "".join(e.text for e in events[2:first_verify]).startswith("Noise2Void needs")


def test_json_shape(tmp_path: Path) -> None:
    data = pipeline(tmp_path).answer("Why does StarDist fail on elongated cells?").to_json()
    assert {"answer", "abstained", "citations", "checks", "backend", "timings"} <= set(data)
    assert isinstance(data["abstained"], bool) and data["backend"] == "scripted:small"
    assert {"key", "title", "section", "url"} <= set(data["citations"][0])
    assert {"invalid_citations", "supported_fraction", "unsupported_sentences", "unknown_entities"} <= set(data["checks"])
    assert {"retrieve_ms", "generate_ms", "verify_ms"} <= set(data["timings"])


def test_extra_results_are_merged_into_the_context(tmp_path: Path) -> None:
    c = chunk("trackmate").model_copy(update={"key": "fm-0123abcd", "source_id": "forum", "kind": "forum"})
    answer = pipeline(tmp_path).answer("How does the LAP tracker link spots in TrackMate?",
                                       extra_results=[SearchResult(chunk=c, score=1.0)], k=2)
    assert "fm-0123abcd" in answer.context_keys


def test_empty_question_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        pipeline(tmp_path).answer("   ")


def test_every_fixture_passage_is_retrievable(tmp_path: Path) -> None:
    assert {key(n) for n in PASSAGES} == {c.key for c in retriever().iter_chunks()}
