"""Positivity without a stated threshold: a cutoff from the objects' mean marker intensities and the background,
which one very bright (or dim) object cannot move, and no `ok` when the split is not clear.

Tryout round 18: Otsu over the whole marker image put the cutoff just above nine clearly positive nuclei because
one nucleus was 12x brighter than the rest: 100 % positive answered 10 %, 50 % answered 10 %, both `ok`.
Synthetic images with known truth; each test fails on the Otsu cutoff.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.code.assistant import CodeAssistant
from scopebot.code.blocks.measure import marker_cutoff, positive_objects
from scopebot.code.scenes import make_scene
from scopebot.llm.scripted import ScriptedModel
from tests.unit.code_fakes import ExecSandbox


def cells(marker_values: list[float], background: float = 20.0, noise: float = 4.0, seed: int = 11,
          nucleus: float = 800.0) -> tuple[np.ndarray, np.ndarray]:
    """(labels, 2-channel CYX image): one disc of radius 10 px per value, on a 4-column grid; channel 2 holds the
    value inside the disc and ``background`` outside, both with Gaussian noise."""
    rows = (len(marker_values) + 3) // 4
    size_y, size_x = 40 + 70 * rows, 250
    yy, xx = np.mgrid[:size_y, :size_x]
    labels = np.zeros((size_y, size_x), np.int32)
    nuclei = np.full((size_y, size_x), 50.0)
    marker = np.full((size_y, size_x), background)
    for i, value in enumerate(marker_values):
        disc = (yy - (40 + 70 * (i // 4))) ** 2 + (xx - (30 + 55 * (i % 4))) ** 2 <= 100
        labels[disc] = i + 1
        nuclei[disc] = nucleus
        marker[disc] = value
    rng = np.random.default_rng(seed)
    image = np.stack([nuclei, marker]) + rng.normal(0, noise, (2, size_y, size_x))
    return labels, image.clip(0)


#: (marker means of the objects, background, how many are positive)
CASES = {
    "all positive, one 12x brighter (tryout)": ([5000] + [400] * 9, 20, 10),
    "half positive, one 12x brighter (tryout)": ([5000] + [400] * 4 + [60] * 5, 20, 5),
    "half positive (tryout, no outlier)": ([400] * 6 + [100] * 6, 20, 6),
    "one positive of eight": ([1100] + [130] * 7, 100, 1),
    "all negative": ([130] * 8, 100, 0),
    "all positive": ([1100] * 8, 100, 8),
    "two very bright, six positive, four negative": ([9000, 8000] + [600] * 6 + [40] * 4, 25, 8),
    "nine positive, one at the background": ([400] * 9 + [22], 20, 9),
    "positives spread over a factor 3": ([300, 450, 600, 900, 700, 380] + [30, 35, 28, 33], 20, 6),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_cutoff_separates_positive_and_negative_objects(case: str) -> None:
    values, background, truth = CASES[case]
    labels, image = cells(values, background)
    cutoff, rule, clear, found_background = marker_cutoff(labels, image[1])
    positive, _ = positive_objects(labels, image[1], cutoff)
    assert int(positive.sum()) == truth
    assert clear and rule in (1, 2, 3)
    assert found_background == pytest.approx(background, abs=2)


@pytest.mark.parametrize("seed", [1, 4, 9, 21])
@pytest.mark.parametrize("positive", [1, 3, 5, 8])
def test_the_cutoff_is_right_on_the_eval_scenes(seed: int, positive: int) -> None:
    from scopebot.code.blocks.segment import label_objects, threshold_mask

    scene = make_scene("nuclei", seed=seed, channels=2, count=8, positive=positive)
    labels = label_objects(threshold_mask(scene.data[0].astype(float)))
    cutoff, _, clear, _ = marker_cutoff(labels, scene.data[1])
    assert clear and int(positive_objects(labels, scene.data[1].astype(float), cutoff)[0].sum()) == positive


@pytest.mark.parametrize("values", [[40 + 45 * i for i in range(12)],  # an even ramp from background up
                                    [30] * 6 + [35] * 4])  # just above the background: positive or not?
def test_no_clear_split_is_said(values: list[float]) -> None:
    labels, image = cells(values, background=20)
    _, _, clear, _ = marker_cutoff(labels, image[1])
    assert not clear


def test_a_three_dimensional_label_image_works() -> None:
    labels, image = cells([5000] + [400] * 9, 20)
    stack_labels = np.stack([labels] * 3)
    stack = np.stack([image[1]] * 3)
    cutoff, rule, clear, _ = marker_cutoff(stack_labels, stack)
    assert clear and rule == 2 and int(positive_objects(stack_labels, stack, cutoff)[0].sum()) == 10


# --- end to end --------------------------------------------------------------------------------------------
def write_ome(path: Path, image: np.ndarray) -> Path:
    import tifffile

    tifffile.imwrite(path, image.astype(np.uint16), ome=True,
                     metadata={"axes": "CYX", "PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3,
                               "Channel": {"Name": ["DAPI", "GFP"]}})
    return path


def assistant(tmp_path: Path) -> CodeAssistant:
    return CodeAssistant(ScriptedModel(["never asked"], is_small=True), ExecSandbox(tmp_path), None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("values", "percent"), [([5000] + [400] * 9, 100.0), ([5000] + [400] * 4 + [60] * 5, 50.0),
                                                 ([400] * 6 + [100] * 6, 50.0)])
def test_percent_positive_with_a_very_bright_cell_is_right_end_to_end(tmp_path: Path, values: list[float],
                                                                      percent: float) -> None:
    _, image = cells(values)
    result = assistant(tmp_path).run("what percentage of nuclei are GFP positive?", write_ome(tmp_path / "c.ome.tif",
                                                                                              image))
    assert result.ok, (result.problems, result.notes)
    assert result.values["positive_percent"]["value"] == pytest.approx(percent)  # Otsu said 10 % for the first two
    cutoff = result.values["marker_threshold"]["value"]
    assert any(f"above {cutoff:.4g} (" in a for a in result.answer)


def test_an_unclear_split_is_not_claimed_ok(tmp_path: Path) -> None:
    _, image = cells([40 + 45 * i for i in range(12)])
    result = assistant(tmp_path).run("what percentage of nuclei are GFP positive?", write_ome(tmp_path / "r.ome.tif",
                                                                                              image))
    assert not result.ok and not result.declined
    assert any("do not split clearly" in p and "positive above 300" in p for p in result.problems)


def test_a_stated_threshold_is_used_as_given(tmp_path: Path) -> None:
    _, image = cells([40 + 45 * i for i in range(12)])
    path = write_ome(tmp_path / "r.ome.tif", image)
    result = assistant(tmp_path).run("what percentage of nuclei are GFP positive?", path)
    assert result.plan is not None
    stated = result.plan.model_copy(deep=True)
    next(m for m in stated.measurements if m.kind == "positivity").threshold = 300
    again = assistant(tmp_path).run("", path, plan=stated)
    assert again.ok and again.values["positive_count"]["value"] == 6  # 310 ... 535
    assert any("(the value the request gave)" in a for a in again.answer)
