"""Follow-ups and names across routes (tryout round 17): code follow-ups are rewritten from the user's previous
request (never from code), tool follow-ups carry the conversation's topic, a follow-up with nothing to point
to gets a question back (never an error), and the answer route's unknown-name check applies to tools and code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_agent_cli import lines, make_app
from test_agent_fakes import FakeAnswerer, FakeRecommender, make_assistant
from typer.testing import CliRunner

from scopebot.agent.models import Clarification
from scopebot.agent.state import (
    MAX_CODE_REQUEST_CHARS,
    points_back,
    resolve_code_request,
    resolve_tool_from_topic,
    subject_words,
)
from scopebot.errors import ConfigurationError


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "two_ch.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    return path


class NamingAnswerer(FakeAnswerer):
    """An answerer whose name check knows every name but the invented ones it is given."""

    def __init__(self, invented: tuple[str, ...] = ("DeepBlobby3D",)) -> None:
        super().__init__()
        self.invented = invented
        self.checked: list[str] = []

    def unknown_names(self, text: str) -> list[str]:
        self.checked.append(text)
        return [n for n in self.invented if n in text]


class PuzzledRecommender(FakeRecommender):
    """A recommender that understands nothing (as the real one raises for a request without task words)."""

    def recommend(self, request: str, interface: str = "any", dims: str = "any", k: int = 5) -> Any:
        self.calls.append({"request": request})
        raise ConfigurationError(f"I could not understand the request {request!r}: none of its words is a known "
                                 "task", hint="describe what you want to do with which images")


# --- code follow-ups ---------------------------------------------------------------------------------------
def test_code_follow_up_request_holds_the_users_words_only(image: Path) -> None:
    assistant, fakes = make_assistant()
    assistant.turn("count the nuclei and give me their mean area in um2", image=image, force_route="code")
    assistant.turn("and how bright is the GFP in them?", force_route="code")
    assistant.turn("now only the big ones", force_route="code")
    requests = [c["request"] for c in fakes["coder"].calls]
    assert requests[1] == "count the nuclei and give me their mean area in um2. and how bright is the GFP in them?"
    assert requests[2] == requests[1] + " now only the big ones"  # a chain builds on the rewritten request
    for request in requests:
        assert "labels = segment" not in request and "print(" not in request and "```" not in request


def test_a_long_chain_keeps_the_first_request_and_the_newest_turn() -> None:
    first = "count the nuclei in the first channel."
    long_previous = first + " and their area." * (MAX_CODE_REQUEST_CHARS // 10)
    joined = resolve_code_request("now only the big ones", long_previous)
    assert joined == f"{first} now only the big ones"
    assert resolve_code_request("count the cells", None) == "count the cells"


def test_a_code_request_naming_an_unknown_tool_warns_first(image: Path) -> None:
    assistant, fakes = make_assistant(answerer=NamingAnswerer())
    result = assistant.turn("segment the nuclei with DeepBlobby3D and count them", image=image, force_route="code")
    assert result.kind == "code" and len(fakes["coder"].calls) == 1
    assert result.warnings and "'DeepBlobby3D'" in result.warnings[0]
    assert result.markdown.startswith("**Note:** 'DeepBlobby3D' is named in your request")
    assert [s.name for s in result.trace][:3] == ["route", "names", "code"]


# --- the name check on the tool route ----------------------------------------------------------------------
def test_a_tool_question_about_an_invented_tool_abstains_like_ask() -> None:
    answerer = NamingAnswerer()
    answerer.abstain = True
    assistant, fakes = make_assistant(answerer=answerer)
    result = assistant.turn("What is the DeepBlobby3D plugin for napari good for?", force_route="tool")
    assert result.route == "tool" and result.kind == "abstention"
    assert fakes["recommender"].calls == []  # no tool cards for a tool no source knows
    assert answerer.calls and answerer.calls[0]["question"].startswith("What is the DeepBlobby3D")


def test_a_known_tool_question_still_gets_cards() -> None:
    assistant, fakes = make_assistant(answerer=NamingAnswerer())
    result = assistant.turn("Which napari plugin segments nuclei in 3D?", force_route="tool")
    assert result.kind == "tools" and fakes["recommender"].calls and not result.warnings


def test_runner_up_tool_cards_are_left_out_for_an_invented_name() -> None:
    from scopebot.agent.models import Route

    answerer = NamingAnswerer()
    assistant, fakes = make_assistant(answerer=answerer)
    route = Route(label="question", confidence=0.6, also=["tool"])  # type: ignore[list-item]
    extras = _drain(assistant._runner_up("Is DeepBlobby3D good for nuclei?", route, []))
    assert extras == {} and fakes["recommender"].calls == []
    assert answerer.calls == []  # the main route answered already; the runner-up asks nothing twice


def _drain(gen: Any) -> Any:
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


# --- tool follow-ups and the conversation's topic ----------------------------------------------------------
def test_which_software_for_it_uses_the_conversations_topic() -> None:
    assistant, fakes = make_assistant()
    assistant.turn("What is deconvolution and when should I use it?", force_route="question")
    assistant.turn("Does it work in 3D too?", force_route="question")
    result = assistant.turn("Which software would you recommend for it?", force_route="tool")
    assert result.kind == "tools"
    assert fakes["recommender"].calls[-1] == {"request": "deconvolution", "interface": "any", "dims": "any"}


def test_a_method_follow_up_sent_to_tools_keeps_the_topic_and_its_constraints() -> None:
    assistant, fakes = make_assistant()
    assistant.turn("How do I separate touching nuclei before counting them?", force_route="question")
    assistant.turn("Can I do it in Fiji without coding?", force_route="tool")
    assistant.turn("Would that work in 3D as well?", force_route="tool")
    fiji, three_d = fakes["recommender"].calls[-2:]
    assert fiji["interface"] == "gui" and "nuclei" in fiji["request"] and "Fiji" in fiji["request"]
    assert three_d["dims"] == "3d" and "nuclei" in three_d["request"]
    assert "work" not in three_d["request"].split()  # "does that work" says nothing about the task


def test_which_software_for_it_with_nothing_before_asks_back() -> None:
    assistant, fakes = make_assistant()
    result = assistant.turn("Which software would you recommend for it?", force_route="tool")
    assert result.kind == "clarification" and isinstance(result.payload, Clarification)
    assert "nothing earlier in this conversation" in result.markdown
    assert fakes["recommender"].calls == []


def test_a_tool_request_the_recommender_cannot_read_asks_back_instead_of_failing() -> None:
    assistant, fakes = make_assistant()
    assistant.recommender = PuzzledRecommender()
    result = assistant.turn("which one for the flibbertigibbet?", force_route="tool")
    assert result.kind == "clarification" and "could not understand" in result.markdown
    assert "describe what you want" in result.markdown


def test_chat_json_follow_up_without_antecedent_exits_zero() -> None:
    from test_agent_cli import fake_factory

    store: dict[str, Any] = {}
    stdin = json.dumps({"text": "Which software would you recommend for it?", "route": "tool"}) + "\n"
    result = CliRunner().invoke(make_app(), ["chat", "--json"], input=stdin,
                                obj={"create_assistant": fake_factory(store)})
    assert result.exit_code == 0, result.output
    [out] = lines(result.output)
    assert "error" not in out and out["kind"] == "clarification"


# --- the pure helpers ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("Does it work in 3D too?", True), ("Which software would you recommend for it?", True),
    ("and how bright is the GFP in them?", True), ("how do I install it?", True),
    ("What is deconvolution and when should I use it?", False),
    ("How do I separate touching nuclei before counting them?", False),
    ("Which plugin can stitch tiles from a slide scanner?", False)])
def test_points_back(text: str, expected: bool) -> None:
    assert points_back(text) is expected


def test_subject_and_topic_requests() -> None:
    assert subject_words("What is deconvolution and when should I use it?") == "deconvolution"
    assert subject_words("Which software would you recommend for it?") == ""
    req = resolve_tool_from_topic("Is there a napari version for 3D?", "How do I denoise low-light images?")
    assert (req.request, req.dims) == ("denoise low-light images napari version", "3d")


# --- routing a message whose question points at its context sentence ---------------------------------------
def test_the_router_reads_the_whole_message_when_the_asked_part_points_at_its_context() -> None:
    from test_agent_fakes import small_router

    from scopebot.agent.router import leans_on_context

    assert leans_on_context("How do I separate them so I can count them properly?")
    assert not leans_on_context("How do I denoise the stacks?")
    router = small_router()
    leaning = router.route("My nuclei are touching each other a lot in DAPI images from a widefield scope. "
                           "How do I separate them so I can count them properly?")
    assert not any(r.startswith("routed on what is asked") for r in leaning.reasons)  # "them" needs the scene
    scene = router.route("I have a confocal stack of organoids from our facility. What is a good way to segment "
                         "nuclei in 3D?")
    assert any(r.startswith("routed on what is asked") for r in scene.reasons)


class UnsureRouter:
    """A router that is torn between tool and question (both are served)."""

    def route(self, text: str, context: Any = None, *, force: Any = None, has_image: bool = False) -> Any:
        from scopebot.agent.models import Route

        return Route(label="tool", confidence=0.5, also=["question"])  # type: ignore[list-item]


def test_an_invented_tool_with_question_as_runner_up_is_answered_once() -> None:
    answerer = NamingAnswerer()
    answerer.abstain = True
    assistant, fakes = make_assistant(answerer=answerer, router=UnsureRouter())
    result = assistant.turn("What is the DeepBlobby3D plugin for napari good for?")
    assert result.kind == "abstention" and result.extras == {}
    assert len(answerer.calls) == 1 and fakes["recommender"].calls == []


def test_the_tool_loop_of_a_strong_model_gets_the_same_name_check() -> None:
    from test_agent_toolloop import call, retriever

    from scopebot.llm.scripted import ScriptedModel

    model = ScriptedModel([call("recommend_tools", 1, request="DeepBlobby3D"), "It is great for blobs."],
                          supports_tools=True, is_small=False)
    answerer = NamingAnswerer()
    answerer.abstain = True
    assistant, _ = make_assistant(model=model, tool_loop=True, searcher=retriever(), answerer=answerer)
    result = assistant.turn("What is the DeepBlobby3D plugin for napari good for?")
    assert result.kind == "abstention" and model.calls == []  # the pipeline abstained; the model was not asked


def test_the_lazy_answerer_checks_names_with_the_pipelines_own_evidence_decision() -> None:

    from scopebot.agent.ports import LazyAnswerer, NameCheck

    asked: list[str] = []

    class Pipeline:
        def unknown_names(self, question: str) -> list[str]:
            asked.append(question)
            return ["DeepBlobby3D"]

    answerer = LazyAnswerer(Pipeline)
    assert isinstance(answerer, NameCheck)
    assert answerer.unknown_names("Is DeepBlobby3D any good?") == ["DeepBlobby3D"] and asked == ["Is DeepBlobby3D any good?"]
