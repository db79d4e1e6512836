"""An asked quantity is printed (and checked) or the run is not ok: tryout 17's 'average diameter' printed only
per-object columns, and 'how far does the spot move between two frames' printed the speed and the path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.scenes import make_scene, write_scene
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox, PrintingSandbox


def assistant(sandbox: object) -> CodeAssistant:
    return CodeAssistant(ScriptedModel(["never asked"], is_small=True), sandbox, None)  # type: ignore[arg-type]


def test_the_average_diameter_is_printed_and_promised(tmp_path: Path) -> None:
    scene = make_scene("nuclei", seed=4, count=8)
    image = write_scene(scene, tmp_path / "n.ome.tif", "ome")
    result = assistant(ExecSandbox(tmp_path)).run("what is the average diameter of the nuclei in pixels?", image)
    assert result.ok, result.problems
    truth = float(np.mean(np.sqrt(4 * np.asarray(scene.truth["areas_px"]) / np.pi)))
    assert result.values["equivalent_diameter_px"]["value"] == pytest.approx(truth, rel=0.08)
    assert any(a.startswith("equivalent_diameter_px = ") for a in result.answer)


def test_the_distance_between_two_frames_is_printed_and_promised(tmp_path: Path) -> None:
    scene = make_scene("moving_spot", seed=4)  # 3 px per frame at 0.2 um/px
    image = write_scene(scene, tmp_path / "m.ome.tif", "ome")
    result = assistant(ExecSandbox(tmp_path)).run("how far does the spot move between two frames, in um?", image)
    assert result.ok, result.problems
    assert result.values["mean_step_length"] == {"value": pytest.approx(0.6, rel=0.05), "unit": "um"}


def test_a_run_that_leaves_out_the_step_or_the_mean_diameter_is_not_ok(tmp_path: Path) -> None:
    scene = make_scene("moving_spot", seed=4)
    image = write_scene(scene, tmp_path / "m.ome.tif", "ome")
    old = ('SCOPEBOT_RESULT {"summary": {"tracks": {"value": 1, "unit": "tracks"}, "mean_speed": {"value": 1.2, '
           '"unit": "um/s"}, "mean_path_length": {"value": 5.4, "unit": "um"}}}')  # what the old script printed
    result = assistant(PrintingSandbox(old)).run("how far does the spot move between two frames, in um?", image)
    assert not result.ok and any("mean_step_length missing" in p for p in result.problems)
