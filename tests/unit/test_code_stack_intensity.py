"""Intensities inside objects of a z-stack are measured in 3-D (each object's voxels), not on the max projection,
unless the request asks for the projection, and the answer says which.

Tryout round 18: "measure the mean GFP intensity inside each DAPI nucleus" on a 24-plane stack measured the max
projection: the maximum of the noise over the planes raised every mean (369.1 for a truth of 324.4; +9 % and +30 %
per nucleus) and said ok. Synthetic stacks with known truth; the end-to-end tests fail on the projected means.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.blocks.segment import object_voxels
from scopebot.code.compile import compile_plan, projection_asked, stack_intensities
from scopebot.code.plan import AnalysisPlan, ImageMeta, Inputs, Measurement
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox

CENTRES = [(35, 35), (35, 120), (120, 35), (120, 120), (78, 78), (78, 140)]
GFP = [500, 500, 500, 150, 150, 150]


def spheres() -> np.ndarray:
    """ZYX masks (label per sphere) of 6 spheres of radius 4 um (voxel 1.0 z, 0.25 y/x) in a 24x160x160 stack."""
    zz, yy, xx = np.mgrid[:24, :160, :160]
    labels = np.zeros(zz.shape, np.int32)
    for k, (cy, cx) in enumerate(CENTRES):
        labels[((zz - 12) * 1.0) ** 2 + ((yy - cy) * .25) ** 2 + ((xx - cx) * .25) ** 2 <= 16] = k + 1
    return labels


def write_stack(path: Path) -> tuple[Path, float]:
    """The tryout's stack (channel 1 GFP, channel 2 DAPI) and the true mean over nuclei of the 3-D mean GFP."""
    import tifffile

    rng = np.random.default_rng(7)
    labels = spheres()
    dapi = np.where(labels > 0, 1000.0, 60.0)
    gfp = np.where(labels > 0, np.take([30.0, *GFP], labels), 30.0)
    stack = np.stack([gfp + rng.normal(0, 40, gfp.shape), dapi + rng.normal(0, 20, dapi.shape)], axis=1)
    stack = stack.clip(0).astype(np.uint16)
    truth = float(np.mean([stack[:, 0][labels == k].mean() for k in range(1, 7)]))
    tifffile.imwrite(path, stack, ome=True, metadata={"axes": "ZCYX", "PhysicalSizeX": .25, "PhysicalSizeY": .25,
                                                      "PhysicalSizeZ": 1.0, "Channel": {"Name": ["GFP", "DAPI"]}})
    return path, truth


def assistant(tmp_path: Path) -> CodeAssistant:
    return CodeAssistant(ScriptedModel(["never asked"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]


def test_object_voxels_are_the_objects_planes_above_the_level() -> None:
    labels3d = spheres()
    planes = np.where(labels3d > 0, 1000.0, 60.0)
    outline = labels3d.max(axis=0)
    voxels = object_voxels(outline, planes)
    assert voxels.shape == planes.shape
    assert np.array_equal(voxels, labels3d)  # exactly the spheres, not the columns under their outlines
    assert np.array_equal(object_voxels(outline, planes, "manual", value=2000), np.zeros_like(labels3d))


def _plan(z: int, how: str = "max", asked: bool = False) -> AnalysisPlan:
    plan = AnalysisPlan(meta=ImageMeta(axes="ZCYX", z=z, channels=2, pixel_size_um=0.25),
                        inputs=Inputs(z=how, channel=1), measurements=[Measurement(kind="intensity", channel=0)])  # type: ignore[arg-type]
    if asked:
        plan.understood.append("'max projection' -> inputs.z=max")
    return plan


def test_the_script_measures_a_stack_in_3d_unless_the_projection_was_asked() -> None:
    assert stack_intensities(_plan(24)) and "object_intensity(voxels, signal, 'mean', count=len(table))" in \
        compile_plan(_plan(24))
    assert projection_asked(_plan(24, asked=True)) and not stack_intensities(_plan(24, asked=True))
    assert "object_voxels" not in compile_plan(_plan(24, asked=True))
    assert "object_voxels" not in compile_plan(_plan(1))
    assert "object_voxels" not in compile_plan(_plan(24, how="3d"))


@pytest.mark.parametrize("request_text", ["measure the mean GFP intensity inside each DAPI nucleus",
                                          "count the nuclei and give the mean GFP intensity of each"])
def test_intensity_in_a_zstack_is_measured_in_3d_end_to_end(tmp_path: Path, request_text: str) -> None:
    image, truth = write_stack(tmp_path / "stack.ome.tif")
    result = assistant(tmp_path).run(request_text, image)
    assert result.ok, (result.problems, result.notes)
    assert result.values["mean_intensity_c1"]["value"] == pytest.approx(truth, rel=0.02)  # the projection: +14 %
    per_nucleus = sorted(result.columns["mean_intensity_c1"])
    assert per_nucleus[:3] == pytest.approx([150] * 3, rel=0.03) and per_nucleus[3:] == pytest.approx([500] * 3,
                                                                                                      rel=0.03)
    assert any("intensities measured in 3-D" in a for a in result.answer)


def test_an_asked_projection_is_kept_and_said(tmp_path: Path) -> None:
    image, truth = write_stack(tmp_path / "stack.ome.tif")
    result = assistant(tmp_path).run("on the max projection, measure the mean GFP intensity inside each DAPI "
                                     "nucleus", image)
    assert result.ok and result.values["mean_intensity_c1"]["value"] > 1.05 * truth  # what a max projection gives
    assert any("as asked" in a and "not those of the stack" in a for a in result.answer)
