"""Follow-up resolution: earlier turns reach the query only for a proven follow-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_answer_fixtures import key, retriever, settings, small_model

from scopebot.answer.pipeline import AnswerPipeline
from scopebot.answer.rewrite import (
    Cue,
    deterministic_rewrite,
    follow_up,
    own_topic,
    refers_back,
    rewrite_query,
)
from scopebot.llm.base import Message
from scopebot.llm.scripted import ScriptedModel
from scopebot.prompts import PromptLibrary

COUNT_TURN = [Message(role="user", content="Count the nuclei in my image"),
              Message(role="assistant", content="For counting the nuclei, threshold the image and label the objects.")]
N2V_TURN = [Message(role="user", content="What is Noise2Void?"),
            Message(role="assistant", content="Noise2Void trains a denoising network from noisy images alone.")]
TOOL_TURN = [Message(role="user", content="Which tool segments nuclei in 3D without coding?"),
             Message(role="assistant", content="StarDist has a Fiji plugin.")]


def strong_rewriter() -> ScriptedModel:
    return ScriptedModel(lambda messages, tools: "rewritten by the model", name="scripted:strong", is_small=False)


@pytest.mark.parametrize("question", ["What is Noise2Void?", "Noise2Void", "What is noise2void",
                                      "How do I denoise images taken at low laser power?",
                                      "Is there a plugin for deconvolution?",
                                      "Which tool is best for cells that touch?"])
def test_an_unrelated_new_question_is_not_rewritten(question: str) -> None:
    decision = follow_up(question, COUNT_TURN)
    assert not decision.proven and decision.reason
    assert deterministic_rewrite(question, COUNT_TURN) == question
    model = strong_rewriter()
    assert rewrite_query(question, COUNT_TURN, model, PromptLibrary(settings(Path('.')).prompts_dir)) == question
    assert model.calls == []  # the model is not even asked: nothing from the count turn can leak


def test_noise2void_after_a_count_turn_retrieves_noise2void_not_counting(tmp_path: Path) -> None:
    pipeline = AnswerPipeline(retriever(), small_model(), settings(tmp_path))
    answer = pipeline.answer("What is Noise2Void?", history=COUNT_TURN)
    assert answer.query == "What is Noise2Void?"
    assert "count" not in answer.answer.lower()
    assert answer.citations and answer.citations[0].key == key("n2v")


@pytest.mark.parametrize(("question", "history", "carried"), [
    ("How do I install it?", N2V_TURN, "Noise2Void"),
    ("How do I do that?", N2V_TURN, "Noise2Void"),
    ("and in 3D?", TOOL_TURN, "segments nuclei"),
    ("what about for EM?", TOOL_TURN, "segments nuclei"),
    ("Which one is faster?", TOOL_TURN, "segments nuclei"),
    ("Is it available in Fiji?", TOOL_TURN, "segments nuclei"),  # names Fiji, which the previous answer named
])
def test_a_proven_follow_up_carries_the_previous_question(question: str, history: list[Message],
                                                          carried: str) -> None:
    decision = follow_up(question, history)
    assert decision.proven, decision.reason
    rewritten = deterministic_rewrite(question, history)
    assert rewritten.startswith(question) and all(w in rewritten for w in carried.split())


@pytest.mark.parametrize("question", ["Noise2Void: how do I install it?",
                                      "What are batch effects and how do they get into training data?",
                                      "Fix this error in my script: the array is read-only",
                                      "Plot a histogram of this 16-bit image"])
def test_a_pronoun_that_may_mean_the_questions_own_topic_needs_similarity(question: str) -> None:
    decision = follow_up(question, COUNT_TURN)  # nothing in common with counting nuclei
    assert not decision.proven, decision.reason
    assert deterministic_rewrite(question, COUNT_TURN) == question


def test_similarity_to_the_previous_turn_completes_the_proof() -> None:
    previous = [Message(role="user", content="How do I run StarDist on 16-bit images?"),
                Message(role="assistant", content="Normalise the intensities first.")]
    decision = follow_up("My StarDist model loads, but why does it predict nothing?", previous)
    assert decision.proven and "stardist" in decision.reason
    assert follow_up("Is it available in Fiji?", N2V_TURN).proven  # "it" has nothing in the question to mean
    assert "Noise2Void" in deterministic_rewrite("What about CARE instead?", N2V_TURN)  # an explicit "instead"


def test_the_strong_model_rewrites_only_proven_follow_ups() -> None:
    model = strong_rewriter()
    prompts = PromptLibrary(settings(Path('.')).prompts_dir)
    assert rewrite_query("How do I install it?", N2V_TURN, model, prompts) == "rewritten by the model"
    assert len(model.calls) == 1 and "What is Noise2Void?" in model.calls[0].messages[-1].content


def test_cues_and_names() -> None:
    assert refers_back("Why does it struggle with elongated cells?") == Cue("it")
    assert refers_back("and in 3D?") == Cue("and")
    assert refers_back("now plot a histogram of those areas") == Cue("those")
    assert refers_back("Noise2Void: how do I install it?") == Cue("it", anchored=True)
    assert refers_back("What is Noise2Void?") is None
    assert refers_back("How many cells are in one image?") is None  # "one" as a number
    assert refers_back("Which tool is best for cells that touch?") is None  # "that" as a relative pronoun
    assert refers_back("count the nuclei in this image") is None  # "this image" is the upload
    assert own_topic("What is Noise2Void?") == ["Noise2Void"]
    assert own_topic("Does CARE work in Fiji?") == ["CARE", "Fiji"]
    assert own_topic("what about for EM in 3D?") == []  # two-letter qualifiers are not topics
    assert not follow_up("How do I install it?", []).proven
