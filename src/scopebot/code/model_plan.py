"""Plans from capable models: the model fills the plan's JSON schema; the reply is validated.

The schema is the pydantic schema of :class:`PlanReply` (the plan plus ``beyond_vocabulary`` and,
for free code, the quantities the script must print). It is in the prompt, and backends with
structured output (:meth:`ChatModel.complete_json`, OpenAI's ``response_format``) constrain decoding to
it. A reply that is not valid JSON for the
schema gets one repair round with the validation error; after that the caller falls back to the
deterministic vocabulary planner.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import Field, ValidationError

from scopebot.code.plan import AnalysisPlan, ImageMeta, Promise
from scopebot.llm.base import ChatModel, Message
from scopebot.prompts import PromptLibrary
from scopebot.settings import PROJECT_ROOT

_JSON_RE = re.compile(r"\{.*\}", re.S)


class PlanReply(AnalysisPlan):
    """What a capable model answers: a plan, or the closest plan and what free code must print."""

    beyond_vocabulary: bool = Field(default=False, description="Part of the request needs free code.")
    promised_extra: list[Promise] = Field(default_factory=list, alias="promised",
                                          description="For free code: every quantity the script prints.")


def plan_schema_dict() -> dict:
    """The JSON schema the model fills: :class:`PlanReply` without the fields scopebot fills itself."""
    schema = PlanReply.model_json_schema(by_alias=True)
    for name in ("understood", "missing", "version", "not_used"):
        schema.get("properties", {}).pop(name, None)
        if name in schema.get("required", []):
            schema["required"].remove(name)
    return schema


def plan_schema() -> str:
    """The JSON schema shown in the prompt (compact)."""
    return json.dumps(plan_schema_dict(), separators=(",", ":"))


def parse_plan_reply(text: str) -> PlanReply:
    """Validate a model reply (the first JSON object in it) as a :class:`PlanReply`."""
    match = _JSON_RE.search(text)
    if not match:
        raise ValueError("the reply holds no JSON object")
    return PlanReply.model_validate_json(match.group(0))


def model_plan(model: ChatModel, request: str, meta: ImageMeta, *, prompts_dir: Path | None = None,
               max_tokens: int = 900) -> tuple[PlanReply | None, str | None]:
    """The model's plan for ``request`` (``None`` and the reason when it gave no valid plan)."""
    template = PromptLibrary(prompts_dir or PROJECT_ROOT / "prompts").get("code_plan")
    meta_text = meta.model_dump_json(exclude={"stated"})
    messages = [Message(role="user", content=template.render(meta=meta_text, request=request,
                                                             schema=plan_schema()))]
    error = None
    for _ in range(2):
        # structured output where the backend has it; the prompt carries the schema for the others
        reply = model.complete_json(messages, plan_schema_dict(), name="analysis_plan", max_tokens=max_tokens,
                                    temperature=0.0)
        try:
            plan = parse_plan_reply(reply.text)
        except (ValueError, ValidationError) as exc:
            error = str(exc)[:1500]
            messages += [Message(role="assistant", content=reply.text),
                         Message(role="user", content=f"That was not valid for the schema: {error}\n"
                                                      "Answer with the corrected JSON object only.")]
            continue
        stated = set(plan.meta.stated)
        file_meta = meta.model_dump()
        for name in ("axes", "channels", "z", "t"):
            setattr(plan.meta, name, file_meta[name])
        for name in ("pixel_size_um", "z_step_um", "time_step_s"):
            if name not in stated:
                setattr(plan.meta, name, file_meta[name])
        return plan, None
    return None, error
