"""Optional LLM-as-judge: a configured chat model grades an answer against a reference answer.

The rubric is the ``judge`` prompt (``prompts/judge.md``): it asks for one JSON object
``{"score": 1-5, "reason": "..."}``. Models do not always comply, so :func:`parse_verdict` reads the
score robustly (a JSON object anywhere in the reply, a ``score: 4`` line, ``4/5``, or a lone digit)
and reports an unparseable reply as ``score=None`` rather than guessing.

The judge is any :class:`~scopebot.llm.base.ChatModel`; :func:`build_judge` makes one from the
settings' OpenAI-compatible endpoint (optionally a different URL/model than the answering model, so
a stronger model can grade a small one). Tests use :class:`~scopebot.llm.scripted.ScriptedModel`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from scopebot.errors import ConfigurationError

if TYPE_CHECKING:
    from scopebot.llm.base import ChatModel
    from scopebot.settings import Settings

PROMPT_NAME = "judge"
MIN_SCORE, MAX_SCORE = 1, 5
_JSON_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_SCORE_FIELD = re.compile(r"[\"']?score[\"']?\s*[:=]\s*[\"']?([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)
_OUT_OF = re.compile(r"\b([0-9](?:\.[0-9]+)?)\s*(?:/|out of)\s*5\b", re.IGNORECASE)
_LONE = re.compile(r"^\W*([1-5])\W*$")
_REASON_FIELD = re.compile(r"[\"']?reason[\"']?\s*[:=]\s*[\"']?(.+?)[\"']?\s*(?:[,}]|$)", re.IGNORECASE | re.DOTALL)


class JudgeScore(BaseModel):
    """The judge's verdict on one answer."""

    score: int | None = Field(default=None, description="1 (wrong) … 5 (complete and correct); None if unparseable.")
    reason: str = ""
    raw: str = Field(default="", description="The judge model's reply, for reading failures.")
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.score is not None

    @property
    def normalised(self) -> float | None:
        """The score mapped to [0, 1] (1 → 0.0, 5 → 1.0), so it can be gated like other scores."""
        return None if self.score is None else (self.score - MIN_SCORE) / (MAX_SCORE - MIN_SCORE)


def _clamp(value: float) -> int:
    return int(min(MAX_SCORE, max(MIN_SCORE, round(value))))


def parse_verdict(text: str) -> JudgeScore:
    """Read a 1-5 score and a reason from a judge reply (see the module docstring for the forms)."""
    raw = text or ""
    body = re.sub(r"```(?:json)?", "", raw).strip()
    for candidate in _JSON_OBJECT.findall(body):
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(data, dict) and "score" in data:
            try:
                score = _clamp(float(data["score"]))
            except (TypeError, ValueError):
                continue
            return JudgeScore(score=score, reason=str(data.get("reason", "")).strip(), raw=raw)
    reason_match = _REASON_FIELD.search(body)
    reason = reason_match.group(1).strip() if reason_match else ""
    for pattern in (_SCORE_FIELD, _OUT_OF):
        match = pattern.search(body)
        if match:
            return JudgeScore(score=_clamp(float(match.group(1))), reason=reason, raw=raw)
    match = _LONE.match(body)
    if match:
        return JudgeScore(score=int(match.group(1)), raw=raw)
    return JudgeScore(raw=raw, error="no score found in the judge's reply")


class Judge:
    """Grades answers with a chat model and the ``judge`` rubric."""

    def __init__(self, model: ChatModel, prompts: Any, *, max_tokens: int = 200) -> None:
        self.model = model
        self.prompts = prompts
        self.max_tokens = max_tokens
        self.template = prompts.get(PROMPT_NAME)  # validated now, so a broken rubric fails early

    @property
    def name(self) -> str:
        return self.model.name

    def score(self, question: str, answer: str, reference: str) -> JudgeScore:
        """Grade ``answer`` to ``question`` against ``reference``; model failures become ``error``."""
        from scopebot.errors import ScopebotError

        messages = self.template.messages(question=question, reference=reference, answer=answer)
        try:
            reply = self.model.complete(messages, max_tokens=self.max_tokens, temperature=0.0)
        except ScopebotError as exc:
            return JudgeScore(error=f"{type(exc).__name__}: {exc}")
        return parse_verdict(reply.text)


def summarise_judge(scores: Iterable[JudgeScore]) -> dict[str, float]:
    """``judge_mean`` (1-5), ``judge_score`` (0-1, gateable) and ``judge_parsed`` (share of readable replies)."""
    scores = list(scores)
    if not scores:
        return {}
    good = [s.score for s in scores if s.score is not None]
    out = {"judge_parsed": round(len(good) / len(scores), 4)}
    if good:
        mean = sum(good) / len(good)
        out["judge_mean"] = round(mean, 4)
        out["judge_score"] = round((mean - MIN_SCORE) / (MAX_SCORE - MIN_SCORE), 4)
    return out


def build_judge(settings: Settings, *, base_url: str | None = None, model: str | None = None,
                prompts: Any = None) -> Judge:
    """A judge on an OpenAI-compatible endpoint: ``base_url``/``model`` override the settings' endpoint.

    Temperature is fixed at 0 so grades are repeatable. Raises :class:`ConfigurationError` when no
    endpoint is configured at all.
    """
    from scopebot.llm import make_chat_model
    from scopebot.prompts import PromptLibrary

    url = base_url or settings.llm_base_url
    if url is None and settings.llm_api_key is None:
        raise ConfigurationError("LLM-as-judge needs an OpenAI-compatible endpoint",
                                 hint="pass a judge URL (e.g. http://127.0.0.1:8080/v1) or set "
                                      "SCOPEBOT_LLM_BASE_URL / OPENAI_API_KEY and SCOPEBOT_LLM_MODEL")
    judge_settings = settings.model_copy(update={"llm_backend": "openai", "llm_base_url": url,
                                                 "llm_model": model or settings.llm_model,
                                                 "llm_temperature": 0.0})
    return Judge(make_chat_model(judge_settings), prompts or PromptLibrary(settings.prompts_dir))
