"""The editable plan checklist: values from a plan, edits validated, re-run with the edited plan."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from scopebot.code.assistant import CodeAssistant
from scopebot.code.planner import Planner
from scopebot.llm.scripted import ScriptedModel
from scopebot.ui import plan_panel
from tests.unit.code_fakes import ExecSandbox


def test_values_and_edits_round_trip() -> None:
    plan = Planner().plan("split the touching nuclei in channel 2 and count them")
    values = plan_panel.plan_values(plan)
    assert values[:3] == [2, "max", "otsu"] and values[7] is True and "**Plan**" in values[-1]
    edited = plan_panel.edit_plan(plan, 1, "max", "li", None, 40, 900, "px", False, True, True)
    assert edited.inputs.channel == 0 and edited.segmentation is not None
    assert (edited.segmentation.method, edited.segmentation.min_size_px, edited.segmentation.max_size_px) == \
        ("li", 40, 900)
    assert edited.segmentation.exclude_border and not edited.segmentation.split_touching
    assert edited.preprocessing.background and edited.units == "px"
    manual = plan_panel.edit_plan(plan, 1, "max", "manual", None, 10, None, "auto", False, False, False)
    assert any("threshold value" in m for m in manual.missing)
    assert plan_panel.plan_values(None)[-1] == plan_panel.NO_PLAN


def test_rerun_runs_the_edited_plan_for_the_last_request(tmp_path: Path) -> None:
    coder = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]
    first = coder.run("count the nuclei")
    session = SimpleNamespace(turns=[SimpleNamespace(kind="code", payload=first, question="count the nuclei")],
                              services=SimpleNamespace(code_assistant=lambda _s: coder), settings=None, image=None)
    request, plan = plan_panel.last_plan(session)  # type: ignore[misc]
    assert request == "count the nuclei"
    edited = plan_panel.edit_plan(plan, 1, "max", "otsu", None, 10, None, "auto", False, False, False)
    edited.outputs.figure = "none"
    outcome = plan_panel.rerun(session, edited)
    assert outcome.result is not None and outcome.result.ok and "answered" in outcome.message
    assert outcome.result.plan.outputs.figure == "none"
    empty = SimpleNamespace(turns=[], services=None, settings=None, image=None)
    assert plan_panel.rerun(empty, edited).result is None


def test_the_page_has_the_plan_checklist(tmp_path: Path) -> None:
    from scopebot.settings import Settings
    from scopebot.ui.app import create_app
    from scopebot.ui.demo import DemoServices

    settings = Settings(home=tmp_path)
    for allowed in (True, False):
        config = create_app(DemoServices(settings, code_execution=allowed), settings).get_config_file()
        comps = {c["props"].get("elem_id"): c for c in config["components"] if c.get("props", {}).get("elem_id")}
        for elem in ("plan-text", "plan-channel", "plan-dims", "plan-method", "plan-threshold", "plan-min-size",
                     "plan-max-size", "plan-units", "plan-split", "plan-border", "plan-background", "plan-rerun"):
            assert elem in comps, elem
        assert comps["plan-rerun"]["props"]["interactive"] is allowed


def _rerun_session(tmp_path: Path, channels: int = 1) -> tuple[SimpleNamespace, list[str]]:
    coder = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]
    first = coder.run("count the nuclei")
    first.plan.meta.channels = channels
    calls: list[str] = []

    def code_assistant(_settings: object) -> CodeAssistant:
        calls.append("run")
        return coder

    session = SimpleNamespace(turns=[SimpleNamespace(kind="code", payload=first, question="count the nuclei")],
                              services=SimpleNamespace(code_assistant=code_assistant), settings=None, image=None,
                              rerun_plan=None)
    return session, calls


def test_rerun_updates_the_checklist_text_and_later_reruns_start_from_it(tmp_path: Path) -> None:
    session, _ = _rerun_session(tmp_path)
    view = plan_panel.press_rerun(session, [1, "max", "li", None, 400, None, "px", False, True, False])
    assert view.code and "answered" in view.status
    assert view.plan_text is not None and "min size 400 px" in view.plan_text and "li threshold" in view.plan_text
    assert "drop objects touching the border" in view.plan_text
    request, plan = plan_panel.last_plan(session)  # type: ignore[misc]
    assert request == "count the nuclei" and plan.segmentation.min_size_px == 400
    assert plan_panel.plan_values(plan)[-1] == view.plan_text


def test_rerun_with_a_channel_the_image_lacks_names_the_control(tmp_path: Path) -> None:
    session, calls = _rerun_session(tmp_path, channels=2)
    view = plan_panel.press_rerun(session, [5, "max", "otsu", None, 10, None, "auto", False, False, False])
    assert view.status.startswith("Error:") and "Channel 5" in view.status and "2 channels" in view.status
    assert "\n" not in view.status and "Traceback" not in view.plan_status
    assert "choose a channel from 1 to 2" in view.plan_status
    assert view.code is None and view.plan_text is None and not calls  # nothing was run
    ok = plan_panel.press_rerun(session, [2, "max", "otsu", None, 10, None, "auto", False, False, False])
    assert ok.plan_text is not None and "channel 2" in ok.plan_text


def test_a_declined_request_with_an_empty_plan_offers_no_plan(tmp_path: Path) -> None:
    coder = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]
    declined = coder.run("please frobnicate the quux")
    assert declined.declined and not declined.plan.promised()
    session = SimpleNamespace(turns=[SimpleNamespace(kind="code", payload=declined, question="q")], rerun_plan=None)
    assert plan_panel.last_plan(session) is None


def test_rerun_button_updates_the_checklist_text(tmp_path: Path) -> None:
    from scopebot.settings import Settings
    from scopebot.ui.app import create_app
    from scopebot.ui.demo import DemoServices

    config = create_app(DemoServices(Settings(home=tmp_path)), Settings(home=tmp_path)).get_config_file()
    ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    rerun_id = next(i for i, e in ids.items() if e == "plan-rerun")
    dep = next(d for d in config["dependencies"] if [rerun_id, "click"] in [list(t) for t in d["targets"]])
    assert "plan-text" in {ids.get(o) for o in dep["outputs"]}
