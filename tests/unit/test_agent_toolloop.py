"""The tool-calling loop with the scripted model: multi-step plans, tool errors, the step limit, checks."""

from __future__ import annotations

import json
from collections.abc import Sequence

from test_agent_fakes import KEY_A, KEY_B, FakeCoder, FakeForum, FakeRecommender, chunk, make_assistant

from scopebot.agent.models import LoopAnswer
from scopebot.agent.toolloop import TOOL_SPECS, ToolLoop
from scopebot.index.protocols import InMemoryRetriever
from scopebot.llm.base import ChatResponse, Message, ToolCall, ToolSpec
from scopebot.llm.scripted import ScriptedModel

PSF_TEXT = ("Test › Optics\nThe point spread function describes how a microscope images a single point of light. "
            "Its width sets the resolution of the microscope.")
SAMPLING_TEXT = ("Test › Sampling\nNyquist sampling asks for a pixel size of at most half the resolution "
                 "of the optics.")


def retriever() -> InMemoryRetriever:
    return InMemoryRetriever([chunk(KEY_A, PSF_TEXT), chunk(KEY_B, SAMPLING_TEXT, title="Sampling")])


def call(name: str, n: int = 1, **args: object) -> ChatResponse:
    return ChatResponse(text="", tool_calls=[ToolCall(id=f"c{n}", name=name, arguments=dict(args))])


def tool_messages(messages: Sequence[Message]) -> list[dict]:
    return [json.loads(m.content.split("…(truncated)")[0]) for m in messages if m.role == "tool"]


def loop(model: ScriptedModel, max_steps: int = 5) -> ToolLoop:
    return ToolLoop(model, searcher=retriever(), recommender=FakeRecommender(), forum=FakeForum(reachable=False),
                    coder=FakeCoder(), max_steps=max_steps)


def test_specs_are_json_schema_objects() -> None:
    assert [s.name for s in TOOL_SPECS] == ["search_knowledge", "recommend_tools", "search_forum",
                                            "write_and_run_code", "inspect_image"]
    assert all(s.parameters["type"] == "object" for s in TOOL_SPECS)


def test_multi_step_loop_records_calls_and_checks_the_final_answer() -> None:
    final = (f"The point spread function describes how a microscope images a single point of light [{KEY_A}]. "
             "Its width sets the resolution of the microscope [bk-deadbeef].")
    model = ScriptedModel([call("search_knowledge", 1, query="point spread function", k=2),
                           call("recommend_tools", 2, request="measure the PSF", dims="3d"), final])
    trace: list = []
    answer = loop(model).run("What is a PSF?", trace=trace)
    assert isinstance(answer, LoopAnswer) and answer.stopped == "final" and answer.steps == 2
    assert [s.name for s in trace] == ["model", "tool:search_knowledge", "model", "tool:recommend_tools", "model",
                                       "checks"]
    # the model saw the passages the tool returned
    seen = tool_messages(model.calls[1].messages)
    assert KEY_A in [p["key"] for p in seen[0]["passages"]]
    assert model.calls[0].tools == TOOL_SPECS
    # the invented key is removed and counted; the real one becomes [1]
    assert answer.checks.invalid_citations == 1 and answer.checks.removed_citations == ["bk-deadbeef"]
    assert "[1]" in answer.answer and "bk-deadbeef" not in answer.answer
    assert [c["key"] for c in answer.citations] == [KEY_A]
    assert answer.checks.supported_fraction == 1.0
    assert len(answer.tool_results) == 1  # the recommendation made during the loop


def test_tool_error_goes_back_to_the_model_as_a_message() -> None:
    seen: list[list[Message]] = []

    def script(messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> ChatResponse | str:
        seen.append(list(messages))
        if len(seen) == 1:
            return call("search_forum", 1, query="stardist gpu")  # the fake forum is unreachable
        if len(seen) == 2:
            return call("inspect_image", 2)  # no image uploaded
        if len(seen) == 3:
            return call("no_such_tool", 3)
        return f"The point spread function describes how a microscope images a single point of light [{KEY_A}]."

    trace: list = []
    answer = loop(ScriptedModel(script)).run("Does StarDist work on GPU?", trace=trace)
    errors = [s for s in trace if s.error]
    assert [s.name for s in errors] == ["tool:search_forum", "tool:inspect_image", "tool:no_such_tool"]
    replies = tool_messages(seen[-1])
    assert all("error" in r for r in replies)
    assert "not reachable" in replies[0]["error"] and "no image" in replies[1]["error"]
    assert answer.stopped == "final"
    # nothing was gathered, so the citation is not trusted
    assert answer.checks.invalid_citations == 1 and answer.citations == []


def test_step_limit_ends_with_a_tool_free_answer_and_a_note() -> None:
    def script(messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> ChatResponse | str:
        if tools:
            return call("search_knowledge", len(messages), query="sampling")
        return f"Nyquist sampling asks for a pixel size of at most half the resolution of the optics [{KEY_B}]."

    model = ScriptedModel(script)
    trace: list = []
    answer = loop(model, max_steps=2).run("How small should my pixels be?", trace=trace)
    assert answer.stopped == "step_limit" and answer.steps == 2
    assert "step limit" in answer.note
    assert len(model.calls) == 3 and model.calls[-1].tools is None
    assert sum(1 for s in trace if s.name == "tool:search_knowledge") == 2
    assert answer.citations[0]["key"] == KEY_B and answer.checks.invalid_citations == 0


def test_unsupported_sentence_is_flagged() -> None:
    final = (f"The point spread function describes how a microscope images a single point of light [{KEY_A}]. "
             f"Bananas ripen faster when stored next to apples in warm kitchens [{KEY_A}].")
    model = ScriptedModel([call("search_knowledge", 1, query="psf"), final])
    answer = loop(model).run("What is a PSF?")
    assert answer.checks.unsupported_sentences and "Bananas" in answer.checks.unsupported_sentences[0]
    assert answer.checks.supported_fraction < 1.0


def test_assistant_uses_the_loop_only_for_capable_models() -> None:
    final = f"The point spread function describes how a microscope images a single point of light [{KEY_A}]."
    model = ScriptedModel([call("search_knowledge", 1, query="psf"), final], supports_tools=True, is_small=False)
    assistant, fakes = make_assistant(model=model, tool_loop=True, searcher=retriever())
    result = assistant.turn("What is the point spread function of a microscope?")
    assert result.kind == "answer" and isinstance(result.payload, LoopAnswer)
    assert "tool:search_knowledge" in [s.name for s in result.trace]
    assert "✓ 1/1 sentences supported" in result.markdown
    assert fakes["answerer"].calls == []  # the loop answered, not the pipeline
    # chit-chat never goes to the model
    calls = len(model.calls)
    assert assistant.turn("hello").kind == "chitchat" and len(model.calls) == calls

    small = ScriptedModel(["unused"], supports_tools=True, is_small=True)
    assistant, fakes = make_assistant(model=small, tool_loop=True)
    assert assistant.tool_loop is False
    assistant.turn("What is the point spread function of a microscope?")
    assert small.calls == [] and len(fakes["answerer"].calls) == 1
