"""The code assistant's flows: plan -> compiled blocks -> run -> result check, honest declines, free code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scopebot.code.assistant import CodeAssistant, extract_code, validate_image
from scopebot.code.scenes import make_scene, write_scene
from scopebot.errors import ConfigurationError
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox, PrintingSandbox

RESULT = 'SCOPEBOT_RESULT {"summary": {"count": {"value": 10, "unit": "objects"}}, "columns": {}}'  # the default scene has 10
GOOD = f"```python\nimport numpy as np\nprint('{RESULT}')\n```"
NO_RESULT_LINE = "```python\nimport numpy as np\nprint('Found 12 objects')\n```"
RUNTIME_BUG = "```python\nimport numpy as np\nraise ValueError('BUG here')\n```"
HALLUCINATED = "```python\nimport skimage.filters as f\nf.threshold_magic(1)\n```"


def test_extract_code_prefers_the_python_fence() -> None:
    assert extract_code("text\n```python\nx = 1\n```\nmore") == "x = 1\n"
    assert extract_code("```\ny = 2\n```") == "y = 2\n"
    assert extract_code("```python\nz = 3") == "z = 3\n"
    assert extract_code("w = 4") == "w = 4\n"


def test_small_model_plans_compiles_and_answers_with_the_right_numbers(tmp_path: Path) -> None:
    scene = make_scene("nuclei", seed=1, channels=2, count=6)
    image = write_scene(scene, tmp_path / "two.tif", "plain")
    model = ScriptedModel(["never asked"], is_small=True)
    sandbox = ExecSandbox(tmp_path)
    result = CodeAssistant(model, sandbox, None).run(  # type: ignore[arg-type]
        "find nuclei in the first channel and measure the mean intensity of the second channel inside each", image)
    assert result.ok and not result.declined and result.strategy == "plan"
    assert model.calls == []  # the tiny model is not asked to write code
    got = sorted(result.columns["mean_intensity_c2"])
    assert got == pytest.approx(scene.truth["intensities_c2"], rel=0.05)
    assert "def object_intensity" in result.code and "channel 1" in (result.plan_text or "")
    assert any("mean_intensity_c2" in a for a in result.answer)


def test_without_an_image_a_fitting_synthetic_scene_is_used_and_verified(tmp_path: Path) -> None:
    sandbox = ExecSandbox(tmp_path)
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(  # type: ignore[arg-type]
        "split the touching nuclei and count them")
    assert result.ok and result.synthetic and "touching" in result.synthetic
    assert result.verified is True


def test_beyond_the_vocabulary_declines_without_running(tmp_path: Path) -> None:
    sandbox = ExecSandbox(tmp_path)
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(  # type: ignore[arg-type]
        "compute the fractal dimension of the vessels")
    assert not result.ok and result.declined and not result.ran
    assert sandbox.calls == []
    text = " ".join(result.notes)
    assert "fractal" in text and "closest plan" in text and "would not answer" in text
    assert result.plan is not None and result.code  # the closest plan and its code are shown


def test_a_request_with_nothing_in_the_vocabulary_points_at_no_plan(tmp_path: Path) -> None:
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        "xxxx yyyy zzzz")
    assert result.declined and not result.ok and not result.ran
    text = " ".join(result.notes)
    assert "No plan in the vocabulary comes close" in text and "(below)" not in text


def test_missing_calibration_is_reported_not_guessed(tmp_path: Path) -> None:
    scene = make_scene("nuclei", seed=2, count=4)
    image = write_scene(scene, tmp_path / "plain.tif", "plain")
    sandbox = ExecSandbox(tmp_path)
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(  # type: ignore[arg-type]
        "measure the area of each nucleus in um^2", image)
    assert result.declined and not result.ok and sandbox.calls == []
    assert any("pixel size" in p for p in result.problems)


def test_a_run_that_breaks_a_promise_is_not_ok(tmp_path: Path) -> None:
    sandbox = PrintingSandbox(stdout='SCOPEBOT_RESULT {"summary": {"count": {"value": 3, "unit": "px"}}}\n')
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(  # type: ignore[arg-type]
        "count the nuclei")
    assert result.ran and not result.ok
    assert any("promised 'objects'" in p for p in result.problems)


def test_strong_model_fills_the_plan_json(tmp_path: Path) -> None:
    plan = {"inputs": {"channel": 0}, "measurements": [{"kind": "count"}], "outputs": {"figure": "none"}}
    model = ScriptedModel([json.dumps(plan)])
    sandbox = ExecSandbox(tmp_path)
    result = CodeAssistant(model, sandbox, None).run("how many blobs?")  # type: ignore[arg-type]
    assert result.ok and result.values["count"]["value"] == 10 and result.verified
    assert "JSON schema" in model.calls[0].messages[0].content
    assert any("plan filled by" in n for n in result.notes)


def test_strong_model_gets_the_plan_schema_as_structured_output(tmp_path: Path) -> None:
    """A backend with structured output receives the plan's schema through ``complete_json``; the
    fields scopebot fills itself are not in it."""

    class StructuredModel(ScriptedModel):
        supports_json_schema = True

        def __init__(self, replies: list[str]) -> None:
            super().__init__(replies)
            self.schemas: list[tuple[str, dict]] = []

        def complete_json(self, messages, schema, *, name="reply", max_tokens=None, temperature=None):  # type: ignore[no-untyped-def]
            self.schemas.append((name, schema))
            return self.complete(messages, max_tokens=max_tokens, temperature=temperature)

    plan = {"inputs": {"channel": 0}, "measurements": [{"kind": "count"}], "outputs": {"figure": "none"}}
    model = StructuredModel([json.dumps(plan)])
    result = CodeAssistant(model, ExecSandbox(tmp_path), None).run("how many blobs?")  # type: ignore[arg-type]
    assert result.ok and result.values["count"]["value"] == 10
    [(name, schema)] = model.schemas
    assert name == "analysis_plan" and "measurements" in schema["properties"]
    assert not {"understood", "missing", "version"} & set(schema["properties"])


def test_strong_model_invalid_plan_falls_back_to_the_vocabulary(tmp_path: Path) -> None:
    model = ScriptedModel(["not json", '{"measurements": [{"kind": "teleport"}]}'])
    result = CodeAssistant(model, ExecSandbox(tmp_path), None).run("count the nuclei")  # type: ignore[arg-type]
    assert result.ok and len(model.calls) == 2
    assert "validation error" in model.calls[1].messages[-1].content or "not valid" in model.calls[1].messages[-1].content
    assert any("vocabulary planner" in n for n in result.notes)


def test_strong_model_beyond_vocabulary_writes_free_code_checked_the_same_way(tmp_path: Path) -> None:
    plan = {"beyond_vocabulary": True, "not_understood": ["fractal"],
            "promised": [{"name": "count", "unit": "objects"}]}
    model = ScriptedModel([json.dumps(plan), RUNTIME_BUG, GOOD])
    sandbox = PrintingSandbox(stdout=RESULT + "\n")
    result = CodeAssistant(model, sandbox, None).run("fractal count")  # type: ignore[arg-type]
    assert result.strategy == "generate" and result.ok
    assert [r.source for r in result.rounds] == ["model", "repair"]
    assert "SCOPEBOT_RESULT" in model.calls[1].messages[0].content  # the model is told what to print
    assert "ValueError: BUG here" in model.calls[2].messages[0].content


def test_free_code_without_the_promised_numbers_is_not_ok(tmp_path: Path) -> None:
    model = ScriptedModel([NO_RESULT_LINE])
    sandbox = PrintingSandbox(stdout="Found 12 objects\n")
    result = CodeAssistant(model, sandbox, None, strategy="generate").run("count the nuclei")  # type: ignore[arg-type]
    assert result.ran and not result.ok and "no result line" in " ".join(result.problems)


def test_static_check_failures_are_not_run_and_get_repaired(tmp_path: Path) -> None:
    model = ScriptedModel([HALLUCINATED, GOOD])
    sandbox = PrintingSandbox(stdout=RESULT + "\n")
    result = CodeAssistant(model, sandbox, None, strategy="generate").run("count the nuclei")  # type: ignore[arg-type]
    assert result.ok
    assert result.rounds[0].run is None and "threshold_magic" in (result.rounds[0].error or "")
    assert len(sandbox.calls) == 1


def test_json_shape_has_the_cli_fields(tmp_path: Path) -> None:
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        "count the nuclei")
    data = result.to_json()
    for key in ("ok", "declined", "answer", "problems", "plan", "plan_text", "code", "ran", "stdout", "rounds"):
        assert key in data
    assert data["plan"]["measurements"][0]["kind"] == "count"
    json.dumps(data)


def test_image_validation(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        validate_image(tmp_path / "missing.tif")
    fake = tmp_path / "fake.tif"
    fake.write_text("not an image")
    with pytest.raises(ConfigurationError, match="not a TIFF"):
        validate_image(fake)


def test_user_image_is_passed_under_a_stable_name(tmp_path: Path) -> None:
    image = write_scene(make_scene("nuclei", seed=3, count=5), tmp_path / "cells.ome.tif", "ome")
    sandbox = PrintingSandbox(stdout=RESULT + "\n")
    CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run("count the nuclei", image)  # type: ignore[arg-type]
    assert sandbox.calls[0]["globals"] == {"IMAGE_PATH": "image.ome.tif"}
    assert sandbox.calls[0]["files"]["image.ome.tif"] == image


def test_a_result_contradicting_the_synthetic_truth_is_not_ok() -> None:
    sandbox = PrintingSandbox(stdout=RESULT.replace('"value": 10', '"value": 12') + "\n")
    model = ScriptedModel([GOOD.replace('"value": 10', '"value": 12')])
    result = CodeAssistant(model, sandbox, None, strategy="generate").run("count the nuclei")  # type: ignore[arg-type]
    assert result.ran and result.verified is False and not result.ok
    assert any("known contents" in p for p in result.problems)


def test_a_misspelt_word_gets_a_suggestion(tmp_path: Path) -> None:
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        "count the nuclei after a watershd split")  # ("watershedd" is corrected since round 18: test_plan_round18)
    assert result.declined and any("did you mean" in p and "watershed" in p for p in result.problems)
