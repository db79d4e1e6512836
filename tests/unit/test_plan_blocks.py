"""Every analysis block on synthetic images with known answers (the blocks the compiler copies)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scopebot.code.blocks import io, measure, preprocess, report, segment, select, track
from scopebot.code.scenes import make_scene, write_scene


def _segment(img: np.ndarray, min_size: int = 10, split: bool = False) -> np.ndarray:
    mask = segment.fill_holes(segment.threshold_mask(preprocess.smooth(img.astype(float), 1.0), "otsu"))
    labels = segment.split_touching(mask) if split else segment.label_objects(mask)
    return segment.filter_objects(labels, min_size=min_size)


@pytest.mark.parametrize("fmt", ["ome", "imagej"])
def test_metadata_from_ome_and_imagej(tmp_path: Path, fmt: str) -> None:
    scene = make_scene("nuclei_3d", seed=1, count=2)
    path = write_scene(scene, tmp_path / f"a.{fmt}.tif", fmt)  # type: ignore[arg-type]
    meta = io.read_metadata(path)
    assert meta["pixel_size_um"] == pytest.approx(0.5) and meta["z_step_um"] == pytest.approx(2.0)
    data, _ = io.load_image(path)
    assert data.shape == (1, 1, 16, 128, 128)
    lapse = write_scene(make_scene("moving_spot", seed=1), tmp_path / f"t.{fmt}.tif", fmt)  # type: ignore[arg-type]
    assert io.read_metadata(lapse)["time_step_s"] == pytest.approx(0.5)


def test_plain_tiff_has_no_calibration_and_axes_are_reordered(tmp_path: Path) -> None:
    path = write_scene(make_scene("nuclei", seed=1, channels=2, count=3), tmp_path / "p.tif", "plain")
    meta = io.read_metadata(path)
    assert meta["pixel_size_um"] is None and meta["axes"] == "CYX"
    arr = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)  # ZCYX
    out = io.to_tczyx(arr, "ZCYX")
    assert out.shape == (1, 3, 2, 4, 5) and out[0, 1, 0, 2, 3] == arr[0, 1, 2, 3]


def test_channel_pick_projection_and_range() -> None:
    data = np.zeros((1, 2, 3, 4, 4))
    data[0, 1, 2, 1, 1] = 7
    stack = select.pick_channel(data, 1)
    assert select.project(stack, "max")[1, 1] == 7 and select.project(stack, "sum")[1, 1] == 7
    assert select.z_range(stack, 0, 1).max() == 0
    with pytest.raises(ValueError, match="channel 3 does not exist"):
        select.pick_channel(data, 2)


def test_background_correction_recovers_spots_on_a_gradient() -> None:
    scene = make_scene("uneven_spots", seed=5, count=18)
    plain = _segment(scene.data)
    corrected = _segment(preprocess.subtract_background(scene.data.astype(float), 25))
    assert corrected.max() == 18 and plain.max() != 18


@pytest.mark.parametrize("seed", range(140, 150))
def test_background_correction_makes_no_objects_at_the_border(seed: int) -> None:
    """The steep side of the gradient meets the border: a naive opening leaves a false object there."""
    for count in (14, 18, 22):
        scene = make_scene("uneven_spots", seed=seed, count=count)
        assert _segment(preprocess.subtract_background(scene.data.astype(float), 25)).max() == count


def test_median_denoise_removes_hot_pixels() -> None:
    scene = make_scene("salt_pepper", seed=6, count=7)
    noisy = _segment(scene.data, min_size=0)
    clean = _segment(preprocess.denoise(scene.data.astype(float)), min_size=0)
    assert clean.max() == 7 and noisy.max() > 7


@pytest.mark.parametrize("method", ["otsu", "li", "triangle", "yen", "mean"])
def test_threshold_methods_find_the_disks(method: str) -> None:
    scene = make_scene("nuclei", seed=7, count=5)
    mask = segment.threshold_mask(preprocess.smooth(scene.data.astype(float), 1.0), method)
    assert segment.label_objects(mask).max() >= 5 or method == "mean"
    assert segment.threshold_mask(np.array([1.0, 5.0, 9.0]), "manual", 4).tolist() == [False, True, True]


def test_watershed_splits_touching_pairs() -> None:
    scene = make_scene("touching", seed=8, pairs=4)
    assert _segment(scene.data).max() == 4
    split = _segment(scene.data, split=True)
    assert split.max() == 8
    areas = np.bincount(split.ravel())[1:]
    assert areas.mean() == pytest.approx(scene.truth["mean_area_px"], rel=0.08)


def test_border_and_size_filters() -> None:
    scene = make_scene("nuclei", seed=9, count=6, border=2)
    labels = _segment(scene.data)
    assert labels.max() == 8
    assert segment.filter_objects(labels, exclude_border=True).max() == 6
    sized = make_scene("nuclei", seed=9, radii=[4, 4, 10, 10])
    lab = _segment(sized.data, min_size=0)
    assert segment.filter_objects(lab, min_size=100).max() == 2
    assert segment.filter_objects(lab, max_size=100).max() == 2


def test_object_table_volumes_in_um3_on_an_anisotropic_stack() -> None:
    scene = make_scene("nuclei_3d", seed=10, count=4)
    labels = _segment(scene.data, min_size=20)
    table = measure.object_table(labels, (2.0, 0.5, 0.5))
    assert len(table) == 4
    assert sorted(table["volume_um3"]) == pytest.approx(sorted(scene.truth["volumes_um3"]), rel=0.15)


def test_intensity_of_another_channel_inside_objects() -> None:
    scene = make_scene("nuclei", seed=11, channels=2, count=5)
    labels = _segment(scene.data[0])
    means = measure.mean_intensity(labels, scene.data[1].astype(float))
    assert sorted(means) == pytest.approx(scene.truth["intensities_c2"], rel=0.05)


def test_shape_skeleton_and_distances() -> None:
    shapes = make_scene("shapes", seed=12)
    ecc = sorted(measure.shape_table(_segment(shapes.data))["eccentricity"])
    assert ecc[:3] == pytest.approx([0, 0, 0], abs=0.15) and ecc[3:] == pytest.approx([0.968] * 3, abs=0.05)
    ratio = sorted(measure.shape_table(_segment(shapes.data))["aspect_ratio"])
    assert ratio[:3] == pytest.approx([1, 1, 1], abs=0.1) and ratio[3:] == pytest.approx([4, 4, 4], rel=0.1)
    fil = make_scene("filaments", seed=13, lengths=(30, 60))
    lengths = measure.skeleton_lengths(_segment(fil.data))
    assert sorted(lengths) == pytest.approx(fil.truth["lengths_px"], rel=0.06)
    grid = make_scene("grid", seed=14, spacing=20, n=3)
    table = measure.object_table(_segment(grid.data))
    nn = measure.nearest_neighbour_distances(table[["y_px", "x_px"]].to_numpy())
    assert nn == pytest.approx([20.0] * 9, abs=0.5)
    assert measure.nearest_neighbour_distances([[0, 0]], [[3, 4]])[0] == pytest.approx(5.0)


def test_positivity_and_colocalisation() -> None:
    scene = make_scene("nuclei", seed=15, channels=2, count=8, positive=3)
    labels = _segment(scene.data[0])
    positive, _ = measure.positive_objects(labels, scene.data[1].astype(float), 500)
    assert positive.sum() == 3
    same = make_scene("coloc", seed=16, same=True)
    assert measure.colocalisation(same.data[0], same.data[1])["pearson_r"] > 0.9
    diff = make_scene("coloc", seed=16, same=False)
    assert measure.colocalisation(diff.data[0], diff.data[1])["pearson_r"] < 0.2


def test_tracking_speed_and_path_length() -> None:
    scene = make_scene("moving_spot", seed=17, spots=2, step=(0.0, 3.0))
    points = [measure.object_table(_segment(frame))[["y_px", "x_px"]].to_numpy() for frame in scene.data]
    tracks = track.link_tracks(points)
    table = track.track_table(tracks, pixel_size=0.2, time_step=0.5)
    assert len(table) == 2 and (table["frames"] == 10).all()
    assert table["speed_um_per_s"].tolist() == pytest.approx([1.2, 1.2], rel=0.03)
    assert table["path_length_px"].tolist() == pytest.approx([27.0, 27.0], rel=0.03)


def test_report_prints_units_and_one_json_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import pandas as pd

    result_file = tmp_path / report.RESULT_FILE
    report.report({"count": (3, "objects"), "mean_area": (12.5, "um^2")}, pd.DataFrame({"area_um2": [1.0, 2.0]}),
                  table_path=str(tmp_path / "results.csv"), result_path=str(result_file))
    out = capsys.readouterr().out
    assert "count: 3 objects" in out and "mean_area: 12.5 um^2" in out
    data = json.loads(out.strip().splitlines()[-1].removeprefix(report.RESULT_PREFIX))
    assert data["summary"]["mean_area"] == {"value": 12.5, "unit": "um^2"}
    assert data["columns_file"] == str(result_file)
    saved = json.loads(result_file.read_text())
    assert saved["columns"]["area_um2"] == [1, 2] and (tmp_path / "results.csv").is_file()


def test_ome_channel_names_are_read(tmp_path: Path) -> None:
    scene = make_scene("nuclei", seed=3, channels=2, count=3, names=["DAPI", "GFP"])
    assert io.read_metadata(write_scene(scene, tmp_path / "n.ome.tif", "ome"))["channel_names"] == ["DAPI", "GFP"]
    assert io.read_metadata(write_scene(scene, tmp_path / "n.tif", "plain"))["channel_names"] == []


def test_intensity_statistics_inside_objects() -> None:
    scene = make_scene("nuclei", seed=5, channels=2, count=6, noise=0)  # noise-free disks of 100, 200, ...
    labels = _segment(scene.data[0])  # the smoothed mask takes in a thin ring of background (100)
    signal = scene.data[1].astype(float)
    want = scene.truth["intensities_c2"]
    assert sorted(measure.object_intensity(labels, signal, "max")) == pytest.approx(want, abs=1e-6)
    assert sorted(measure.object_intensity(labels, signal, "median")) == pytest.approx(want, abs=1e-6)
    assert sorted(measure.object_intensity(labels, signal, "mean")) == pytest.approx(want, rel=0.05)
    assert set(measure.object_intensity(labels, signal, "min")) == {100.0}
    noisy = make_scene("nuclei", seed=5, channels=2, count=6)
    labels = _segment(noisy.data[0])
    integrated = measure.object_intensity(labels, noisy.data[1].astype(float), "sum")
    assert sorted(integrated) == pytest.approx(sorted(noisy.truth["integrated_c2"]), rel=0.1)
    assert sorted(measure.object_intensity(labels, noisy.data[1].astype(float), "median")) == pytest.approx(
        want, abs=10)


def test_shape_perimeter_and_axis_lengths_in_px_and_um() -> None:
    shapes = make_scene("shapes", seed=4)
    labels = _segment(shapes.data)
    table = measure.shape_table(labels)
    for column, truth in (("perimeter_px", "perimeters_px"), ("major_axis_px", "major_axes_px"),
                          ("minor_axis_px", "minor_axes_px"), ("equivalent_diameter_px", "diameters_px")):
        assert sorted(table[column]) == pytest.approx(sorted(shapes.truth[truth]), rel=0.08), column
    in_um = measure.shape_table(labels, pixel_size=0.5)
    assert sorted(in_um["major_axis_um"]) == pytest.approx([0.5 * v for v in sorted(shapes.truth["major_axes_px"])],
                                                           rel=0.08)
