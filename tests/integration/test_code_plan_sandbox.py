"""The code assistant end to end in the real sandbox: issue 15's requests on synthetic images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.scenes import make_scene, write_scene
from scopebot.llm.scripted import ScriptedModel
from scopebot.sandbox.models import SandboxLimits
from scopebot.sandbox.runner import Sandbox

pytestmark = pytest.mark.integration

CASES = [
    ("find nuclei in the first channel and measure the mean intensity of the second channel inside each",
     "nuclei", {"channels": 2, "count": 9}, "plain", "column:mean_intensity_c2", "intensities_c2"),
    ("segment the nuclei in this 3D stack and report each volume in um^3 (voxel 2.0 z, 0.5 y/x)",
     "nuclei_3d", {"count": 6}, "plain", "column:volume_um3", "volumes_um3"),
    ("the illumination is uneven: correct the background and count the bright spots",
     "uneven_spots", {"count": 20}, "plain", "count", "count"),
    ("what percentage of the nuclei are positive for the marker in the second channel?",
     "nuclei", {"channels": 2, "count": 8, "positive": 3}, "plain", "positive_percent", "positive_percent"),
    ("track the bright spot and give its speed in um/s (0.2 um/px, 0.5 s/frame)",
     "moving_spot", {}, "plain", "mean_speed", "speed_um_per_s"),
    ("project by maximum intensity, then count the objects and give each area",
     "zstack_objects", {}, "ome", "column:area_um2", "areas_um2"),
    ("split the touching nuclei, give the count and the average area",
     "touching", {}, "ome", "mean_area", "mean_area_um2"),
    ("remove objects touching the border", "nuclei", {"count": 7, "border": 3}, "plain", "count", "count"),
]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(SandboxLimits(timeout_s=60), workers=1,
                 output_dir=tmp_path_factory.mktemp("runs")) as sb:
        yield sb


@pytest.mark.parametrize(("text", "scene_name", "params", "fmt", "key", "truth_key"), CASES,
                         ids=[c[1] + str(i) for i, c in enumerate(CASES)])
def test_issue_request_in_the_sandbox(sandbox: Sandbox, tmp_path: Path, text: str, scene_name: str, params: dict,
                                      fmt: str, key: str, truth_key: str) -> None:
    scene = make_scene(scene_name, seed=5, **params)
    image = write_scene(scene, tmp_path / ("in.ome.tif" if fmt == "ome" else "in.tif"), fmt)  # type: ignore[arg-type]
    result = CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None).run(text, image)
    assert result.ok, (result.problems, result.error, result.stdout[-500:])
    truth = scene.truth[truth_key]
    if key.startswith("column:"):
        assert sorted(result.columns[key[7:]]) == pytest.approx(sorted(truth), rel=0.15)
    else:
        assert result.values[key]["value"] == pytest.approx(truth, rel=0.05)
    assert "sandbox" not in result.code  # the script is plain Python from the blocks


def test_histogram_and_decline_in_the_sandbox(sandbox: Sandbox) -> None:
    coder = CodeAssistant(ScriptedModel(["x"], is_small=True), sandbox, None)
    hist = coder.run("Plot a histogram")
    assert hist.ok and hist.figures and Path(hist.figures[0]).suffix == ".png"
    beyond = coder.run("compute the fractal dimension of the vessels")
    assert beyond.declined and not beyond.ok and not beyond.ran
