"""The plan of a code answer as an editable checklist; editing it and pressing Re-run runs the new plan.

Pure functions (:func:`plan_values`, :func:`edit_plan`, :func:`rerun`) hold the logic and are unit
tested; :func:`build` only lays out the Gradio widgets (imported lazily by the app).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from scopebot.code.plan import AnalysisPlan
from scopebot.errors import ConfigurationError

DIMS = [("2-D, max projection", "max"), ("2-D, mean projection", "mean"), ("2-D, sum projection", "sum"),
        ("3-D", "3d")]
METHODS = ["otsu", "li", "triangle", "yen", "mean", "manual"]
UNITS = [("physical (um) when calibrated", "auto"), ("pixels", "px"), ("physical (um), required", "physical")]
NO_PLAN = "_No plan yet: ask for an analysis (e.g. 'count the nuclei and give their area')._"


def usable(plan: AnalysisPlan | None) -> bool:
    """Whether ``plan`` would answer anything (an empty plan of a declined request is not offered)."""
    return plan is not None and bool(plan.promised())


def last_plan(session: Any) -> tuple[str, AnalysisPlan] | None:
    """The request and plan of the session's latest code answer, if any (the re-run one once re-run)."""
    rerun_plan = getattr(session, "rerun_plan", None)
    if rerun_plan is not None:
        return rerun_plan
    for turn in reversed(getattr(session, "turns", []) or []):
        plan = getattr(getattr(turn, "payload", None), "plan", None)
        if getattr(turn, "kind", "") == "code":
            if isinstance(plan, AnalysisPlan) and usable(plan):
                return str(getattr(turn.payload, "request", turn.question)), plan
            return None  # the latest code turn has no usable plan: an older one's is not offered for it
    return None


def plan_values(plan: AnalysisPlan | None) -> list[Any]:
    """Widget values for ``plan``: channel (1-based), dims, method, threshold, min/max size, units,
    split touching, drop border objects, background correction, and the checklist text."""
    if plan is None:
        return [1, "max", "otsu", None, 10, None, "auto", False, False, False, NO_PLAN]
    seg = plan.segmentation
    return [plan.inputs.channel + 1, plan.inputs.z if plan.inputs.z != "range" else "max",
            seg.method if seg else "otsu", seg.threshold if seg else None, seg.min_size_px if seg else 10,
            seg.max_size_px if seg else None, plan.units, bool(seg and seg.split_touching),
            bool(seg and seg.exclude_border), plan.preprocessing.background, plan_markdown(plan)]


def plan_markdown(plan: AnalysisPlan) -> str:
    lines = ["**Plan**", "", *plan.describe().splitlines()]
    if plan.not_understood:
        lines.append(f"- not understood: {', '.join(plan.not_understood)}")
    if plan.missing:
        lines.append(f"- missing: {'; '.join(plan.missing)}")
    return "\n".join(lines)


def edit_plan(plan: AnalysisPlan, channel: float | None, dims: str, method: str, threshold: float | None,
              min_size: float | None, max_size: float | None, units: str, split: bool, border: bool,
              background: bool) -> AnalysisPlan:
    """A validated copy of ``plan`` with the checklist's values (the user has now stated them).

    Raises :class:`ConfigurationError` naming the control for a channel the image does not have."""
    channels = int(plan.meta.channels or 1)
    if channel is not None and not 1 <= int(channel) <= channels:
        raise ConfigurationError(
            f"Plan → Channel {int(channel)} does not exist: the image has {channels} channel"
            + ("s" if channels != 1 else ""), hint=f"choose a channel from 1 to {channels}")
    data = plan.model_dump()
    data["inputs"].update(channel=max(0, int(channel or 1) - 1), z=dims)
    data["preprocessing"]["background"] = bool(background)
    seg = data.get("segmentation") or {}
    seg.update(method=method, threshold=threshold if method == "manual" else None,
               min_size_px=int(min_size or 0), max_size_px=int(max_size) if max_size else None,
               split_touching=bool(split), exclude_border=bool(border))
    data["segmentation"] = seg
    data["units"] = units
    data["not_understood"] = []  # the user has reviewed the plan and chosen every field
    edited = AnalysisPlan.model_validate(data)
    meta = edited.meta
    edited.missing = [m for m in plan.missing if not m.startswith("the pixel size") or meta.pixel_size_um is None]
    if method == "manual" and threshold is None:
        edited.missing.append("a threshold value for the manual method")
    return edited


