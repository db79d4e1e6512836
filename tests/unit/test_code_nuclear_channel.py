"""Nuclei are found in the channel the file names as the nuclear stain, and the answer names the channel.

Tryout round 18: "count the nuclei" on an OME file whose channel 1 is GFP and channel 2 DAPI segmented channel 1
and counted the 3 bright-GFP nuclei of 6, `ok`, and the answer line never named the channel. Synthetic images
with known truth; the planning and end-to-end tests fail on the code before this change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.nuclear_channel import nuclear_stain_channel, objects_channel_text, use_nuclear_channel
from scopebot.code.plan import ImageMeta
from scopebot.code.planner import Planner
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox

NUCLEAR = ("dapi", "hoechst", "draq5", "h2b")


@pytest.fixture(scope="module")
def planner() -> Planner:
    return Planner()


def meta(names: list[str], channels: int = 2) -> ImageMeta:
    return ImageMeta(axes="CYX", channels=channels, pixel_size_um=0.25, channel_names=names)


def plan_for(planner: Planner, request: str, names: list[str], channels: int = 2):  # noqa: ANN201
    stains = [s for s, role in planner.vocab.stain_roles.items() if role == "objects"]
    return use_nuclear_channel(planner.plan(request, meta(names, channels)), request, stains)


def test_the_nuclear_stain_channel_is_found_by_name() -> None:
    assert nuclear_stain_channel(meta(["GFP", "DAPI"]), NUCLEAR) == 1
    assert nuclear_stain_channel(meta(["Hoechst 33342", "mCherry"]), NUCLEAR) == 0
    assert nuclear_stain_channel(meta(["Alexa 488", "Nuclei"]), NUCLEAR) == 1
    assert nuclear_stain_channel(meta(["GFP", "mCherry"]), NUCLEAR) is None
    assert nuclear_stain_channel(meta(["DAPI", "Hoechst"]), NUCLEAR) is None  # two: not a guess
    assert nuclear_stain_channel(meta([]), NUCLEAR) is None


@pytest.mark.parametrize(("request_text", "objects", "other"), [
    ("count the nuclei", 1, None),
    ("how many nuclei are there and what is their area?", 1, None),
    ("what percentage of nuclei are GFP positive?", 1, ("positivity", 0)),
    ("what percentage of nuclei are positive?", 1, ("positivity", 0)),
    ("count the nuclei and measure the mean GFP intensity in them", 1, ("intensity", 0)),
    ("count the nuclei and measure their mean intensity", 1, ("intensity", 1)),
    ("count the nuclei in channel 1", 0, None),  # the request says so: kept
    ("count the DAPI nuclei", 1, None),
    ("count the cells", 0, None),  # not nuclei: unchanged (the answer names the channel)
    # the request gives the DAPI channel another role: no guess against it (the answer names channel 1, GFP)
    ("what percentage of the nuclei are positive for the marker in the second channel?", 0, ("positivity", 1)),
])
def test_nuclei_go_to_the_nuclear_stain_channel(planner: Planner, request_text: str, objects: int,
                                                other: tuple[str, int] | None) -> None:
    plan = plan_for(planner, request_text, ["GFP", "DAPI"])
    assert plan.inputs.channel == objects
    if other is not None:
        kind, channel = other
        assert next(m for m in plan.measurements if m.kind == kind).channel == channel


def test_unnamed_or_non_nuclear_channels_keep_the_first_and_the_answer_names_it(planner: Planner) -> None:
    unnamed = plan_for(planner, "count the nuclei", [])
    assert unnamed.inputs.channel == 0
    assert objects_channel_text(unnamed) == ("objects found in channel 1 of 2 (the file does not name its channels; "
                                             "say e.g. 'nuclei in channel 2' for another)")
    other = plan_for(planner, "count the nuclei", ["GFP", "mCherry"])
    assert other.inputs.channel == 0 and objects_channel_text(other) == "objects found in channel 1 (GFP)"
    single = plan_for(planner, "count the nuclei", [], channels=1)
    assert objects_channel_text(single) == "objects found in channel 1 (the image's only channel)"


# --- end to end --------------------------------------------------------------------------------------------------
def write_gfp_first(path: Path, three_d: bool) -> Path:
    """The tryout's image: 6 nuclei (spheres of r 4 um) bright in DAPI (channel 2); only 3 bright in GFP (ch 1)."""
    import tifffile

    rng = np.random.default_rng(7)
    depth, size = (24, 160) if three_d else (1, 160)
    zz, yy, xx = np.mgrid[:depth, :size, :size]
    dapi, gfp = np.full(zz.shape, 60.0), np.full(zz.shape, 30.0)
    centres = [(35, 35), (35, 120), (120, 35), (120, 120), (78, 78), (78, 140)]
    for k, (cy, cx) in enumerate(centres):
        m = ((zz - (12 if three_d else 0)) * 1.0) ** 2 + ((yy - cy) * .25) ** 2 + ((xx - cx) * .25) ** 2 <= 16
        dapi[m], gfp[m] = 1000, (500 if k < 3 else 60)
    stack = np.stack([gfp + rng.normal(0, 20, gfp.shape), dapi + rng.normal(0, 20, dapi.shape)], axis=1)
    stack = stack.clip(0).astype(np.uint16)
    axes = "ZCYX" if three_d else "CYX"
    extra = {"PhysicalSizeZ": 1.0} if three_d else {}
    tifffile.imwrite(path, stack if three_d else stack[0], ome=True,
                     metadata={"axes": axes, "PhysicalSizeX": .25, "PhysicalSizeY": .25, **extra,
                               "Channel": {"Name": ["GFP", "DAPI"]}})
    return path


@pytest.mark.parametrize(("request_text", "three_d"), [("count the nuclei", False), ("count the nuclei in 3D", True),
                                                       ("how many nuclei are in this z-stack?", True)])
def test_count_the_nuclei_uses_the_dapi_channel_end_to_end(tmp_path: Path, request_text: str, three_d: bool) -> None:
    image = write_gfp_first(tmp_path / "gfp_first.ome.tif", three_d)
    assistant = CodeAssistant(ScriptedModel(["never asked"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]
    result = assistant.run(request_text, image)
    assert result.ok, (result.problems, result.notes)
    assert result.values["count"]["value"] == 6  # channel 1 (GFP) gave 3
    assert "objects found in channel 2 (DAPI)" in result.answer
    assert result.plan is not None and any("nuclear stain" in u for u in result.plan.understood)
