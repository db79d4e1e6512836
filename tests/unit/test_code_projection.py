"""A projection never gives a wrong number claimed ok: objects stacked in z, and a plain-TIFF time-lapse.

Tryout round 17: "how many beads are in this z-stack?" on 5 beads (two pairs stacked in z) counted 3 on the
max projection and said ok; a plain TIFF (no axes) time-lapse whose request said "This is a time-lapse" was
projected over all 20 frames (77.76 um^2 instead of 7.84) and said ok. Synthetic images with known truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.blocks.segment import projection_check
from scopebot.code.compile import PROJECTION_CHECKS, compile_plan
from scopebot.code.plan import AnalysisPlan, ImageMeta, Inputs, Measurement
from scopebot.code.scenes import make_scene
from scopebot.code.verify import projection_problems
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox

SPOT_AREA_PX = 49  # a disc of radius 4 px


def overlap_stack(pairs: bool = True) -> np.ndarray:
    """ZYX 24x72x72 beads of radius 2 um (voxel 1.5 z, 0.2 y/x): two stacked at one x/y, one alone -> 3 beads."""
    rng = np.random.default_rng(3)
    zz, yy, xx = np.mgrid[:24, :72, :72]
    vol = np.full(zz.shape, 100.0)
    centres = [(5, 20, 20), (18, 20, 20), (11, 50, 50)] if pairs else [(5, 20, 20), (11, 50, 50)]
    for cz, cy, cx in centres:
        vol[((zz - cz) * 1.5) ** 2 + ((yy - cy) * 0.2) ** 2 + ((xx - cx) * 0.2) ** 2 <= 4] = 1200
    return (vol + rng.poisson(15, vol.shape)).astype(np.uint16)


def moving_spot(frames: int = 20) -> np.ndarray:
    """TYX: one disc of 49 px moving 3 px per frame (the tryout's movie)."""
    yy, xx = np.mgrid[:64, :96]
    movie = np.full((frames, 64, 96), 100, np.uint16)
    for t in range(frames):
        movie[t][(yy - 32) ** 2 + (xx - (10 + 3 * t)) ** 2 <= 16] = 2000
    return movie


def write_ome_zyx(path: Path, stack: np.ndarray) -> Path:
    import tifffile

    tifffile.imwrite(path, stack, ome=True, metadata={"axes": "ZYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2,
                                                      "PhysicalSizeZ": 1.5})
    return path


def write_plain(path: Path, stack: np.ndarray) -> Path:
    import tifffile

    tifffile.imwrite(path, stack)  # what many scripts write: no axes, no calibration (read as 'QYX')
    return path


def labels_of(projection: np.ndarray) -> np.ndarray:
    from skimage import filters, measure

    return measure.label(projection > filters.threshold_otsu(projection))


def assistant(tmp_path: Path) -> CodeAssistant:
    return CodeAssistant(ScriptedModel(["never asked"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]


# --- the block --------------------------------------------------------------------------------------------
def test_projection_check_finds_objects_stacked_in_z() -> None:
    stack = overlap_stack().astype(float)
    labels = labels_of(stack.max(axis=0))
    assert labels.max() == 2  # the projection shows 2 objects for 3 beads
    assert projection_check(stack, labels) == (1, 0)


def test_projection_check_finds_one_thing_spread_over_the_planes() -> None:
    movie = moving_spot().astype(float)
    labels = labels_of(movie.max(axis=0))
    assert labels.max() == 1 and (labels > 0).sum() > 5 * SPOT_AREA_PX  # a streak, not a spot
    assert projection_check(movie, labels) == (0, 1)


@pytest.mark.parametrize(("scene", "params"), [("nuclei_3d", {}), ("zstack_objects", {})])
def test_projection_check_passes_faithful_projections(scene: str, params: dict) -> None:
    data = make_scene(scene, seed=2, **params).data.astype(float)
    labels = labels_of(data.max(axis=0))
    assert projection_check(data, labels) == (0, 0)
    assert projection_check(overlap_stack(pairs=False).astype(float),
                            labels_of(overlap_stack(pairs=False).max(axis=0).astype(float))) == (0, 0)


def test_projection_check_is_silent_on_a_single_plane() -> None:
    plane = moving_spot(1).astype(float)
    assert projection_check(plane, labels_of(plane[0])) == (0, 0)


# --- compile and verify ------------------------------------------------------------------------------------
def _plan(z: int, kinds: tuple[str, ...] = ("count",), stated: tuple[str, ...] = (), axes: str = "ZYX",
          how: str = "max") -> AnalysisPlan:
    return AnalysisPlan(meta=ImageMeta(axes=axes, z=z, pixel_size_um=0.2, stated=list(stated)),
                        inputs=Inputs(z=how), measurements=[Measurement(kind=k) for k in kinds])  # type: ignore[arg-type]


def test_a_projected_plan_checks_its_projection_and_a_2d_plan_does_not() -> None:
    code = compile_plan(_plan(z=24))
    assert "def projection_check" in code and all(name in code for name in PROJECTION_CHECKS)
    code2d = compile_plan(_plan(z=1, axes="YX"))
    assert "projection_check" not in code2d
    assert "projection_check" not in compile_plan(_plan(z=24, how="3d"))


def test_the_script_reads_the_axes_the_request_gave() -> None:
    assert "load_image(IMAGE_PATH, axes='TYX')" in compile_plan(_plan(z=1, axes="TYX", stated=("axes",)))
    assert "load_image(IMAGE_PATH)" in compile_plan(_plan(z=20, axes="QYX"))


def test_projection_problems_name_what_the_projection_broke() -> None:
    def summary(stacked: int, spread: int) -> dict:
        return {PROJECTION_CHECKS[0]: {"value": stacked, "unit": "objects"},
                PROJECTION_CHECKS[1]: {"value": spread, "unit": "objects"}}

    assert projection_problems(_plan(24), summary(0, 0)) == []
    assert projection_problems(_plan(24), {}) == []  # free code: no check printed
    assert "different depths" in projection_problems(_plan(24), summary(2, 0))[0]
    assert projection_problems(_plan(24), summary(0, 1)) == []  # a spread spot is still one spot
    assert "time-lapse" in projection_problems(_plan(24, ("size",)), summary(0, 1))[0]
    assert projection_problems(_plan(24, ("colocalisation",)), summary(2, 1)) == []
    assert projection_problems(_plan(24, how="3d"), summary(2, 1)) == []


# --- end to end (in-process runs of the compiled blocks) -----------------------------------------------------
@pytest.mark.parametrize("request_text", ["how many beads are in this z-stack?",
                                          "We imaged beads on our spinning disk. How many are there?"])
def test_a_count_on_a_zstack_with_beads_stacked_in_z_is_right(tmp_path: Path, request_text: str) -> None:
    image = write_ome_zyx(tmp_path / "overlap.ome.tif", overlap_stack())
    result = assistant(tmp_path).run(request_text, image)
    assert result.ok, (result.problems, result.notes)
    assert result.values["count"]["value"] == 3  # the projection gave 2 and said ok
    assert result.plan is not None and result.plan.is_3d
    assert any("3-D" in n and "different depths" in n for n in result.notes)


def test_a_size_on_a_zstack_with_beads_stacked_in_z_is_not_claimed_ok(tmp_path: Path) -> None:
    image = write_ome_zyx(tmp_path / "overlap.ome.tif", overlap_stack())
    result = assistant(tmp_path).run("count the beads and give their mean area in um2", image)
    assert not result.ok
    assert any("different depths" in p for p in result.problems)


def test_beads_side_by_side_are_still_counted_on_the_projection(tmp_path: Path) -> None:
    image = write_ome_zyx(tmp_path / "apart.ome.tif", overlap_stack(pairs=False))
    result = assistant(tmp_path).run("how many beads are in this z-stack?", image)
    assert result.ok and result.values["count"]["value"] == 2
    assert result.plan is not None and not result.plan.is_3d
    assert any("max projection of 24 planes (checked: it merged no objects" in a for a in result.answer)


@pytest.mark.parametrize("request_text", ["This is a time-lapse, 0.4 um per pixel. How big is the spot in um2?",
                                          "This movie (0.4 um pixels) shows one spot. What is the spot's area in um2?"])
def test_a_plain_tiff_time_lapse_is_not_projected_as_z(tmp_path: Path, request_text: str) -> None:
    image = write_plain(tmp_path / "movie.tif", moving_spot())
    result = assistant(tmp_path).run(request_text, image)
    assert not result.ok  # the OME movie declines the same way: which frame?
    assert any("which time point (the image has 20)" in p for p in result.problems)
    assert result.plan is not None and result.plan.meta.t == 20 and result.plan.meta.z == 1


def test_the_plan_and_the_script_agree_on_the_frame_of_a_plain_tiff_time_lapse(tmp_path: Path) -> None:
    image = write_plain(tmp_path / "movie.tif", moving_spot())
    result = assistant(tmp_path).run("This is a time-lapse, 0.4 um per pixel. How big is the spot in frame 1, "
                                     "in um2?", image)
    assert result.ok, (result.problems, result.notes)
    assert "frame 1" in (result.plan_text or "") and "axes='TYX'" in result.code
    # 7.84 um^2 within the smoothing's halo on this noise-free movie (all 20 frames projected gave ~10x)
    assert result.values["mean_area"]["value"] == pytest.approx(SPOT_AREA_PX * 0.16, rel=0.25)


def test_a_plain_tiff_time_lapse_can_be_tracked(tmp_path: Path) -> None:
    image = write_plain(tmp_path / "movie.tif", moving_spot())
    result = assistant(tmp_path).run("Frames are 2 s apart and pixels are 0.4 um. What is the total distance the "
                                     "spot travels?", image)
    assert result.ok, (result.problems, result.notes)
    assert result.values["total_path_length"]["value"] == pytest.approx(19 * 3 * 0.4, rel=0.05)


def test_a_spread_spot_in_an_unnamed_stack_is_not_claimed_ok(tmp_path: Path) -> None:
    image = write_plain(tmp_path / "movie.tif", moving_spot())
    result = assistant(tmp_path).run("0.4 um pixels. What is the area of the spot?", image)
    assert not result.ok  # nothing says the planes are time points: the streak is no spot's area
    assert any("different x/y" in p for p in result.problems)


def test_a_request_naming_both_z_and_time_on_an_unnamed_axis_is_asked(tmp_path: Path) -> None:
    image = write_plain(tmp_path / "movie.tif", moving_spot())
    result = assistant(tmp_path).run("This z-stack time-lapse has 0.4 um pixels. What is the spot's area in um2?",
                                     image)
    assert not result.ok and result.declined
    assert any("z or time points" in p for p in result.problems)


# --- the file's axes ---------------------------------------------------------------------------------------
def test_an_unnamed_axis_is_read_as_z_and_as_time_when_the_request_says_so(tmp_path: Path) -> None:
    from scopebot.code.inputs import image_meta, planes_named, read_unnamed_as_time, unnamed_axis

    meta = image_meta(write_plain(tmp_path / "movie.tif", moving_spot()))
    assert (meta.axes, meta.z, meta.t, unnamed_axis(meta)) == ("QYX", 20, 1, "Q")
    timed = read_unnamed_as_time(meta)
    assert (timed.axes, timed.z, timed.t, timed.stated) == ("TYX", 1, 20, ["axes"])
    assert unnamed_axis(image_meta(write_ome_zyx(tmp_path / "z.ome.tif", overlap_stack()))) is None
    assert planes_named("This is a time-lapse, 0.4 um per pixel.") == {"T"}
    assert planes_named("This movie (0.4 um pixels) shows one spot") == {"T"}
    assert planes_named("Frames are 2 s apart") == {"T"}
    assert planes_named("count the beads in 3D") == {"Z"}
    assert planes_named("how big is the spot?") == set()


def test_the_metadata_reads_unnamed_axes_as_the_script_does() -> None:
    from scopebot.code.blocks.io import canonical_axes, to_tczyx

    assert canonical_axes("QYX") == "ZYX" and canonical_axes("ZQYX") == "ZTYX" and canonical_axes("YXS") == "YXC"
    assert to_tczyx(np.zeros((4, 3, 5, 6)), "ZQYX").shape == (3, 1, 4, 5, 6)
    assert to_tczyx(np.zeros((4, 5, 6)), "TYX").shape == (4, 1, 1, 5, 6)


# --- a positivity answer says its threshold ----------------------------------------------------------------
def test_a_positivity_answer_shows_the_threshold_it_used(tmp_path: Path) -> None:
    from scopebot.code.scenes import write_scene

    scene = make_scene("nuclei", seed=1, channels=2, count=8, positive=3)
    image = write_scene(scene, tmp_path / "two.ome.tif", "ome")
    result = assistant(tmp_path).run("what percentage of the nuclei are positive for the marker in the second "
                                     "channel?", image)
    assert result.ok and result.values["positive_percent"]["value"] == pytest.approx(scene.truth["positive_percent"])
    cutoff = result.values["marker_threshold"]["value"]
    assert any(f"above {cutoff:.4g} (the middle of the widest gap between two groups of object means)" in a
               for a in result.answer)
    stated = result.plan.model_copy(deep=True)  # type: ignore[union-attr]
    next(m for m in stated.measurements if m.kind == "positivity").threshold = 1e9
    again = assistant(tmp_path).run("", image, plan=stated)
    assert again.ok and again.values["positive_count"]["value"] == 0
    assert any("above 1e+09 (the value the request gave)" in a for a in again.answer)


def test_make_plan_reads_the_planes_as_the_run_does(tmp_path: Path) -> None:
    from scopebot.code.inputs import image_meta

    meta = image_meta(write_plain(tmp_path / "movie.tif", moving_spot()))
    plan, notes = assistant(tmp_path).make_plan("This movie has 0.4 um pixels. Area of the spot in frame 2?", meta)
    assert (plan.meta.axes, plan.meta.t, plan.inputs.time) == ("TYX", 20, 1)  # the MCP plan-only view plans here
    assert "axes='TYX'" in compile_plan(plan) and any("time points" in n for n in notes)