@dataclass
class RerunOutcome:
    result: Any | None
    message: str


def rerun(session: Any, plan: AnalysisPlan) -> RerunOutcome:
    """Run ``plan`` for the session's latest request on its image (or a synthetic one)."""
    found = last_plan(session)
    coder_for = getattr(getattr(session, "services", None), "code_assistant", None)
    if found is None or coder_for is None:
        return RerunOutcome(None, NO_PLAN)
    request, _ = found
    image = session.image.analysis_path if getattr(session, "image", None) else None
    started = time.perf_counter()
    result = coder_for(session.settings).run(request, image, plan=plan)
    verdict = "answered" if result.ok else ("not run: " + "; ".join(result.problems) if result.declined
                                            else "NOT answered: " + "; ".join(result.problems))
    return RerunOutcome(result, f"Re-ran the edited plan in {time.perf_counter() - started:.1f}s: {verdict}")


@dataclass
class RerunView:
    """What pressing Re-run changes: the status line, the code panel, the checklist text, the plan status."""

    status: str
    plan_status: str
    code: str | None = None
    run_output: str | None = None
    figures: list[str] | None = None
    plan_text: str | None = None


def press_rerun(session: Any, values: list[Any]) -> RerunView:
    """The Re-run button: edit the latest plan with the checklist's ``values`` and run it.

    A bad value (a channel the image lacks) gives one line naming the control, never a traceback; after a
    run the checklist text shows the plan that ran, and later re-runs start from it."""
    from scopebot.ui.controls import ui_message
    from scopebot.ui.render import ERROR, output_markdown
    from scopebot.ui.safety import inline_text, text_markdown

    found = last_plan(session)
    if found is None:
        return RerunView(status=NO_PLAN, plan_status=NO_PLAN)
    try:
        edited = edit_plan(found[1], *values)
        outcome = rerun(session, edited)
    except Exception as exc:  # noqa: BLE001 - shown to the user
        msg = ui_message(exc)
        return RerunView(status=f"{ERROR} {inline_text(msg.splitlines()[0])}",
                         plan_status=f"**{ERROR}** {text_markdown(msg)}")
    view = RerunView(status=outcome.message, plan_status=text_markdown(outcome.message))
    result = outcome.result
    if result is not None:
        view.code, view.figures = result.code, [str(f) for f in result.figures]
        view.run_output = output_markdown(result) or "_No output._"
        ran = getattr(result, "plan", None)
        if isinstance(ran, AnalysisPlan):
            view.plan_text = plan_markdown(ran)
            session.rerun_plan = (found[0], ran)
    return view


@dataclass
class PlanWidgets:
    inputs: list[Any]
    text: Any
    button: Any
    status: Any

    @property
    def fields(self) -> list[Any]:
        return [*self.inputs, self.text]


def build(gr: Any, enabled: bool = True) -> PlanWidgets:
    """The checklist widgets (call inside a ``gr.Blocks`` layout)."""
    with gr.Accordion("Plan (edit and re-run)", open=True, elem_id="plan-box"):
        text = gr.Markdown(NO_PLAN, elem_id="plan-text")
        with gr.Row():
            channel = gr.Number(1, label="Channel", precision=0, minimum=1, elem_id="plan-channel")
            dims = gr.Dropdown(DIMS, value="max", label="2-D / 3-D", elem_id="plan-dims")
            units = gr.Dropdown(UNITS, value="auto", label="Units", elem_id="plan-units")
        with gr.Row():
            method = gr.Dropdown(METHODS, value="otsu", label="Threshold method", elem_id="plan-method")
            threshold = gr.Number(None, label="Manual threshold", elem_id="plan-threshold")
            min_size = gr.Number(10, label="Min size (px)", precision=0, minimum=0, elem_id="plan-min-size")
            max_size = gr.Number(None, label="Max size (px)", precision=0, elem_id="plan-max-size")
        with gr.Row():
            split = gr.Checkbox(False, label="Split touching objects", elem_id="plan-split")
            border = gr.Checkbox(False, label="Drop objects touching the border", elem_id="plan-border")
            background = gr.Checkbox(False, label="Background correction", elem_id="plan-background")
        button = gr.Button("Re-run plan", elem_id="plan-rerun", interactive=enabled)
        status = gr.Markdown("", elem_id="plan-status")
    return PlanWidgets([channel, dims, method, threshold, min_size, max_size, units, split, border, background],
                       text, button, status)
