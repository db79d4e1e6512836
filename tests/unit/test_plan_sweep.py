"""Robustness sweep: every request type through plan -> compiled blocks -> check, on fresh seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.scenes import make_scene, write_scene
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox

CASES = [
 ("find nuclei in the first channel and measure the mean intensity of the second channel inside each", "nuclei", {"channels": 2, "count": 9}, "column:mean_intensity_c2", "intensities_c2", 0.05),
 ("segment the nuclei in 3D and report each volume in um^3", "nuclei_3d", {"count": 6}, "column:volume_um3", "volumes_um3", 0.15),
 ("correct the background and count the spots", "uneven_spots", {"count": 20}, "count", "count", 0),
 ("what percentage of the nuclei are positive in the second channel?", "nuclei", {"channels": 2, "count": 8, "positive": 3}, "positive_percent", "positive_percent", 0.01),
 ("track the spots and give the speed", "moving_spot", {"spots": 2, "step": [1.5, 2.0]}, "mean_speed", "speed_um_per_s", 0.05),
 ("max projection, count the objects", "zstack_objects", {}, "count", "count", 0),
 ("split the touching nuclei and count them", "touching", {"pairs": 6}, "count", "count", 0),
 ("split the touching nuclei, average area", "touching", {"pairs": 6}, "mean_area", "mean_area_um2", 0.08),
 ("count nuclei not touching the border", "nuclei", {"count": 7, "border": 3}, "count", "count", 0),
 ("skeleton length of each filament in um", "filaments", {}, "column:skeleton_length_um", "lengths_um", 0.08),
 ("nearest neighbour distance in um", "grid", {}, "mean_nn_distance", "nn_um", 0.05),
 ("distance from channel 1 spots to the nearest channel 2 spot in um", "partners", {}, "mean_distance_to_c2", "distance_um", 0.08),
 ("pearson colocalisation of channel 1 and channel 2", "coloc", {"same": True}, "pearson_r", "pearson_r", 0.05),
 ("median filter then count the nuclei", "salt_pepper", {"count": 9}, "count", "count", 0),
]


@pytest.mark.parametrize("seed", [300, 301, 302])
@pytest.mark.parametrize(("text", "scene_name", "params", "key", "truth_key", "tol"), CASES,
                         ids=[f"{c[1]}-{c[3]}" for c in CASES])
def test_sweep(tmp_path: Path, seed: int, text: str, scene_name: str, params: dict, key: str, truth_key: str,
               tol: float) -> None:
    scene = make_scene(scene_name, seed=seed, **params)
    image = write_scene(scene, tmp_path / "in.ome.tif", "ome")
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), ExecSandbox(tmp_path), None).run(  # type: ignore[arg-type]
        text, image)
    assert result.ok, result.problems
    truth = scene.truth[truth_key]
    if key.startswith("column:"):
        assert sorted(result.columns[key[7:]]) == pytest.approx(sorted(truth), rel=tol)
    else:
        assert result.values[key]["value"] == pytest.approx(truth, rel=tol, abs=1e-9)
