"""The usefulness eval: rubric per question type, key facts, LLM judge (scripted), split summaries."""

from __future__ import annotations

from pathlib import Path

from test_answer_fixtures import retriever, settings, small_model

from scopebot.answer.pipeline import AnswerPipeline
from scopebot.evals.judge import Judge
from scopebot.evals.suites.usefulness import UsefulItem, score_item, summarise
from scopebot.llm.scripted import ScriptedModel
from scopebot.prompts import PromptLibrary


def _item(split: str, qtype: str, question: str, facts: list[list[str]]) -> UsefulItem:
    return UsefulItem(id=f"{split}-{qtype}", split=split, qtype=qtype, question=question,  # type: ignore[arg-type]
                      key_facts=facts, reference="A reference answer written by us.")


def test_rubric_key_facts_judge_and_split_summaries(tmp_path: Path) -> None:
    s = settings(tmp_path)
    pipeline = AnswerPipeline(retriever(), small_model(), s)
    judge = Judge(ScriptedModel(['{"score": 4, "reason": "mostly right"}'] * 4, name="scripted:judge",
                                is_small=False), PromptLibrary(s.prompts_dir))
    good = score_item(pipeline, _item("tune", "conceptual", "Why does StarDist struggle with elongated cells?",
                                      [["star-convex"], ["elongated", "branched"]]), mode="extractive", judge=judge)
    assert good.metrics["key_fact_coverage"] == 1.0 and good.metrics["addresses"] == 1.0
    assert good.metrics["cited"] == 1.0 and good.metrics["useful"] == 1.0
    assert good.metrics["judge_score"] == 0.75
    off = score_item(pipeline, _item("holdout", "conceptual", "What is a good sourdough bread recipe?",
                                     [["flour"]]), mode="extractive", judge=judge)
    assert off.metrics["abstained"] == 1.0 and off.metrics["useful"] == 0.0 and off.metrics["addresses"] == 0.0
    metrics = summarise([good, off])
    assert metrics["tune.useful"] == 1.0 and metrics["holdout.useful"] == 0.0
