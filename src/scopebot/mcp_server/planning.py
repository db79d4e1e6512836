"""Analysis code for outside clients (MCP ``analyse_image``, the ``%%scopebot code`` magic).

Both use the product's code assistant (:class:`scopebot.code.assistant.CodeAssistant`), the same
plan -> compile -> run -> check path as ``scopebot code`` and the web UI, so the code a client is
shown is the code that runs. Without running, :func:`plan_without_running` makes the same plan
(from the image's metadata, or from the synthetic image the run would use) and stops where the
sandbox would start: the result has ``ran=False``, ``ok=False`` and the status ``not_run``, because
nothing was answered yet. A request the planner cannot answer is declined the same way as in a run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scopebot.errors import ConfigurationError
from scopebot.mcp_server.models import AnalysisOutput, AnalysisStatus

if TYPE_CHECKING:
    from scopebot.code.assistant import CodeAssistant, CodeResult

NOT_RUN_NOTE = "not run: nothing was answered yet; run it (MCP run=true, notebook --run sandbox) to get checked numbers"


class _Stop(Exception):
    """Raised where the sandbox would start: carries the code that would run."""

    def __init__(self, code: str) -> None:
        super().__init__("not run")
        self.code = code


class PlanOnlySandbox:
    """A sandbox stand-in that runs nothing: the assistant stops at the first code it would run."""

    def run(self, code: str, **_: Any) -> Any:
        raise _Stop(code)


def plan_without_running(assistant: CodeAssistant, request: str, image: Path | None) -> CodeResult:
    """The plan and the code ``assistant.run(request, image)`` would run first, without running it.

    ``assistant`` must have a :class:`PlanOnlySandbox`. Declined requests come back as the run
    would return them (``declined=True``, nothing run).
    """
    from scopebot.code.assistant import CodeResult, validate_image
    from scopebot.code.checks import check_code
    from scopebot.code.inputs import image_meta, synthetic_input

    if not isinstance(assistant.sandbox, PlanOnlySandbox):
        raise TypeError("plan_without_running needs a CodeAssistant over a PlanOnlySandbox")
    if not request.strip():
        raise ConfigurationError("empty request", hint="describe the analysis you want, e.g. 'count the nuclei'")
    tmp = Path(tempfile.mkdtemp(prefix="scopebot-plan-"))
    try:  # the same metadata the run plans on: the image's, or the synthetic scene's
        if image is not None:
            meta = image_meta(validate_image(image))
        else:
            synthetic_path, _, _ = synthetic_input(assistant.planner.plan(request), tmp)
            meta = image_meta(synthetic_path)
        plan, notes = assistant.make_plan(request, meta)
        try:
            result = assistant.run(request, image, plan=plan)
        except _Stop as stop:
            result = CodeResult(request=request, code=stop.code, ran=False, ok=False, checks=check_code(stop.code),
                                plan=plan, plan_text=plan.describe(), image=str(image) if image else None,
                                strategy="generate" if _free(assistant, plan) else "plan", notes=[NOT_RUN_NOTE])
            if result.strategy == "generate":
                result.notes.append(f"free code by {assistant.model.name}: a run may repair it with the traceback")
            if image is None:
                result.notes.append("no image given: the run would use a synthetic image with known contents")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result.notes = notes + result.notes
    return result


def _free(assistant: CodeAssistant, plan: Any) -> bool:
    """Whether the run writes free code (as :meth:`CodeAssistant.run` decides) instead of compiling the plan."""
    from scopebot.code.model_plan import PlanReply

    return assistant.strategy == "generate" or (
        not assistant.model.is_small and isinstance(plan, PlanReply) and plan.beyond_vocabulary)


def status_of(result: CodeResult) -> AnalysisStatus:
    """``answered`` / ``not_answered`` (ran, promises not kept) / ``declined`` / ``not_run``."""
    if result.declined:
        return "declined"
    if result.ran:
        return "answered" if result.ok else "not_answered"
    return "not_run" if result.error is None else "not_answered"


def analysis_output(result: CodeResult, image_info: dict[str, Any], *, code: str | None = None) -> AnalysisOutput:
    """The typed tool result for one code-assistant result (``code`` overrides the shown code)."""
    notes = list(result.notes)
    last_run = result.rounds[-1].run if result.rounds else None
    if result.synthetic:
        notes.append(f"ran on {result.synthetic}")
    return AnalysisOutput(request=result.request, code=code if code is not None else result.code,
                          checks=result.checks, ran=result.ran, ok=result.ok and result.ran,
                          status=status_of(result), declined=result.declined, plan_text=result.plan_text,
                          answer=result.answer, problems=result.problems, values=result.values,
                          stdout=result.stdout, error=result.error, figures=result.figures,
                          recipe=result.fallback_recipe, image=image_info, notes=notes,
                          isolation=list(last_run.isolation) if last_run is not None else [])
