"""Each recipe on a synthetic image with a known answer, plus recipe selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scopebot.code.library import RecipeLibrary
from scopebot.code.recipes import (
    background_subtraction,
    colocalisation,
    count_nuclei,
    deep_learning_segmentation,
    denoise,
    load_image,
    max_projection,
    threshold,
    tracking,
    watershed_split,
)
from scopebot.code.synthetic import draw_disks, make_nuclei_image, write_ome_tiff


def test_load_ome_tiff_reads_pixel_size(tmp_path: Path) -> None:
    image, truth = make_nuclei_image(count=3, shape=(64, 64), radius=5)
    path = write_ome_tiff(tmp_path / "a.ome.tif", image, 0.325)
    pixels, size = load_image.load_image(path)
    assert pixels.shape == (64, 64)
    assert np.array_equal(pixels, image)
    assert size == pytest.approx(0.325)


def test_load_imagej_tiff_and_png(tmp_path: Path) -> None:
    import tifffile
    from PIL import Image

    img = (np.arange(100, dtype=np.uint8).reshape(10, 10))
    tifffile.imwrite(tmp_path / "ij.tif", img, imagej=True, resolution=(1 / 0.2, 1 / 0.2),
                     metadata={"unit": "um"})
    pixels, size = load_image.load_image(tmp_path / "ij.tif")
    assert size == pytest.approx(0.2)
    Image.fromarray(img).save(tmp_path / "a.png")
    pixels, size = load_image.load_image(tmp_path / "a.png")
    assert size is None and np.array_equal(pixels, img)
    assert "pixel size=unknown" in load_image.describe(pixels, size)


def test_max_projection_takes_the_maximum() -> None:
    stack = np.zeros((4, 8, 8), dtype=np.uint16)
    stack[2, 3, 3] = 900
    stack[0, 5, 5] = 100
    mip = max_projection.max_project(stack)
    assert mip.shape == (8, 8) and mip[3, 3] == 900 and mip[5, 5] == 100 and mip.sum() == 1000
    assert max_projection.max_project(mip) is mip or np.array_equal(max_projection.max_project(mip), mip)


@pytest.mark.parametrize("method", ["rolling_ball", "gaussian"])
def test_background_subtraction_removes_a_gradient(method: str) -> None:
    yy, xx = np.mgrid[:128, :128]
    background = 100 + 0.5 * xx
    spots = 500 * draw_disks((128, 128), [(64, 64)], 4)
    corrected, estimate = background_subtraction.subtract_background(background + spots, radius=20, method=method)
    assert corrected[64, 64] > 300  # the spot stays
    assert np.median(corrected) < 0.1 * np.median(background)  # the gradient goes


@pytest.mark.parametrize("method", ["gaussian", "median", "nl_means"])
def test_denoise_reduces_noise(method: str) -> None:
    rng = np.random.default_rng(0)
    clean = np.full((64, 64), 100.0)
    noisy = clean + rng.normal(0, 10, clean.shape)
    out = denoise.denoise(noisy, method)
    assert np.std(out - clean) < 0.6 * np.std(noisy - clean)


@pytest.mark.parametrize("method", ["otsu", "li", "triangle", "yen", "mean"])
def test_threshold_recovers_the_disks(method: str) -> None:
    image, truth = make_nuclei_image(count=6, shape=(128, 128), radius=8, noise=20)
    mask, value = threshold.threshold(image, method)
    expected = draw_disks(truth.shape, truth.centers, truth.radius_px) > 0
    assert truth.background < value < truth.foreground
    assert (mask == expected).mean() > (0.97 if method in ("otsu", "li", "mean") else 0.9)


def test_threshold_rejects_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        threshold.threshold(np.zeros((4, 4)), "magic")


def test_count_nuclei_counts_and_measures() -> None:
    image, truth = make_nuclei_image(count=12, radius=9)
    labels = count_nuclei.segment(image)
    table = count_nuclei.measure_objects(labels, image, truth.pixel_size_um)
    assert len(table) == 12
    assert table["area"].mean() == pytest.approx(truth.area_px, rel=0.15)
    assert table["area_um2"].mean() == pytest.approx(truth.area_px * 0.25, rel=0.15)
    assert table["mean_intensity"].min() > truth.background


def test_watershed_splits_two_touching_disks() -> None:
    from skimage import measure

    mask = draw_disks((80, 120), [(40, 45), (40, 72)], 15) > 0
    assert measure.label(mask).max() == 1  # they touch
    labels = watershed_split.split_touching(mask)
    assert labels.max() == 2
    sizes = np.bincount(labels.ravel())[1:]
    assert abs(int(sizes[0]) - int(sizes[1])) < 0.1 * sizes.mean()


def test_colocalisation_known_cases() -> None:
    a = 1000 * draw_disks((64, 64), [(20, 20)], 6)
    same = a.copy()
    apart = 1000 * draw_disks((64, 64), [(45, 45)], 6)
    assert colocalisation.pearson(a, same) == pytest.approx(1.0)
    assert colocalisation.pearson(a, apart) < 0
    assert colocalisation.manders(a, same) == pytest.approx((1.0, 1.0), abs=0.05)
    m1, m2 = colocalisation.manders(a, apart)
    assert m1 < 0.05 and m2 < 0.05
    ch1, ch2 = colocalisation.split_channels(np.stack([a, apart]))
    assert np.array_equal(ch1, a) and np.array_equal(ch2, apart)


def test_tracking_links_moving_disks() -> None:
    starts = [(20, 20), (60, 30), (30, 90)]
    movie = np.stack([1000 * draw_disks((100, 120), [(y + 2 * t, x + 3 * t) for y, x in starts], 4)
                      for t in range(5)])
    detections = [tracking.detect(frame) for frame in movie]
    tracks = tracking.link(detections, max_distance=10)
    assert len(tracks) == 3 and all(len(t) == 5 for t in tracks)
    table = tracking.tracks_table(tracks)
    assert table.loc[table.step > 0, "step"].to_numpy() == pytest.approx(np.hypot(2, 3), abs=0.2)


def test_deep_learning_recipe_explains_and_falls_back() -> None:
    image, truth = make_nuclei_image(count=5, shape=(96, 96), radius=7)
    status = deep_learning_segmentation.deep_learning_status()
    labels, method, messages = deep_learning_segmentation.segment_nuclei(image)
    if status["cellpose"] is not None and status["stardist"] is not None:
        assert method == "otsu (fallback)"
        assert any("pip install" in m or "weights" in m for m in messages)
        assert labels.max() == truth.count


@pytest.mark.parametrize(("request_text", "expected"), [
    ("count the nuclei", "count_nuclei"),
    ("how many cells are there in my image?", "count_nuclei"),
    ("split touching nuclei", "watershed_split"),
    ("max projection of a z-stack", "max_projection"),
    ("Pearson and Manders colocalisation of two channels", "colocalisation"),
    ("track cells over time in a movie", "tracking"),
    ("subtract the uneven background", "background_subtraction"),
    ("denoise my image with a median filter", "denoise"),
    ("otsu threshold", "threshold"),
    ("segment with cellpose", "deep_learning_segmentation"),
    ("open an OME-TIFF and read the pixel size", "load_image"),
])
def test_recipe_selection(request_text: str, expected: str) -> None:
    best = RecipeLibrary().best(request_text)
    assert best is not None and best.name == expected


def test_unrelated_request_matches_no_recipe() -> None:
    assert RecipeLibrary().best("what is the weather tomorrow") is None


def test_scripts_are_standalone() -> None:
    lib = RecipeLibrary()
    assert len(lib) >= 10
    for name in lib.recipes:
        script = lib.script(name)
        assert "scopebot" not in script.split('"""', 2)[-1], name  # the inline import was replaced
        assert "def load_image" in script
        compile(script, name, "exec")
