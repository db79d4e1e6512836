"""The Assistant over fakes: every route, follow-ups against state, forced routes, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_agent_fakes import FORUM_KEY, FakeAnswerer, FakeForum, make_assistant

from scopebot.agent.assistant import CAPABILITIES, FORUM_UNREACHABLE, REFUSAL
from scopebot.agent.models import ChitChatReply, ForumResult, Refusal
from scopebot.errors import ConfigurationError


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "cells.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    return path


def test_question_gets_a_grounded_answer_with_badge_and_trace() -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("What is the point spread function of a confocal microscope?")
    assert (result.route, result.kind) == ("question", "answer")
    assert fakes["answerer"].calls[0]["question"].startswith("What is the point spread")
    assert "**References**" in result.markdown and "[1] Optics — PSF" in result.markdown
    assert "✓ 2/2 sentences supported" in result.markdown
    assert [s.name for s in result.trace] == ["route", "answer"]
    assert result.trace[0].outputs["label"] == "question"
    json.dumps(result.model_dump(mode="json"))  # the --json line must serialise


def test_abstention_is_its_own_kind() -> None:
    assistant, _ = make_assistant(answerer=FakeAnswerer(abstain=True))
    result = assistant.turn("How do I calibrate the pixel size of my confocal images?")
    assert result.kind == "abstention"
    assert result.markdown.startswith("I could not find this in my sources.")
    assert "sentences supported" not in result.markdown


def test_code_request_runs_on_the_uploaded_image(image: Path) -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("count the cells in this image", image=image)
    assert (result.route, result.kind) == ("code", "code")
    assert fakes["coder"].calls[0]["image"] == image
    assert "```python" in result.markdown and "12" in result.markdown
    assert result.image == str(image)


def test_code_follow_up_is_rewritten_from_the_previous_request_never_from_code(image: Path) -> None:
    assistant, fakes = make_assistant()
    assistant.turn("count the cells in this image", image=image)
    result = assistant.turn("now measure their area")
    assert result.route == "code"
    second = fakes["coder"].calls[1]
    assert second["image"] == image  # the image of the earlier turn is still used
    # the user's previous request, then the follow-up; the previous script never enters the planner
    assert second["request"] == "count the cells in this image. now measure their area"
    assert "labels = segment(img)" not in second["request"] and "```" not in second["request"]
    step = next(s for s in result.trace if s.name == "code")
    assert step.inputs["builds_on_previous"] is True
    assert step.inputs["previous_request"] == "count the cells in this image"
    # the history the answer route sees holds what the run answered, not the script
    assert all("labels = segment" not in m.content for m in assistant.state.history())


def test_tool_request_and_3d_follow_up_rerun_with_dims() -> None:
    assistant, fakes = make_assistant()
    first = assistant.turn("Which plugin can stitch tiles from a slide scanner?")
    assert (first.route, first.kind) == ("tool", "tools")
    assert "StitchTool" in first.markdown
    second = assistant.turn("and in 3D?")
    assert second.route == "tool" and second.trace[0].outputs["inherited"] is True
    assert fakes["recommender"].calls[1] == {"request": "Which plugin can stitch tiles from a slide scanner?",
                                             "interface": "any", "dims": "3d"}


def test_question_follow_up_inherits_and_passes_history() -> None:
    assistant, fakes = make_assistant()
    assistant.turn("How does deconvolution work on a widefield stack?")
    result = assistant.turn("what about for EM?")
    assert result.route == "question"
    history = fakes["answerer"].calls[1]["history"]
    assert [m.role for m in history] == ["user", "assistant"]
    assert history[0].content.startswith("How does deconvolution")


def test_forum_route_uses_live_hits_when_reachable() -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("Has anyone on image.sc had crashes with the stitching plugin?")
    assert (result.route, result.kind) == ("forum", "forum")
    assert isinstance(result.payload, ForumResult) and result.payload.reachable
    assert [h.chunk.key for h in fakes["answerer"].calls[0]["extra_results"]] == [FORUM_KEY]
    assert "**Forum threads**" in result.markdown


@pytest.mark.parametrize("forum", [FakeForum(reachable=False), FakeForum(fail=True), None])
def test_forum_route_falls_back_to_the_index(forum: FakeForum | None) -> None:
    assistant, fakes = make_assistant(forum=forum)
    result = assistant.turn("Has anyone on the forum seen StarDist fail on GPU?")
    assert result.kind == "forum" and result.payload.reachable is False
    assert FORUM_UNREACHABLE in result.markdown
    assert fakes["answerer"].calls[0]["extra_results"] == []  # answered from the index only


def test_chitchat_is_a_fixed_reply_without_any_model_or_pipeline() -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("thanks a lot!")
    assert (result.route, result.kind) == ("chitchat", "chitchat")
    assert isinstance(result.payload, ChitChatReply)
    assert result.markdown == "You're welcome! " + CAPABILITIES
    assert fakes["answerer"].calls == [] and fakes["coder"].calls == []


def test_out_of_scope_is_refused_politely() -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("Give me a recipe for a chocolate cake")
    assert (result.route, result.kind) == ("out_of_scope", "refusal")
    assert isinstance(result.payload, Refusal) and result.markdown == REFUSAL
    assert fakes["answerer"].calls == [] and fakes["recommender"].calls == []


def test_forced_route_overrides_the_router() -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("hello", force_route="question")
    assert (result.route, result.confidence, result.kind) == ("question", 1.0, "answer")
    assert fakes["answerer"].calls[0]["question"] == "hello"
    with pytest.raises(ConfigurationError):
        assistant.turn("hello", force_route="poetry")


def test_stream_turn_yields_status_deltas_then_final() -> None:
    assistant, _ = make_assistant(answerer=FakeAnswerer(stream=True))
    events = list(assistant.stream_turn("What is the point spread function?"))
    types = [e.type for e in events]
    assert types[0] == "status" and types[-1] == "final"
    assert "delta" in types and events[-1].result is not None
    assert events[-1].result.kind == "answer"


def test_reset_forgets_the_conversation(image: Path) -> None:
    assistant, _ = make_assistant()
    assistant.turn("count the cells in this image", image=image)
    assistant.reset()
    assert assistant.state.last_code is None and assistant.state.last_image is None
    assert assistant.state.turns == []


def test_empty_turn_and_missing_image_are_usage_errors(tmp_path: Path) -> None:
    assistant, _ = make_assistant()
    with pytest.raises(ConfigurationError):
        assistant.turn("   ")
    with pytest.raises(ConfigurationError):
        assistant.turn("count cells", image=tmp_path / "missing.tif")
