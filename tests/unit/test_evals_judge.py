"""LLM-as-judge: the rubric prompt, robust verdict parsing and aggregation, with a scripted model."""

from __future__ import annotations

import pytest

from scopebot.errors import ConfigurationError, ModelError
from scopebot.evals.judge import Judge, JudgeScore, build_judge, parse_verdict, summarise_judge
from scopebot.llm import ChatModel, ScriptedModel
from scopebot.prompts import PromptLibrary
from scopebot.settings import PROJECT_ROOT, Settings

PROMPTS = PromptLibrary(PROJECT_ROOT / "prompts")


@pytest.mark.parametrize(("reply", "score", "reason"), [
    ('{"score": 4, "reason": "misses the bit depth"}', 4, "misses the bit depth"),
    ('Sure!\n```json\n{"reason": "complete", "score": 5}\n```', 5, "complete"),
    ('{"score": "3", "reason": "partly"}', 3, "partly"),
    ("Score: 2\nReason: off-topic", 2, "off-topic"),
    ("I would give this 4/5 overall.", 4, ""),
    ("5", 5, ""),
    ('{"score": 9}', 5, ""),  # clamped into the rubric's range
    ('{"score": 0.6}', 1, ""),
])
def test_parse_verdict_reads_scores_in_the_forms_models_write(reply: str, score: int, reason: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.score == score
    assert verdict.reason == reason
    assert verdict.raw == reply


def test_parse_verdict_reports_unreadable_replies_instead_of_guessing() -> None:
    verdict = parse_verdict("The answer is fine but I cannot decide.")
    assert verdict.score is None and not verdict.ok and verdict.error
    assert verdict.normalised is None


def test_judge_sends_the_rubric_with_question_reference_and_answer() -> None:
    model = ScriptedModel(['{"score": 5, "reason": "matches"}'])
    judge = Judge(model, PROMPTS)
    verdict = judge.score("What does a LUT change?", "Only the display colours.", "The display, not the data.")
    assert verdict.score == 5 and verdict.normalised == 1.0
    sent = model.calls[0].messages
    assert sent[0].role == "system" and "1 = wrong" in sent[0].content
    assert "What does a LUT change?" in sent[1].content
    assert "The display, not the data." in sent[1].content and "Only the display colours." in sent[1].content


def test_judge_turns_a_model_failure_into_an_error_score() -> None:
    model = ScriptedModel([], repeat_last=False)  # raises ModelError on the first call
    verdict = Judge(model, PROMPTS).score("q", "a", "r")
    assert verdict.score is None and verdict.error and ModelError.__name__ in verdict.error


def test_summarise_judge_means_and_parse_rate() -> None:
    scores = [JudgeScore(score=5), JudgeScore(score=3), JudgeScore(error="x")]
    out = summarise_judge(scores)
    assert out == {"judge_parsed": 0.6667, "judge_mean": 4.0, "judge_score": 0.75}
    assert summarise_judge([]) == {}


def test_build_judge_needs_an_endpoint_and_uses_the_openai_backend(tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(ConfigurationError) as err:
        build_judge(Settings(home=tmp_path))
    assert "endpoint" in str(err.value) and err.value.hint
    judge = build_judge(Settings(home=tmp_path), base_url="http://127.0.0.1:9/v1", model="grader")
    assert isinstance(judge.model, ChatModel) and "grader" in judge.name
