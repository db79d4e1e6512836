"""The code assistant's flow with a scripted model and a recording sandbox double."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scopebot.code.assistant import CodeAssistant, extract_code, validate_image
from scopebot.errors import ConfigurationError
from scopebot.llm.scripted import ScriptedModel
from scopebot.sandbox.models import RunResult

GOOD = "```python\nimport numpy as np\nprint('Found 12 objects')\n```"
RUNTIME_BUG = "```python\nimport numpy as np\nraise ValueError('BUG here')\n```"
HALLUCINATED = "```python\nimport skimage.filters as f\nf.threshold_magic(1)\n```"


class RecordingSandbox:
    """Runs nothing: code containing 'BUG' fails, anything else prints what it printed."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run(self, code: str, *, files: Any = (), globals: Any = None, **_: Any) -> RunResult:
        self.calls.append({"code": code, "files": dict(files), "globals": dict(globals or {})})
        if "BUG" in code:
            return RunResult(ok=False, error="ValueError: BUG here", traceback="Traceback ...\nValueError: BUG here")
        return RunResult(ok=True, stdout="Found 12 objects\n", figures=["/x/figure_1.png"])


def _assistant(script: list[str], *, small: bool = False, rounds: int = 2) -> tuple[CodeAssistant, ScriptedModel,
                                                                                    RecordingSandbox]:
    model = ScriptedModel(script, is_small=small)
    sandbox = RecordingSandbox()
    return CodeAssistant(model, sandbox, None, max_rounds=rounds), model, sandbox  # type: ignore[arg-type]


def test_extract_code_prefers_the_python_fence() -> None:
    assert extract_code("text\n```python\nx = 1\n```\nmore") == "x = 1\n"
    assert extract_code("```\ny = 2\n```") == "y = 2\n"
    assert extract_code("```python\nz = 3") == "z = 3\n"
    assert extract_code("w = 4") == "w = 4\n"


def test_good_code_runs_in_one_round_on_a_synthetic_image() -> None:
    assistant, model, sandbox = _assistant([GOOD])
    result = assistant.run("count the nuclei")
    assert result.ok and result.ran and len(result.rounds) == 1 and result.fallback_recipe is None
    assert result.strategy == "generate"
    assert sandbox.calls[0]["globals"] == {"IMAGE_PATH": "image.ome.tif"}
    assert "image.ome.tif" in sandbox.calls[0]["files"]
    assert result.synthetic and result.verified is True
    assert "count the nuclei" in model.calls[0].messages[0].content
    assert "def load_image" in model.calls[0].messages[0].content  # the recipe was given as an example


def test_repair_uses_the_traceback_and_is_recorded() -> None:
    assistant, model, sandbox = _assistant([RUNTIME_BUG, GOOD])
    result = assistant.run("count the nuclei")
    assert result.ok and [r.source for r in result.rounds] == ["model", "repair"]
    assert "ValueError: BUG here" in model.calls[1].messages[0].content
    assert result.rounds[0].error and not result.rounds[0].ok


def test_static_check_failures_are_not_run_and_get_repaired() -> None:
    assistant, model, sandbox = _assistant([HALLUCINATED, GOOD])
    result = assistant.run("threshold with otsu")
    assert result.ok
    assert result.rounds[0].run is None and "threshold_magic" in (result.rounds[0].error or "")
    assert len(sandbox.calls) == 1  # only the repaired code ran
    assert "threshold_magic" in model.calls[1].messages[0].content


def test_recipe_is_the_fallback_after_bounded_repairs() -> None:
    assistant, model, sandbox = _assistant([RUNTIME_BUG], rounds=2)
    result = assistant.run("count the nuclei")
    assert [r.source for r in result.rounds] == ["model", "repair", "repair", "recipe"]
    assert len(model.calls) == 3
    assert result.fallback_recipe == "count_nuclei" and result.ok
    assert any("verified recipe" in n for n in result.notes)


def test_small_models_use_recipe_first_without_asking_the_model() -> None:
    assistant, model, sandbox = _assistant([RUNTIME_BUG], small=True)
    result = assistant.run("how many nuclei are there")
    assert result.strategy == "recipe-first" and result.fallback_recipe == "count_nuclei"
    assert model.calls == [] and result.ok
    assert any("recipe-first" in n for n in result.notes)


def test_small_model_without_matching_recipe_still_generates() -> None:
    assistant, model, sandbox = _assistant([GOOD], small=True)
    result = assistant.run("print hello world")
    assert result.strategy == "generate" and len(model.calls) == 1


def test_json_shape_has_the_cli_fields() -> None:
    assistant, _, _ = _assistant([GOOD])
    data = assistant.run("count the nuclei").to_json()
    for key in ("code", "ran", "stdout", "stderr", "error", "figures", "files", "rounds", "checks",
                "fallback_recipe"):
        assert key in data
    assert isinstance(data["rounds"], list) and data["rounds"][0]["ok"] is True


def test_image_validation(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        validate_image(tmp_path / "nope.tif")
    fake = tmp_path / "notes.tif"
    fake.write_text("hello")
    with pytest.raises(ConfigurationError, match="not a TIFF"):
        validate_image(fake)
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    assert validate_image(png) == png


def test_user_image_is_passed_under_a_stable_name(tmp_path: Path) -> None:
    from scopebot.code.synthetic import make_nuclei_image, write_ome_tiff

    image, _ = make_nuclei_image(count=2, shape=(64, 64), radius=5)
    path = write_ome_tiff(tmp_path / "cells.ome.tif", image, 0.2)
    assistant, _, sandbox = _assistant([GOOD])
    result = assistant.run("count the nuclei", path)
    assert sandbox.calls[0]["files"] == {"image.ome.tif": path}
    assert result.synthetic is None and result.verified is None and result.image == str(path)
