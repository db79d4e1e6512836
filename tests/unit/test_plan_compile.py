"""Compiled scripts: readable, statically clean, and right on the issue's smoke requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.checks import check_code
from scopebot.code.compile import compile_plan
from scopebot.code.plan import AnalysisPlan, Measurement, Promise
from scopebot.code.planner import Planner
from scopebot.code.scenes import make_scene, write_scene
from scopebot.code.verify import check_promises
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox

# (request, scene, params, file format, {summary: truth key} or {column: truth key}) - issue 15's table
SMOKE = [
    ("find nuclei in the first channel and measure the mean intensity of the second channel inside each",
     "nuclei", {"channels": 2, "count": 9}, "plain", {"column:mean_intensity_c2": "intensities_c2"}),
    ("segment the nuclei in this 3D stack and report each volume in um^3 (voxel 2.0 z, 0.5 y/x)",
     "nuclei_3d", {"count": 6}, "plain", {"column:volume_um3": "volumes_um3"}),
    ("the illumination is uneven: correct the background and count the bright spots",
     "uneven_spots", {"count": 20}, "plain", {"count": "count"}),
    ("what percentage of the nuclei are positive for the marker in the second channel?",
     "nuclei", {"channels": 2, "count": 8, "positive": 3}, "plain", {"positive_percent": "positive_percent"}),
    ("track the bright spot and give its speed in um/s (0.2 um/px, 0.5 s/frame)",
     "moving_spot", {}, "plain", {"mean_speed": "speed_um_per_s"}),
    ("project by maximum intensity, then count the objects and give each area",
     "zstack_objects", {}, "ome", {"count": "count", "column:area_um2": "areas_um2"}),
    ("split the touching nuclei, give the count and the average area",
     "touching", {}, "ome", {"count": "count", "mean_area": "mean_area_um2"}),
    ("remove objects touching the border", "nuclei", {"count": 7, "border": 3}, "plain", {"count": "count"}),
]


@pytest.mark.parametrize(("request_text", "scene_name", "params", "fmt", "expect"), SMOKE,
                         ids=[s[1] + str(i) for i, s in enumerate(SMOKE)])
def test_issue_requests_get_the_true_numbers(tmp_path: Path, request_text: str, scene_name: str, params: dict,
                                             fmt: str, expect: dict[str, str]) -> None:
    scene = make_scene(scene_name, seed=3, **params)
    image = write_scene(scene, tmp_path / ("in.ome.tif" if fmt == "ome" else "in.tif"), fmt)  # type: ignore[arg-type]
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        request_text, image)
    assert result.ok, result.problems
    for key, truth_key in expect.items():
        truth = scene.truth[truth_key]
        if key.startswith("column:"):
            got = sorted(result.columns[key.split(":", 1)[1]])
            assert got == pytest.approx(sorted(truth), rel=0.15)
        else:
            assert result.values[key]["value"] == pytest.approx(truth, rel=0.05)


def test_histogram_request_draws_a_figure(tmp_path: Path) -> None:
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        "Plot a histogram")
    assert result.ok and result.figures and "histogram_figure(" in result.code


def test_compiled_code_is_clean_and_uses_only_needed_blocks() -> None:
    plan = Planner().plan("split the touching nuclei, give the count and the average area")
    code = compile_plan(plan)
    report = check_code(code)
    assert not [i for i in report.issues if i.kind != "absolute_path"], report.to_text()
    assert "def split_touching" in code and "def link_tracks" not in code and "def colocalisation" not in code
    assert code.startswith('"""Analysis compiled by scopebot from this plan')
    for kind in ("count", "size", "intensity", "shape", "skeleton_length", "nn_distance", "object_distance",
                 "colocalisation", "positivity", "tracking"):
        one = AnalysisPlan(measurements=[Measurement(kind=kind, channel=1 if kind != "count" else None)])  # type: ignore[arg-type]
        compile(compile_plan(one), f"{kind}.py", "exec")


def test_result_check_reads_long_tables_from_the_copied_result_file(tmp_path: Path) -> None:
    import json

    (tmp_path / "scopebot_result.json").write_text(json.dumps({"columns": {"area_um2": [2.0] * 5000}}))
    line = ('SCOPEBOT_RESULT {"summary": {"count": {"value": 5000, "unit": "objects"}}, '
            '"columns_file": "scopebot_result.json"}')
    promises = [Promise(name="count", unit="objects"), Promise(name="area_um2", unit="um^2", where="column")]
    assert check_promises(promises, line, [], [str(tmp_path / "scopebot_result.json")]).ok
    assert not check_promises(promises, line, [], []).ok  # the file did not come back: not answered


def test_result_check_needs_every_promise_with_its_unit() -> None:
    promises = [Promise(name="count", unit="objects"), Promise(name="area_um2", unit="um^2", where="column")]
    line = 'SCOPEBOT_RESULT {"summary": {"count": {"value": 4, "unit": "objects"}}, "columns": {"area_um2": [1.5]}}'
    assert check_promises(promises, line, []).ok
    assert not check_promises(promises, line.replace('"objects"', '"px"'), []).ok
    assert not check_promises(promises, line.replace("area_um2", "area_px"), []).ok
    assert not check_promises(promises, "Found 4 objects", []).ok
    empty = line.replace("[1.5]", "[]").replace('"value": 4', '"value": 0')
    verdict = check_promises(promises, empty, [])
    assert not verdict.ok and any("no objects" in p for p in verdict.problems)
    assert not check_promises([Promise(name="histogram", unit="", where="figure")], line, []).ok


def test_nothing_left_after_the_users_size_filter_says_that_0_may_be_the_answer() -> None:
    from scopebot.code.plan import AnalysisPlan
    from scopebot.code.verify import NOTHING_FOUND_HINT, nothing_found_hint

    plain = AnalysisPlan()
    assert nothing_found_hint(plain) == NOTHING_FOUND_HINT  # the debris floor is not the user's filter
    big = plain.model_copy(update={"segmentation": plain.segmentation.model_copy(update={"min_size_px": 400})})
    hint = nothing_found_hint(big)
    assert "at least 400 px" in hint and "0 is your answer" in hint
    line = 'SCOPEBOT_RESULT {"summary": {"count": {"value": 0, "unit": "objects"}}, "columns": {}}'
    verdict = check_promises([Promise(name="count", unit="objects")], line, [], hint=hint)
    assert not verdict.ok and "0 is your answer" in verdict.problems[0]
