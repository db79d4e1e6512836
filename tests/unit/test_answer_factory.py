"""One factory builds every answer pipeline (principle 2)."""

from __future__ import annotations

import re
from pathlib import Path

from test_answer_fixtures import retriever, settings, small_model

from scopebot.answer.compute import SandboxCalculator
from scopebot.answer.factory import build_answer_pipeline
from scopebot.answer.pipeline import AnswerPipeline
from scopebot.settings import PROJECT_ROOT


def test_factory_builds_a_working_pipeline_from_injected_parts(tmp_path: Path) -> None:
    p = build_answer_pipeline(settings(tmp_path), kb=retriever(), model=small_model())
    assert isinstance(p, AnswerPipeline) and isinstance(p.calculator, SandboxCalculator)
    answer = p.answer("Why does StarDist struggle with elongated cells?")
    assert not answer.abstained and "star-convex" in answer.answer
    only = build_answer_pipeline(settings(tmp_path), kb=retriever(), extractive_only=True)
    assert only.model is None and only.resolve_mode("auto") == "extractive"


def test_no_other_module_constructs_the_pipeline() -> None:
    src = PROJECT_ROOT / "src" / "scopebot"
    callers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py")
                     if re.search(r"\bAnswerPipeline\(", p.read_text(encoding="utf-8")))
    assert callers == ["answer/factory.py"]
